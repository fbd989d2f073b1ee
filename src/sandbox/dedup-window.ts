/**
 * Keys remembered for a time window: what `transaction_id` (message sends) and `request_id` (pushes) deduplicate
 * against. Entries older than the window are forgotten as new ones arrive, so memory stays bounded by traffic.
 */
export class DedupWindow<T> {
  #entries = new Map<string, { value: T; at: number }>();

  constructor(private readonly windowMs: number) {}

  /** The value remembered for `key`, when it was stored less than the window ago. */
  get(key: string, now: number): T | undefined {
    this.#prune(now);
    const entry = this.#entries.get(key);
    return entry && now - entry.at < this.windowMs ? entry.value : undefined;
  }

  set(key: string, value: T, now: number): void {
    // Re-inserted at the end, so the map stays in time order for pruning.
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: now });
  }

  clear(): void {
    this.#entries = new Map();
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now - entry.at < this.windowMs) break;
      this.#entries.delete(key);
    }
  }
}
