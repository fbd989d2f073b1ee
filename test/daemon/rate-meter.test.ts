import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../src/daemon/rate-meter.js';

describe('RateMeter', () => {
  it('averages sends, failures and bytes over its window, forgetting what is older', () => {
    let now = 1_000_000;
    const meter = new RateMeter({ windowSeconds: 60, now: () => now });
    expect(meter.snapshot()).toEqual({ windowSeconds: 60, sentPerMinute: 0, failedPerMinute: 0, bytesPerSecond: 0 });
    for (let i = 0; i < 30; i++) {
      meter.sent(600);
      now += 1000;
    }
    meter.failed();
    expect(meter.snapshot()).toEqual({ windowSeconds: 60, sentPerMinute: 30, failedPerMinute: 1, bytesPerSecond: 300 });
    now += 45_000; // the first 15 sends are now older than a minute
    expect(meter.snapshot()).toMatchObject({ sentPerMinute: 14, bytesPerSecond: 140 });
    now += 3_600_000; // a bucket reused an hour later starts from zero
    meter.sent(60);
    expect(meter.snapshot()).toEqual({ windowSeconds: 60, sentPerMinute: 1, failedPerMinute: 0, bytesPerSecond: 1 });
  });
});
