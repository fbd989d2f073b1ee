import { EventEmitter } from 'node:events';
import { type FSWatcher, type Stats, watch } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Decides whether a path is left out; `stats` (or a directory entry) when known. */
export type FolderWatcherIgnore = (path: string, stats?: { isDirectory(): boolean }) => boolean;

/** Options of `FolderWatcher`. */
export interface FolderWatcherOptions {
  ignored: FolderWatcherIgnore;
}

/**
 * Watches a folder tree on Linux with one inotify watch per folder and none per file: a folder's watch reports the
 * writes, creations, deletions and renames of its entries by name, so a file needs no watch of its own. (chokidar
 * gives every file a watch, an `FSWatcher` with its handle and closures, and its last `Stats`: about 3 kB of heap
 * per file, 100,000 inotify watches for 100,000 files.)
 *
 * Emits what the daemon's `SourceWatcher` reads from chokidar, for paths the `ignored` function does not leave out:
 * `all` (event, path, stats?) with `add` / `change` / `unlink` for files and `addDir` / `unlinkDir` for folders,
 * `ready` once every folder is watched, and `error` (a kernel limit such as ENOSPC, so that the caller can poll
 * instead). Nothing is reported for what exists at the start. Unreadable folders are left out, like chokidar's
 * `ignorePermissionErrors`. Symbolic links are reported as files and never followed (callers that follow them use
 * chokidar).
 *
 * Memory: a `Map` entry and an `FSWatcher` per folder; nothing per file, except a pending check while a burst of
 * events for that path is handled.
 */
export class FolderWatcher extends EventEmitter {
  readonly root: string;
  readonly #ignored: FolderWatcherIgnore;
  /** Watched folders: absolute path → its watch. */
  readonly #folders = new Map<string, FSWatcher>();
  /** Paths being checked now → whether another event came meanwhile (then they are checked once more). */
  readonly #checking = new Map<string, boolean>();
  #closed = false;

  constructor(root: string, options: FolderWatcherOptions) {
    super();
    this.root = path.resolve(root);
    this.#ignored = options.ignored;
    void this.#start();
  }

  /** Folders watched now. */
  get folderCount(): number {
    return this.#folders.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const watcher of this.#folders.values()) watcher.close();
    this.#folders.clear();
    this.#checking.clear();
  }

  async #start(): Promise<void> {
    try {
      await this.#addTree(this.root, false);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (!this.#closed) this.emit('ready');
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.emit('error', error);
  }

  /**
   * Watches `dir` and every folder below it (each one watched before it is read, so that an entry made meanwhile is
   * either listed or reported). With `report`, the folders and files found are reported as added.
   */
  async #addTree(dir: string, report: boolean): Promise<void> {
    const queue = [dir];
    for (let i = 0; i < queue.length; i++) {
      const folder = queue[i] as string;
      if (this.#closed || this.#folders.has(folder)) continue;
      if (!this.#watchFolder(folder)) continue;
      if (report) this.#emitAll('addDir', folder);
      let entries;
      try {
        entries = await readdir(folder, { withFileTypes: true });
      } catch (error) {
        if (isGone(error) || isDenied(error)) continue;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) {
          if (!this.#ignored(full, entry)) queue.push(full);
        } else if (report) {
          await this.#reportFile(full, 'add');
        }
      }
    }
  }

  /** Starts the watch of one folder; false when it cannot be watched (gone, unreadable). Kernel limits throw. */
  #watchFolder(folder: string): boolean {
    let watcher: FSWatcher;
    try {
      watcher = watch(folder, { persistent: true }, (eventType, name) => {
        if (typeof name === 'string' && name !== '') this.#check(folder, name, eventType);
      });
    } catch (error) {
      if (isGone(error) || isDenied(error)) return false;
      throw error;
    }
    watcher.on('error', (error) => {
      if (isGone(error) || isDenied(error)) return;
      this.#fail(error);
    });
    this.#folders.set(folder, watcher);
    return true;
  }

  /** Stops watching a folder and every folder below it. */
  #removeTree(folder: string): void {
    const prefix = `${folder}${path.sep}`;
    for (const [p, watcher] of this.#folders) {
      if (p === folder || p.startsWith(prefix)) {
        watcher.close();
        this.#folders.delete(p);
      }
    }
  }

  /** An event for `name` in `folder`: what is there now decides what is reported (one check at a time per path). */
  #check(folder: string, name: string, eventType: string): void {
    if (this.#closed) return;
    const full = path.join(folder, name);
    if (this.#checking.has(full)) {
      this.#checking.set(full, true);
      return;
    }
    this.#checking.set(full, false);
    void this.#inspect(folder, full, eventType)
      .catch((error: unknown) => this.#fail(error))
      .finally(() => {
        const again = this.#checking.get(full);
        this.#checking.delete(full);
        if (again) this.#check(folder, name, eventType);
      });
  }

  async #inspect(folder: string, full: string, eventType: string): Promise<void> {
    let stats: Stats | undefined;
    try {
      stats = await lstat(full);
    } catch (error) {
      // Unreadable: the scan reports it.
      if (!isGone(error)) return;
    }
    if (this.#closed) return;
    if (!stats) {
      if (this.#folders.has(full)) {
        this.#removeTree(full);
        this.#emitAll('unlinkDir', full);
        return;
      }
      // A folder's watch also reports events of the folder itself, under its own name: its deletion or move is
      // reported by its parent's watch.
      if (path.basename(full) === path.basename(folder) && eventType === 'rename' && !(await isFolder(folder))) return;
      if (!this.#ignored(full)) this.#emitAll('unlink', full);
      return;
    }
    if (stats.isDirectory()) {
      if (this.#folders.has(full) || this.#ignored(full, stats)) return;
      await this.#addTree(full, true);
      return;
    }
    if (this.#folders.has(full)) {
      // A folder replaced by a file.
      this.#removeTree(full);
      this.#emitAll('unlinkDir', full);
    }
    await this.#reportFile(full, 'change', stats);
  }

  /** Reports a file (or a symbolic link, with its target's stats when it has one). */
  async #reportFile(full: string, event: 'add' | 'change', known?: Stats): Promise<void> {
    let stats = known;
    try {
      stats ??= await lstat(full);
      if (stats.isSymbolicLink()) stats = await stat(full).catch(() => stats);
    } catch (error) {
      if (isGone(error) || isDenied(error)) return;
      throw error;
    }
    if (this.#closed || !stats || this.#ignored(full, stats)) return;
    this.#emitAll(event, full, stats);
  }

  #emitAll(event: string, full: string, stats?: Stats): void {
    if (this.#closed) return;
    this.emit('all', event, full, stats);
  }
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isDenied(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

async function isFolder(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
