import type { EventEmitter } from 'node:events';
import { type Stats, statSync } from 'node:fs';
import type { ChokidarOptions, FSWatcher, watch as ChokidarWatch } from 'chokidar';
import type { ResolvedFolderSource } from './config.js';
import type { PathFilter } from './path-filter.js';
import { FolderWatcher } from './folder-watcher.js';
import { isWatchLimitError, watchLimitHelp } from './inotify-help.js';
import type { SourceWatch, SourceWatchEvent, WatchFallback, WatchState } from '../types.js';

/** What a folder watcher reports (see `SourceWatchEvent`). */
export type WatchEvent = SourceWatchEvent;
export type WatcherState = WatchState;

/**
 * Makes a chokidar watcher; injectable so that tests can simulate a kernel limit. When one is given, every watcher
 * is made with it. @default on Linux a `FolderWatcher` (see `SourceWatcher`), else chokidar's `watch`
 */
export type WatcherFactory = (root: string, options: ChokidarOptions) => FSWatcher;

/** What `SourceWatcher` uses of a watcher: chokidar's `FSWatcher` or a `FolderWatcher`. */
type WatcherHandle = Pick<EventEmitter, 'on'> & { close(): Promise<void> };

export type WatcherFallback = WatchFallback;

/** Options of `SourceWatcher`. */
export interface SourceWatcherOptions {
  source: ResolvedFolderSource;
  /** The source's current filter (the engine's: the same rules as the scan). Called on every check. */
  filter: () => PathFilter;
  onEvent: (event: WatchEvent) => void;
  /** The kernel refused a watch (ENOSPC, EMFILE): the watcher switched to polling. */
  onFallback: (fallback: WatcherFallback) => void;
  /** Any other watcher error. */
  onError: (error: unknown) => void;
  /** Polling interval, when polling. @default 2000 */
  pollIntervalMs?: number | undefined;
  /** Makes every watcher (chokidar's or alike) when given. @default see `SourceWatcher` */
  factory?: WatcherFactory | undefined;
}

/**
 * Watches one folder source: folders are watched (no globs), every path goes through the source's `PathFilter`, so
 * that exactly what the scan would list is reported. Falls back to polling when the kernel refuses a watch (inotify
 * watches or file descriptors exhausted), instead of failing silently.
 *
 * On Linux, with inotify (not polling), symbolic links not followed and the folder present, a `FolderWatcher`
 * watches each folder and no file: memory and inotify watches grow with the folders, not the files. Otherwise
 * (polling, followed links, a root that does not exist yet, other systems, or an injected factory) chokidar watches,
 * with a watch (or a stat poll) per file as well as per folder.
 */
export class SourceWatcher implements SourceWatch {
  readonly source: ResolvedFolderSource;
  #state: WatcherState = 'stopped';
  #lastError: string | undefined;
  #polling = false;
  #closed = false;
  #current: WatcherHandle | undefined;
  readonly #options: SourceWatcherOptions;
  readonly #factory: WatcherFactory | undefined;
  #readyResolve: (() => void) | undefined;
  /** Resolves once the watcher (or its polling replacement) has read the tree, or could not start. */
  readonly ready: Promise<void>;

  constructor(options: SourceWatcherOptions) {
    this.source = options.source;
    this.#options = options;
    this.#factory = options.factory;
    this.ready = new Promise((resolve) => (this.#readyResolve = resolve));
  }

  get state(): WatcherState {
    return this.#state;
  }

  /** The last error, in one line. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Starts watching (polling from the start when the source says `usePolling`); resolves when ready. */
  start(): Promise<void> {
    this.#open(this.source.usePolling);
    return this.ready;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#state = 'stopped';
    this.#resolveReady();
    const current = this.#current;
    this.#current = undefined;
    await current?.close().catch(() => {});
  }

  #open(polling: boolean): void {
    if (this.#closed) return;
    this.#polling = polling;
    this.#state = 'starting';
    const interval = this.#options.pollIntervalMs ?? 2000;
    const root = this.source.path;
    const options: ChokidarOptions = {
      persistent: true,
      ignoreInitial: true,
      followSymlinks: this.source.followSymlinks,
      usePolling: polling,
      interval,
      binaryInterval: interval,
      alwaysStat: true,
      // An unreadable folder is reported by the scan; it is not a watcher failure.
      ignorePermissionErrors: true,
      ignored: (p: string, stats?: Stats) => this.#ignores(p, stats),
    };
    let watcher: WatcherHandle;
    try {
      if (this.#factory) watcher = this.#factory(root, options);
      else if (!polling && !this.source.followSymlinks && process.platform === 'linux' && isFolder(root)) {
        watcher = new FolderWatcher(root, { ignored: (p, stats) => this.#ignores(p, stats) });
      } else {
        // Note: chokidar is loaded only where it is used (polling, followed links, other systems), so that importing
        // lanying-kb, or a daemon that watches with inotify, does not load it.
        if (!chokidarWatch) {
          import('chokidar').then(
            (chokidar) => {
              chokidarWatch = chokidar.watch;
              this.#open(polling);
            },
            (error: unknown) => this.#fail(error),
          );
          return;
        }
        watcher = chokidarWatch(root, options);
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#current = watcher;
    watcher.on('all', (event: string, p: string, stats?: Stats) => {
      if (watcher === this.#current) this.#handle(event, p, stats);
    });
    watcher.on('error', (error: unknown) => {
      if (watcher === this.#current) this.#fail(error);
    });
    watcher.on('ready', () => {
      if (watcher !== this.#current) return;
      this.#state = polling ? 'polling' : 'watching';
      this.#resolveReady();
    });
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#lastError = error instanceof Error ? error.message : String(error);
    if (isWatchLimitError(error) && !this.#polling) {
      const old = this.#current;
      this.#current = undefined;
      void old?.close().catch(() => {});
      this.#options.onFallback({ source: this.source.name, ...watchLimitHelp(error) });
      this.#open(true);
      return;
    }
    if (this.#current === undefined) {
      // Could not start at all (not even polling).
      this.#state = 'error';
      this.#resolveReady();
    }
    this.#options.onError(error);
  }

  #ignores(p: string, stats: { isDirectory(): boolean } | undefined): boolean {
    const filter = this.#options.filter();
    // The folders above a missing root are watched by chokidar until the root appears.
    if (filter.root.startsWith(`${p}/`) || p === '/') return false;
    // Note: chokidar calls this with and without stats; without them, a path is left out only if left out both as
    // a folder and as a file.
    return filter.ignores(p, stats ? stats.isDirectory() : undefined);
  }

  #handle(event: string, p: string, stats: Stats | undefined): void {
    const filter = this.#options.filter();
    const key = filter.keyOf(p);
    if (key === undefined || key === '') return;
    if (event === 'addDir' || event === 'unlinkDir') {
      this.#options.onEvent({ type: 'dir', path: p, gone: event === 'unlinkDir' });
      return;
    }
    if (event !== 'add' && event !== 'change' && event !== 'unlink') return;
    if (filter.isKbignoreFile(key)) {
      const slash = key.lastIndexOf('/');
      this.#options.onEvent({ type: 'rules', path: p, relDir: slash < 0 ? '' : key.slice(0, slash) });
      return;
    }
    const stamp = event === 'unlink' ? null : stats ? { size: stats.size, mtimeMs: stats.mtimeMs } : undefined;
    this.#options.onEvent({ type: 'file', path: p, stamp });
  }

  #resolveReady(): void {
    this.#readyResolve?.();
    this.#readyResolve = undefined;
  }
}

let chokidarWatch: typeof ChokidarWatch | undefined;

function isFolder(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}
