/**
 * An abort signal that follows others, for one operation, in place of `AbortSignal.any`.
 *
 * On Node.js 20, each `AbortSignal.any([parent, ...])` leaves an entry in `parent` that is never freed while `parent`
 * lives: a million calls under one signal kept 50 MB of heap on Node.js 20.20, and none on Node.js 24. A run's signal
 * (or a daemon's) outlives every request made under it, and a first sync makes three to four requests per file: on
 * Node.js 20 a first sync of 100k files peaked at 230 MiB RSS with `AbortSignal.any` and at 180 MiB without it, and
 * one of a million files held 166 MB of heap at 480k files, still growing (docs/BENCHMARKS.md). Known upstream as
 * nodejs/node#55351; a combined signal that is listened to (undici listens to a request's) could still pile up on
 * later lines until nodejs/node#64476 was fixed. Here a listener is added to each signal followed, and `release`
 * removes them once the operation is over: nothing is left behind on any Node.js line.
 */

export interface FollowedAbort {
  /** Aborted when any of the signals followed aborts, with its reason. */
  readonly signal: AbortSignal;
  /** Stops following (call it once the operation is over, in `finally`). */
  release(): void;
}

/** A signal that aborts when any of `signals` (undefined ones are left out) aborts. */
export function followAbort(signals: readonly (AbortSignal | undefined)[]): FollowedAbort {
  const controller = new AbortController();
  const followed: AbortSignal[] = [];
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  const release = () => {
    for (const signal of followed) signal.removeEventListener('abort', onAbort);
    followed.length = 0;
  };
  for (const signal of signals) {
    if (signal === undefined) continue;
    if (signal.aborted) {
      release();
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    followed.push(signal);
  }
  return { signal: controller.signal, release };
}
