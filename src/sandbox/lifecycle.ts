import { setTimeout as delay } from 'node:timers/promises';

/** The sandbox's life: one signal that fires on close, and sleeps that end early when it does. */
export class Lifecycle {
  readonly #controller = new AbortController();

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get closed(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Resolves after `ms`; rejects (with an AbortError) when the sandbox closes first, or `signal` fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const combined = signal ? AbortSignal.any([this.#controller.signal, signal]) : this.#controller.signal;
    return delay(Math.max(0, ms), undefined, { signal: combined });
  }

  close(): void {
    this.#controller.abort();
  }
}
