import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Job, Scheduler } from '../../src/daemon/scheduler.js';

const DAY = 86_400_000;

function scheduler() {
  const jobs: Job[] = [];
  const s = new Scheduler({
    execute: async (job) => {
      jobs.push(job);
    },
    onError: (_job, error) => {
      throw error;
    },
    random: () => 0.5, // no jitter
  });
  return { s, jobs };
}

// The daemon's waits come from the configuration ("30d" is valid): each must fire once, when due.
describe('Scheduler: long intervals', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a "30d" reconcile interval once after 30 days, not 1,766 times in 10 s', async () => {
    const { s, jobs } = scheduler();
    s.setReconcileInterval(30 * DAY);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(jobs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(30 * DAY - 10_001);
    expect(jobs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(jobs).toEqual([{ kind: 'reconcile', sources: null, reasons: ['periodic'] }]);
    await s.close();
  });

  it('checks a URL source with a "30d" refreshInterval once after 30 days', async () => {
    const { s, jobs } = scheduler();
    s.scheduleRefresh('site', 30 * DAY);
    await vi.advanceTimersByTimeAsync(8_000);
    expect(jobs).toHaveLength(0);
    expect(s.nextRefreshAt('site')).toBe(Date.now() - 8_000 + 30 * DAY);
    await vi.advanceTimersByTimeAsync(30 * DAY);
    expect(jobs).toEqual([{ kind: 'refresh', sources: ['site'] }]);
    await s.close();
  });

  it('debounces a reconcile request for 40 days as one wait', async () => {
    const { s, jobs } = scheduler();
    s.requestReconcile('docs', 'later', 40 * DAY);
    await vi.advanceTimersByTimeAsync(39 * DAY);
    expect(jobs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(jobs).toEqual([{ kind: 'reconcile', sources: ['docs'], reasons: ['later'] }]);
    await s.close();
  });
});
