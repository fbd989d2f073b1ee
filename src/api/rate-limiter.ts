import PQueue from 'p-queue';

/**
 * A limiter for `LanyingClientOptions.limiter` that starts at most `requestsPerSecond` attempts a second,
 * evenly spaced. Attempts already started are not counted against later seconds.
 */
export function createRateLimiter(requestsPerSecond: number): <T>(attempt: () => Promise<T>) => Promise<T> {
  if (!(requestsPerSecond > 0)) throw new TypeError(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  const queue = new PQueue({ intervalCap: 1, interval: Math.max(1, Math.round(1000 / requestsPerSecond)) });
  return <T>(attempt: () => Promise<T>) => queue.add(attempt) as Promise<T>;
}
