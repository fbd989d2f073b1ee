import { describe, expect, it } from 'vitest';
import { RetryPolicy } from '../../src/daemon/retry-policy.js';

describe('RetryPolicy: when the daemon tries a source with failures again', () => {
  const cases: { name: string; baseMs: number; capMs: number; delays: number[] }[] = [
    { name: 'doubles from baseMs with each retry that failed again', baseMs: 100, capMs: 0, delays: [100, 200, 400, 800, 1600] },
    { name: 'never waits longer than the reconcile interval', baseMs: 100, capMs: 500, delays: [100, 200, 400, 500, 500] },
    { name: 'waits the interval at once when baseMs is longer', baseMs: 1000, capMs: 300, delays: [300, 300] },
    { name: 'waits exactly the interval when the doubling reaches it', baseMs: 250, capMs: 1000, delays: [250, 500, 1000, 1000] },
  ];
  for (const { name, baseMs, capMs, delays } of cases) {
    it(`${name}: base ${baseMs}, cap ${capMs} → ${delays.join(', ')}`, () => {
      const policy = new RetryPolicy({ baseMs, capMs: () => capMs });
      expect(delays.map(() => policy.next('docs'))).toEqual(delays);
    });
  }

  it('stops doubling after 16 retries (no overflow to Infinity without a cap)', () => {
    const policy = new RetryPolicy({ baseMs: 1, capMs: () => 0 });
    const delays = Array.from({ length: 20 }, () => policy.next('docs'));
    expect(delays.slice(15)).toEqual([2 ** 15, 2 ** 16, 2 ** 16, 2 ** 16, 2 ** 16]);
  });

  it('counts each source on its own, and starts again from baseMs after a success', () => {
    const policy = new RetryPolicy({ baseMs: 100, capMs: () => 0 });
    expect([policy.next('a'), policy.next('a'), policy.next('b'), policy.next('a')]).toEqual([100, 200, 100, 400]);
    policy.reset('a');
    expect([policy.next('a'), policy.next('b')]).toEqual([100, 200]);
  });

  it('reads the cap at each retry (a reload may change the reconcile interval)', () => {
    let cap = 0;
    const policy = new RetryPolicy({ baseMs: 100, capMs: () => cap });
    expect(policy.next('docs')).toBe(100);
    cap = 150;
    expect(policy.next('docs')).toBe(150);
    cap = 0;
    expect(policy.next('docs')).toBe(400);
  });
});
