import { statSync } from 'node:fs';

/** What the batcher compares to tell a file that is still being written: its size and modification time. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

/** Options of `PathBatcher`. */
export interface PathBatcherOptions {
  /** Quiet time per path: every event for a path starts its wait again. */
  debounceMs: number;
  /** Paths that became due within this window of each other are handed over together (a rename's two paths). @default 25 */
  coalesceMs?: number | undefined;
  /** Receives the due paths of one source, each once. */
  onReady: (source: string, paths: string[]) => void;
  /** Most paths checked per timer tick, so that a burst never blocks the event loop long. @default 2000 */
  maxPerTick?: number | undefined;
  /** Reads a file's stamp; undefined when it is gone. @default a `statSync` */
  stat?: ((path: string) => FileStamp | undefined) | undefined;
  /** @default Date.now */
  now?: (() => number) | undefined;
}

interface Entry {
  source: string;
  path: string;
  dueAt: number;
  /** The stamp at the last event or check; `null`: the event said the path is gone; undefined: not known. */
  stamp: FileStamp | null | undefined;
}

/**
 * Coalesces file events per path. Each event (re)starts the path's quiet period (`debounceMs`); when it ends the
 * file's size and modification time are compared with those seen at the last event, and a file that changed in
 * between (still being written) waits another period. Due paths of a source are collected for `coalesceMs` and
 * handed over in one call, so that the two halves of a rename arrive together.
 *
 * Memory: one small entry per waiting path, in a Map kept in due order (a touched path moves to the end); one
 * timer for the whole batcher, however many paths wait.
 */
export class PathBatcher {
  #debounceMs: number;
  readonly #coalesceMs: number;
  readonly #onReady: (source: string, paths: string[]) => void;
  readonly #maxPerTick: number;
  readonly #stat: (path: string) => FileStamp | undefined;
  readonly #now: () => number;
  /** Waiting paths, oldest due first. Key: source NUL path. */
  readonly #waiting = new Map<string, Entry>();
  /** Due paths per source, handed over when the coalescing window ends. */
  readonly #ready = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #coalesceTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PathBatcherOptions) {
    this.#debounceMs = options.debounceMs;
    this.#coalesceMs = options.coalesceMs ?? 25;
    this.#onReady = options.onReady;
    this.#maxPerTick = options.maxPerTick ?? 2000;
    this.#stat = options.stat ?? statStamp;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records an event for `path` of `source`. `stamp`: the file's size and time as the event saw them (`null` for a
   * deletion; undefined when unknown, which costs one more quiet period).
   */
  touch(source: string, path: string, stamp?: FileStamp | null): void {
    if (this.#closed) return;
    const key = `${source}\u0000${path}`;
    const previous = this.#waiting.get(key);
    if (previous) this.#waiting.delete(key);
    const entry: Entry = { source, path, dueAt: this.#now() + this.#debounceMs, stamp: stamp === undefined ? previous?.stamp : stamp };
    this.#waiting.set(key, entry);
    this.#arm(entry.dueAt);
  }

  /** Paths waiting or due, of one source or of all. */
  size(source?: string): number {
    if (source === undefined) {
      let ready = 0;
      for (const set of this.#ready.values()) ready += set.size;
      return this.#waiting.size + ready;
    }
    let n = this.#ready.get(source)?.size ?? 0;
    for (const entry of this.#waiting.values()) if (entry.source === source) n++;
    return n;
  }

  /** Forgets every path of a source (removed from the configuration, or about to be reconciled as a whole). */
  drop(source: string): void {
    for (const [key, entry] of this.#waiting) if (entry.source === source) this.#waiting.delete(key);
    this.#ready.delete(source);
  }

  /** A new quiet period, for paths touched from now on. */
  setDebounce(ms: number): void {
    this.#debounceMs = ms;
  }

  /** Stops every timer and forgets every path (those are found again by the next reconcile). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#coalesceTimer);
    this.#timer = this.#coalesceTimer = undefined;
    this.#waiting.clear();
    this.#ready.clear();
  }

  #arm(at: number): void {
    if (this.#closed) return;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - this.#now()));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#closed) return;
    const now = this.#now();
    const again: Entry[] = [];
    let checked = 0;
    let next: number | undefined;
    for (const [key, entry] of this.#waiting) {
      if (entry.dueAt > now) {
        next = entry.dueAt;
        break;
      }
      if (checked >= this.#maxPerTick) {
        next = now;
        break;
      }
      checked++;
      this.#waiting.delete(key);
      const current = this.#stat(entry.path);
      if (current === undefined || (entry.stamp && entry.stamp.size === current.size && entry.stamp.mtimeMs === current.mtimeMs)) {
        this.#markReady(entry);
      } else {
        // Still being written (or its stamp was not known): wait another quiet period.
        entry.stamp = current;
        entry.dueAt = now + this.#debounceMs;
        again.push(entry);
      }
    }
    for (const entry of again) this.#waiting.set(`${entry.source}\u0000${entry.path}`, entry);
    // Note: the map is in due order while the debounce stays the same; after a change (a reload) a path may wait
    // up to one old quiet period longer than it should.
    if (next === undefined && again.length > 0) next = (again[0] as Entry).dueAt;
    if (next !== undefined) this.#arm(next);
  }

  #markReady(entry: Entry): void {
    let set = this.#ready.get(entry.source);
    if (!set) this.#ready.set(entry.source, (set = new Set()));
    set.add(entry.path);
    if (this.#coalesceTimer === undefined) this.#coalesceTimer = setTimeout(() => this.#flush(), this.#coalesceMs);
  }

  #flush(): void {
    this.#coalesceTimer = undefined;
    if (this.#closed) return;
    const ready = [...this.#ready];
    this.#ready.clear();
    for (const [source, paths] of ready) this.#onReady(source, [...paths]);
  }
}

function statStamp(path: string): FileStamp | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st ? { size: st.size, mtimeMs: st.mtimeMs } : undefined;
  } catch {
    // Unreadable (EACCES, ELOOP, ...): nothing to wait for; the engine reports it.
    return undefined;
  }
}
