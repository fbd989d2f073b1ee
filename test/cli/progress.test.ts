import { describe, expect, it } from 'vitest';
import { RunProgress } from '../../src/cli/progress.js';
import type { SyncEvent } from '../../src/sync/engine.js';

const entry = { action: 'new', source: 'docs', key: 'a.md', kind: 'file', bytes: 100, reason: 'first seen' } as const;

describe('RunProgress: every phase with its count, rate and ETA', () => {
  it('scan, check and send, each with a rate over the last seconds and an ETA once the total is known', () => {
    let now = 0;
    const progress = new RunProgress(() => now);
    const feed = (at: number, event: SyncEvent) => {
      now = at;
      progress.onEvent(event);
    };
    expect(progress.idle).toBe(true);
    feed(0, { type: 'observed', phase: 'scan', source: 'docs', done: 0 });
    feed(1000, { type: 'observed', phase: 'scan', source: 'docs', done: 5000 });
    expect(progress.describe()).toBe('1.0 s · scanning docs: 5,000 entries (5,000/s)');
    feed(2000, { type: 'observed', phase: 'scan', source: 'docs', done: 8000, total: 8000, items: 8000 });
    feed(3000, { type: 'checked', source: 'docs', items: 1000 });
    feed(4000, { type: 'checked', source: 'docs', items: 1000 });
    // 1,000 checked a second, 6,000 to go.
    expect(progress.describe()).toBe('4.0 s · checking 2,000/8,000 (1,000/s, ETA 6.0 s)');
    feed(4000, { type: 'progress', done: 0, total: 10, bytesDone: 0, bytesTotal: 1000 });
    feed(6000, { type: 'progress', done: 4, total: 10, bytesDone: 400, bytesTotal: 1000 });
    expect(progress.describe()).toBe('6.0 s · checking 2,000/8,000 (333/s, ETA 18.0 s) · sending 4/10+, 400 B/1000 B (2.0/s, 200 B/s)');
    feed(6000, { type: 'failed', entry, error: new Error('x') });
    feed(7000, { type: 'checked', source: 'docs', items: 6000 });
    feed(7000, { type: 'planned', sources: ['docs'], toSend: 10, bytes: 1000 });
    feed(8000, { type: 'progress', done: 8, total: 10, bytesDone: 800, bytesTotal: 1000 });
    // Every source observed: the send total is final, and its ETA shows.
    expect(progress.describe()).toBe('8.0 s · checked 8,000 · sending 8/10, 800 B/1000 B (2.0/s, ETA 1.0 s, 200 B/s) · 1 failed');
  });

  it('a fetch shows URLs of the total; a rate falls when nothing happens', () => {
    let now = 0;
    const progress = new RunProgress(() => now);
    progress.onEvent({ type: 'observed', phase: 'fetch', source: 'web', done: 0, total: 40, items: 40, bytes: 0 });
    now = 2000;
    progress.onEvent({ type: 'observed', phase: 'fetch', source: 'web', done: 10, total: 40, items: 40, bytes: 2048 });
    expect(progress.describe()).toBe('2.0 s · fetching web: 10/40 URLs, 2.0 KiB (5.0/s, ETA 6.0 s) · checking 0/40');
    now = 4000;
    expect(progress.describe()).toBe('4.0 s · fetching web: 10/40 URLs, 2.0 KiB (2.5/s, ETA 12.0 s) · checking 0/40');
  });
});
