import type { ResolvedSource } from '../sources/registry.js';
import type { SourceAdapter, SourceSession, SourceWatch, SourceWatchEvent, WatchFallback, WatchState } from '../sources/types.js';

/** Options of `WatcherSet`. */
export interface WatcherSetOptions {
  /** The adapter of a source. */
  adapterOf: (source: ResolvedSource) => SourceAdapter;
  /** The engine's lasting view of a source (its rules), shared with the watcher. */
  sessionOf: (source: ResolvedSource) => SourceSession;
  excludeDirs: () => readonly string[];
  onEvent: (source: string, event: SourceWatchEvent) => void;
  onFallback: (fallback: WatchFallback) => void;
  onError: (source: string, error: unknown) => void;
  pollIntervalMs?: number | undefined;
  rootCheckIntervalMs?: number | undefined;
  testHooks?: Record<string, unknown> | undefined;
}

/** The watchers of the daemon's sources: one per source whose type can watch. */
export class WatcherSet {
  readonly #watchers = new Map<string, SourceWatch>();
  readonly #options: WatcherSetOptions;

  constructor(options: WatcherSetOptions) {
    this.#options = options;
  }

  /** Whether a source is watched (rather than observed again on a schedule). */
  canWatch(source: ResolvedSource): boolean {
    return this.#options.adapterOf(source).watch !== undefined;
  }

  /** Starts watching `source` (nothing for a type that cannot watch). */
  start(source: ResolvedSource): SourceWatch | undefined {
    const adapter = this.#options.adapterOf(source);
    if (!adapter.watch) return undefined;
    const name = source.name;
    const watch = adapter.watch(source, this.#options.sessionOf(source), {
      onEvent: (event) => this.#options.onEvent(name, event),
      onFallback: this.#options.onFallback,
      onError: (error) => this.#options.onError(name, error),
      excludeDirs: this.#options.excludeDirs(),
      pollIntervalMs: this.#options.pollIntervalMs,
      rootCheckIntervalMs: this.#options.rootCheckIntervalMs,
      testHooks: this.#options.testHooks,
    });
    this.#watchers.set(name, watch);
    return watch;
  }

  /** A new watcher first, then the old one closed: no moment without one. */
  async restart(source: ResolvedSource): Promise<void> {
    const old = this.#watchers.get(source.name);
    const watch = this.start(source);
    await watch?.ready;
    await old?.close();
  }

  /** Stops watching a source. */
  async stop(name: string): Promise<void> {
    const watch = this.#watchers.get(name);
    this.#watchers.delete(name);
    await watch?.close();
  }

  get(name: string): SourceWatch | undefined {
    return this.#watchers.get(name);
  }

  /** The watcher state of every watched source. */
  states(): { source: string; state: WatchState }[] {
    return [...this.#watchers].map(([source, w]) => ({ source, state: w.state }));
  }

  /** Resolves when every watcher is watching (or could not start). */
  async ready(): Promise<void> {
    await Promise.all([...this.#watchers.values()].map((w) => w.ready));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#watchers.values()].map((w) => w.close()));
  }
}
