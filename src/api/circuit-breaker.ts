import { setLongTimeout, type LongTimer } from '../util/timers.js';
import { ApiError, ConnectionError, RateLimitError, UnavailableError } from './errors.js';

/**
 * `closed`: attempts go out. `open`: the API looks down (or asked for a long pause); attempts wait until `retryAt`.
 * `half-open`: one attempt (the probe) goes out; the others wait for its outcome.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What the breaker knows, for status pages, logs and the sync engine. */
export interface BreakerSnapshot {
  state: BreakerState;
  /** Why it is not closed: no usable answer, or a Retry-After longer than `longRetryAfterMs`. */
  reason: 'unreachable' | 'rate-limited' | undefined;
  /** Failed attempts in a row (no connection, a timeout, HTTP 502/503/504). */
  consecutiveFailures: number;
  /** When it opened (epoch ms). */
  openedAt: number | undefined;
  /** When the next probe may go out (epoch ms), while open. */
  retryAt: number | undefined;
  /** The failure that opened it (or kept it open), one line. */
  lastError: string | undefined;
}

/** Options of the client's circuit breaker (`LanyingClientOptions.breaker`). */
export interface CircuitBreakerOptions {
  /** Failed attempts in a row that open the breaker. @default 5 */
  failureThreshold?: number | undefined;
  /** How long it first stays open; doubled after each failed probe, up to `maxOpenMs`. @default 2000 */
  openMs?: number | undefined;
  /** @default 60000 */
  maxOpenMs?: number | undefined;
  /** A 429 whose Retry-After is longer than this opens the breaker for the whole Retry-After. @default 60000 */
  longRetryAfterMs?: number | undefined;
  /**
   * How long one call waits for the breaker before it fails with `UnavailableError` (at once when the breaker will
   * stay open longer than that). `Infinity`: wait as long as it takes (a daemon). @default 120000
   */
  maxWaitMs?: number | undefined;
  /** @default Date.now */
  now?: (() => number) | undefined;
}

/** What an attempt's outcome means to the breaker. */
type Verdict = { kind: 'success' } | { kind: 'failure'; error: unknown } | { kind: 'rate-limited'; retryAfterMs: number; error: unknown } | { kind: 'neutral' };

/** Returned by `admit()`, handed back to `record()`. */
export interface BreakerTicket {
  /** This attempt is the one probe of a half-open breaker. */
  readonly probe: boolean;
}

export const BREAKER_DEFAULTS = Object.freeze({
  failureThreshold: 5,
  openMs: 2000,
  maxOpenMs: 60_000,
  longRetryAfterMs: 60_000,
  maxWaitMs: 120_000,
});

/**
 * A run-level circuit breaker for one client: after `failureThreshold` failed attempts in a row (no connection,
 * timeouts, HTTP 502/503/504), or a 429 whose Retry-After is longer than `longRetryAfterMs`, it opens. Attempts then
 * wait instead of piling up failures; when the open time is over one probe goes out, and its outcome closes the
 * breaker (any answer from the server) or opens it again for twice as long.
 *
 * The sync engine watches it (`onChange`, `state`, `whenClosed`) to pause its queue, and a one-shot run can stop
 * early with `unavailableError()`.
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly longRetryAfterMs: number;
  readonly maxWaitMs: number;
  readonly #initialOpenMs: number;
  readonly #maxOpenMs: number;
  readonly #now: () => number;

  #state: BreakerState = 'closed';
  #reason: BreakerSnapshot['reason'];
  #failures = 0;
  #openedAt: number | undefined;
  #retryAt: number | undefined;
  #lastError: string | undefined;
  #openMs: number;
  #probeOut = false;
  #timer: LongTimer | undefined;
  readonly #wakers = new Set<() => void>();
  readonly #listeners = new Set<(snapshot: BreakerSnapshot) => void>();

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = Math.max(1, options.failureThreshold ?? BREAKER_DEFAULTS.failureThreshold);
    this.#initialOpenMs = Math.max(0, options.openMs ?? BREAKER_DEFAULTS.openMs);
    this.#maxOpenMs = Math.max(this.#initialOpenMs, options.maxOpenMs ?? BREAKER_DEFAULTS.maxOpenMs);
    this.longRetryAfterMs = options.longRetryAfterMs ?? BREAKER_DEFAULTS.longRetryAfterMs;
    this.maxWaitMs = options.maxWaitMs ?? BREAKER_DEFAULTS.maxWaitMs;
    this.#now = options.now ?? Date.now;
    this.#openMs = this.#initialOpenMs;
  }

  get state(): BreakerState {
    return this.#state;
  }

  snapshot(): BreakerSnapshot {
    return {
      state: this.#state,
      reason: this.#reason,
      consecutiveFailures: this.#failures,
      openedAt: this.#openedAt,
      retryAt: this.#state === 'open' ? this.#retryAt : undefined,
      lastError: this.#lastError,
    };
  }

  /** Calls `listener` on every change of state (closed, open, half-open). Returns a function that removes it. */
  onChange(listener: (snapshot: BreakerSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves when the breaker is closed (at once when it is); rejects with the signal's reason. */
  whenClosed(signal?: AbortSignal): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const off = this.onChange((s) => {
        if (s.state !== 'closed') return;
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        off();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The error a run that gives up now should end with (exit code 75). */
  unavailableError(): UnavailableError {
    const retryAfterMs = this.#retryAt === undefined ? undefined : Math.max(0, this.#retryAt - this.#now());
    if (this.#reason === 'rate-limited') {
      return new UnavailableError('rate-limited', `the server asked to wait${retryAfterMs === undefined ? '' : ` ${Math.ceil(retryAfterMs / 1000)} s more`} (${this.#lastError ?? 'HTTP 429'})`, { retryAfterMs });
    }
    return new UnavailableError('unreachable', `${this.#failures} attempt(s) in a row failed, the last with: ${this.#lastError ?? 'no answer'}`, { retryAfterMs });
  }

  /**
   * Waits until an attempt may go out: at once while closed; while open, until the open time is over and this
   * attempt is the probe or another probe succeeded. Throws `UnavailableError` when that would take longer than
   * `maxWaitMs` (counted from `since`: the client passes when the call started waiting first, so that a call's
   * retries share one patience), and the signal's reason when it fires.
   */
  async admit(signal?: AbortSignal, since?: number): Promise<BreakerTicket> {
    if (this.#state === 'closed') return { probe: false };
    const deadline = (since ?? this.#now()) + this.maxWaitMs;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      // Note: read through the getter: the state changes while this call waits.
      const state = this.state;
      if (state === 'closed') return { probe: false };
      if (state === 'half-open' && !this.#probeOut) {
        this.#probeOut = true;
        return { probe: true };
      }
      const now = this.#now();
      if (now >= deadline || (state === 'open' && this.#retryAt !== undefined && this.#retryAt > deadline)) throw this.unavailableError();
      // Wake on a change of state, at the deadline, or when the open time ends (a timer of our own keeps the process
      // alive while a call waits; the breaker's own timer does not).
      const until = Math.min(deadline, state === 'open' && this.#retryAt !== undefined ? this.#retryAt : deadline);
      await this.#wait(until - now, signal);
    }
  }

  /** Records the outcome of an admitted attempt: `error` undefined for a success. */
  record(ticket: BreakerTicket, error?: unknown): void {
    const verdict = this.#verdict(error);
    if (ticket.probe) this.#probeOut = false;
    switch (verdict.kind) {
      case 'success':
        this.#failures = 0;
        if (this.#state !== 'closed') this.#close();
        return;
      case 'failure':
        this.#failures++;
        this.#lastError = oneLine(verdict.error);
        if (ticket.probe) this.#open('unreachable', this.#openMs * 2);
        else if (this.#state === 'closed' && this.#failures >= this.failureThreshold) this.#open('unreachable', this.#initialOpenMs);
        else if (this.#state === 'half-open') this.#wakeAll();
        return;
      case 'rate-limited':
        this.#lastError = oneLine(verdict.error);
        this.#open('rate-limited', verdict.retryAfterMs, true);
        return;
      default:
        // Neither an answer nor a connection failure (a local file error, an abort): the probe slot is free again.
        if (ticket.probe) this.#wakeAll();
    }
  }

  /** Stops the breaker's timer (the client is done). */
  dispose(): void {
    this.#timer?.clear();
    this.#timer = undefined;
  }

  #verdict(error: unknown): Verdict {
    if (error === undefined) return { kind: 'success' };
    if (error instanceof RateLimitError) {
      const after = error.retryAfterMs;
      return after !== undefined && after > this.longRetryAfterMs ? { kind: 'rate-limited', retryAfterMs: after, error } : { kind: 'success' };
    }
    if (error instanceof ConnectionError) return { kind: 'failure', error };
    if (error instanceof ApiError) return error.status === 502 || error.status === 503 || error.status === 504 ? { kind: 'failure', error } : { kind: 'success' };
    return { kind: 'neutral' };
  }

  #open(reason: 'unreachable' | 'rate-limited', ms: number, exact = false): void {
    const now = this.#now();
    const openMs = exact ? ms : Math.min(Math.max(ms, this.#initialOpenMs), this.#maxOpenMs);
    if (!exact) this.#openMs = openMs;
    const retryAt = now + openMs;
    // A long Retry-After is never shortened by a later, shorter opening.
    if (this.#state === 'open' && this.#retryAt !== undefined && this.#retryAt > retryAt) return;
    const changed = this.#state !== 'open';
    if (changed) this.#openedAt = now;
    this.#state = 'open';
    this.#reason = reason;
    this.#retryAt = retryAt;
    this.#timer?.clear();
    this.#timer = setLongTimeout(() => this.#halfOpen(), openMs).unref();
    if (changed) this.#emit();
    this.#wakeAll();
  }

  #halfOpen(): void {
    this.#timer = undefined;
    if (this.#state !== 'open') return;
    this.#state = 'half-open';
    this.#emit();
    this.#wakeAll();
  }

  #close(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#state = 'closed';
    this.#reason = undefined;
    this.#openedAt = undefined;
    this.#retryAt = undefined;
    this.#openMs = this.#initialOpenMs;
    this.#emit();
    this.#wakeAll();
  }

  #emit(): void {
    const snapshot = this.snapshot();
    for (const listener of [...this.#listeners]) listener(snapshot);
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        timer.clear();
        this.#wakers.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        timer.clear();
        this.#wakers.delete(done);
        reject(signal?.reason);
      };
      const timer = setLongTimeout(done, Math.max(0, ms));
      this.#wakers.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
