import PQueue from 'p-queue';
import { MAX_TIMER_STEP_MS } from '../util/timers.js';

/**
 * A limiter for `LanyingClientOptions.limiter` that starts at most `requestsPerSecond` attempts a second,
 * evenly spaced. Attempts already started are not counted against later seconds.
 */
export function createRateLimiter(requestsPerSecond: number): <T>(attempt: () => Promise<T>) => Promise<T> {
  if (!(requestsPerSecond > 0)) throw new TypeError(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  // Note: the interval is a Node timer, which cannot wait longer than 2^31 - 1 ms (a slower rate would run unbounded).
  const interval = Math.round(1000 / requestsPerSecond);
  if (interval > MAX_TIMER_STEP_MS) throw new TypeError(`requestsPerSecond must be at least ${1000 / MAX_TIMER_STEP_MS}, got ${requestsPerSecond}`);
  const queue = new PQueue({ intervalCap: 1, interval: Math.max(1, interval) });
  return <T>(attempt: () => Promise<T>) => queue.add(attempt) as Promise<T>;
}
