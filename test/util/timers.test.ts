import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_STEP_MS, setLongTimeout, sleep } from '../../src/util/timers.js';

const DAY = 86_400_000;

describe('setLongTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once after 30 days, not every millisecond (Node caps one timer at 2^31 - 1 ms)', () => {
    let fired = 0;
    setLongTimeout(() => fired++, 30 * DAY);
    vi.advanceTimersByTime(10_000);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(MAX_TIMER_STEP_MS);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(30 * DAY - MAX_TIMER_STEP_MS - 10_001);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    vi.advanceTimersByTime(60 * DAY);
    expect(fired).toBe(1);
  });

  it('fires short waits as setTimeout does, and never after clear(), also between steps', () => {
    let fired = 0;
    setLongTimeout(() => fired++, 50);
    vi.advanceTimersByTime(49);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);

    const long = setLongTimeout(() => fired++, 100 * DAY);
    vi.advanceTimersByTime(MAX_TIMER_STEP_MS + 5);
    long.clear();
    vi.advanceTimersByTime(200 * DAY);
    expect(fired).toBe(1);
  });

  it('never fires for Infinity, and fires at once for a negative or NaN delay', () => {
    let fired = 0;
    const never = setLongTimeout(() => fired++, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(1000 * DAY);
    expect(fired).toBe(0);
    never.clear();
    setLongTimeout(() => fired++, -5);
    setLongTimeout(() => fired++, Number.NaN);
    vi.advanceTimersByTime(0);
    expect(fired).toBe(2);
  });

  it('sleep() waits any length and rejects when aborted', async () => {
    const slept = sleep(40 * DAY);
    let done = false;
    void slept.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(39 * DAY);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(done).toBe(true);

    const controller = new AbortController();
    const aborted = sleep(40 * DAY, controller.signal);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
  });
});
