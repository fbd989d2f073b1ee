/** What the status page shows as the rate: documents and bytes over the last few minutes. */
export interface RateSnapshot {
  /** The window the rates are measured over. */
  windowSeconds: number;
  sentPerMinute: number;
  failedPerMinute: number;
  bytesPerSecond: number;
}

/**
 * Sends and failures of the last `windowSeconds`, in one-second buckets (a fixed ring: memory does not grow with the
 * rate). `now` is injectable for tests.
 */
export class RateMeter {
  readonly #window: number;
  readonly #now: () => number;
  readonly #second: Float64Array;
  readonly #sent: Float64Array;
  readonly #failed: Float64Array;
  readonly #bytes: Float64Array;

  constructor(options: { windowSeconds?: number; now?: () => number } = {}) {
    this.#window = options.windowSeconds ?? 300;
    this.#now = options.now ?? Date.now;
    this.#second = new Float64Array(this.#window).fill(-1);
    this.#sent = new Float64Array(this.#window);
    this.#failed = new Float64Array(this.#window);
    this.#bytes = new Float64Array(this.#window);
  }

  sent(bytes: number): void {
    const i = this.#bucket();
    this.#sent[i] = (this.#sent[i] ?? 0) + 1;
    this.#bytes[i] = (this.#bytes[i] ?? 0) + bytes;
  }

  failed(): void {
    const i = this.#bucket();
    this.#failed[i] = (this.#failed[i] ?? 0) + 1;
  }

  snapshot(): RateSnapshot {
    const now = Math.floor(this.#now() / 1000);
    let sent = 0;
    let failed = 0;
    let bytes = 0;
    for (let i = 0; i < this.#window; i++) {
      const second = this.#second[i] ?? -1;
      if (second < 0 || second <= now - this.#window || second > now) continue;
      sent += this.#sent[i] ?? 0;
      failed += this.#failed[i] ?? 0;
      bytes += this.#bytes[i] ?? 0;
    }
    const minutes = this.#window / 60;
    return {
      windowSeconds: this.#window,
      sentPerMinute: round(sent / minutes),
      failedPerMinute: round(failed / minutes),
      bytesPerSecond: Math.round(bytes / this.#window),
    };
  }

  #bucket(): number {
    const second = Math.floor(this.#now() / 1000);
    const i = second % this.#window;
    if (this.#second[i] !== second) {
      this.#second[i] = second;
      this.#sent[i] = 0;
      this.#failed[i] = 0;
      this.#bytes[i] = 0;
    }
    return i;
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
