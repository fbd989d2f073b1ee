/**
 * Timers for waits of any length. Node's `setTimeout` takes at most 2^31 - 1 ms (about 24.8 days): a longer delay
 * fires after 1 ms instead (with a `TimeoutOverflowWarning`), so a "30d" interval would run in a busy loop.
 * `setLongTimeout` waits in steps of at most that long; every wait whose length a user or a server chooses goes
 * through it (the daemon's scheduler, retry and circuit-breaker waits, request and fetch deadlines).
 */

/** The longest delay one Node timer can wait. */
export const MAX_TIMER_STEP_MS = 2 ** 31 - 1;

/** A pending wait: `clear()` cancels it; `unref()` lets the process exit while it waits. */
export interface LongTimer {
  clear(): void;
  unref(): LongTimer;
  ref(): LongTimer;
}

/**
 * Calls `callback` once after `ms` milliseconds, for any `ms`: longer waits are made of steps of at most
 * {@link MAX_TIMER_STEP_MS}. `Infinity` never fires; a negative or NaN delay fires as soon as possible.
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimer {
  let remaining = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  let timer: NodeJS.Timeout | undefined;
  let referenced = true;
  let cleared = false;

  const arm = () => {
    const step = Math.min(remaining, MAX_TIMER_STEP_MS);
    timer = setTimeout(() => {
      remaining -= step;
      if (remaining > 0) arm();
      else {
        timer = undefined;
        callback();
      }
    }, step);
    if (!referenced) timer.unref();
  };
  arm();

  const handle: LongTimer = {
    clear() {
      if (cleared) return;
      cleared = true;
      clearTimeout(timer);
      timer = undefined;
    },
    unref() {
      referenced = false;
      timer?.unref();
      return handle;
    },
    ref() {
      referenced = true;
      timer?.ref();
      return handle;
    },
  };
  return handle;
}

/** Resolves after `ms` (any length), or rejects with the signal's reason when it fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timer.clear();
      reject(signal?.reason);
    };
    const timer = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** An AbortSignal that fires after `ms` (any length), like `AbortSignal.timeout`, and a `clear()` to stop its timer. */
export function deadlineSignal(ms: number, reason: () => unknown): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setLongTimeout(() => controller.abort(reason()), ms);
  return { signal: controller.signal, clear: () => timer.clear() };
}
