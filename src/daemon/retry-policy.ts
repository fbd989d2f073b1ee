/**
 * When the daemon tries a source again after failures: after `baseMs`, doubling with each retry in a row that found
 * failures again, never later than `capMs()` (the reconcile interval; no cap when it is 0).
 */
export class RetryPolicy {
  readonly #baseMs: number;
  readonly #capMs: () => number;
  /** Per source: retries in a row that found failures again. */
  readonly #streak = new Map<string, number>();

  constructor(options: { baseMs: number; capMs: () => number }) {
    this.#baseMs = options.baseMs;
    this.#capMs = options.capMs;
  }

  /** The delay of the next retry of `source` (and counts it). */
  next(source: string): number {
    const streak = this.#streak.get(source) ?? 0;
    this.#streak.set(source, streak + 1);
    const cap = this.#capMs() || Number.POSITIVE_INFINITY;
    return Math.min(cap, this.#baseMs * 2 ** Math.min(streak, 16));
  }

  /** `source` went well: its next retry waits `baseMs` again. */
  reset(source: string): void {
    this.#streak.delete(source);
  }
}
