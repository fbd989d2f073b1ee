/**
 * Lists the documents of a folder source: one `lstat` per file, the filters of `path-filter.ts`, and a skip reason
 * for every file that is reported but must not be uploaded. The scan streams: it yields each folder (a large one in
 * parts) as soon as its entries are classified, so that a tree of a million files is never held in memory at once.
 *
 * Order: a folder's files in name order, a folder before its subfolders, subfolders in name order (depth first,
 * pre-order), whatever the timing of the threads. Folders are listed in that same order: `readdir` says which entries
 * are folders (`d_type`), so the listing walks ahead of the `lstat` calls without waiting for them, and the folders
 * listed but not yet yielded stay few (at most a few thousand entries ahead).
 *
 * Design, measured on a 100k-file tree (warm cache, 2 cores): the `lstat` calls are most of a scan's time.
 * Synchronous `readdirSync` + `lstatSync` beat `fs.promises` and callback `fs.stat` with bounded parallelism (the
 * per-request overhead of the thread pool outweighs its parallelism), so the scan runs synchronously in time slices
 * of a few milliseconds and yields to the event loop in between. Entries are `lstat`ed in batches that the worker
 * thread (`fs-worker.ts`) and this thread share through the one batch loop (`BatchPump`), while this thread lists
 * folders and classifies entries. Folders are read as strings; only a folder holding a name that did not decode
 * (U+FFFD) is read again as bytes.
 */

import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedFolderSource } from './config.js';
import { SourceError } from '../../errors.js';
import { KBIGNORE_FILE } from './kbignore.js';
import { PathRules, createPathFilter, joinFsPath } from './path-filter.js';
import type { DirState, PathFilter } from './path-filter.js';
import { keyOfName, keyOfNameBytes, keyOfPathBytes } from './path-key.js';
import { errnoCode, lstatBatch, STAT_FAILED, STAT_FIELDS, STAT_GONE } from './fs-batch.js';
import type { StatBatch } from './fs-batch.js';
import { BatchPump, hasSpareCore, workerRunning, type WorkerBatch } from './fs-worker.js';
import { KB_SUPPORTED_EXTENSIONS } from '../../protocol/kb-files.js';


/** Why a reported file must not be uploaded (machine-readable; `skipReason` is the human-readable text). */
export type SkipCode =
  /** A type the chatbot does not accept. */
  | 'unsupported'
  /** Zero bytes. */
  | 'empty'
  /** Larger than the source's `maxFileSize`. */
  | 'too-large'
  /**
   * Cannot be read (a file that cannot be opened, a folder that cannot be listed, a `.kbignore` that cannot be
   * read). Temporary, most likely: what was known about this path (and, for a folder, below it) should be kept.
   */
  | 'unreadable'
  /** A FIFO, socket or device. */
  | 'not-regular'
  /** A symbolic link, and `followSymlinks` is off. */
  | 'symlink'
  /** A symbolic link whose target lies outside the source's folder. */
  | 'symlink-outside'
  /** A symbolic link whose target does not exist. */
  | 'symlink-broken'
  /** A symbolic link to a folder that contains it. */
  | 'symlink-loop';

/** One file of a folder source, as found by a scan. */
export interface ScannedFile {
  /** Path relative to the root, '/' separators, invalid UTF-8 bytes escaped as %XX (see `path-key.ts`). */
  key: string;
  /** Absolute path to open or stat (a Buffer when the name is not valid UTF-8). */
  fsPath: string | Buffer;
  /** Absolute real path (symlinks resolved), escaped like `key`: the same file seen by two sources has the same one. */
  realPath: string;
  /** Bytes. */
  size: number;
  mtimeMs: number;
  ino: number;
  /** Lower-case extension without the dot ('' if none). */
  ext: string;
  /** Set when the file is reported but must not be uploaded. */
  skipReason?: string;
  /** Set together with `skipReason`. */
  skipCode?: SkipCode;
  /**
   * True for a folder reported instead of scanned: an unreadable folder (`skipCode` 'unreadable': keep what
   * was known below it) or a symbolic link to a folder that is not followed.
   */
  isDir?: boolean;
}


/**
 * One part of a folder listed in parts (a folder of more than `scanLimits.partEntries` entries): the files whose keys lie in
 * [`from`, `to`) in UTF-8 byte order (the order SQLite compares text in); an absent bound is open.
 */
export interface FolderPart {
  index: number;
  last: boolean;
  from: string | undefined;
  to: string | undefined;
}

/** What a scan yields: one listed folder, or one part of it, or a folder that could not be listed. */
export interface ScannedFolder {
  /** The folder's key ('' for the root). */
  dir: string;
  /** The folder's files (in name order), with the folders reported instead of listed (`isDir`). */
  files: ScannedFile[];
  /** Set for a part of a large folder; a folder is yielded whole (undefined) or in consecutive parts. */
  part?: FolderPart | undefined;
  /**
   * Set when the folder could not be listed: `files` holds its report (`isDir`, `skipCode` 'unreadable'), and what
   * was known in and below it must be kept.
   */
  unreadable?: boolean | undefined;
}

/** Options of a scan. */
export interface ScanOptions {
  /** Absolute paths of folders to leave out wherever they appear (lanying-kb's own state folder). */
  excludeDirs?: string[];
  /** Stops the scan: it then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Whether the worker thread makes some of the `lstat` calls: 'auto' (default) once a scan has listed a few
   * thousand entries on a machine with more than one core; 'always' and 'never' are for tests and measurements. The
   * result is the same either way.
   */
  statWorker?: 'auto' | 'always' | 'never';
  /** Entries per part of a large folder. @default scanLimits.partEntries */
  partEntries?: number;
}

/** A scan in progress: read its folders once, in order; `close()` frees it if it is not read to its end. */
export interface FolderScan extends AsyncIterable<ScannedFolder> {
  close(): void;
}

const SUPPORTED = new Set(KB_SUPPORTED_EXTENSIONS);
const KBIGNORE_BYTES = Buffer.from(KBIGNORE_FILE);
const REPLACEMENT_CHAR = '\uFFFD';
const SURROGATE = /[\uD800-\uDFFF]/;

/** Real paths of the folders between the root and a folder, for symlink loop detection. */
interface Ancestor {
  readonly real: string;
  readonly parent: Ancestor | undefined;
}

/** The numbers of an `lstat` the scan uses (`fs.Stats` has them, and so does a batch's answer). */
interface StatLike {
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
  uid: number;
  gid: number;
}

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = fs.constants;

/** What `readdir` said an entry is (`d_type`). */
const enum EntryType {
  /** Anything that needs its `lstat` to be classified and cannot turn out to be a folder to list. */
  Plain = 0,
  /** A folder: its task is made when it is listed, with no `lstat`. */
  Dir = 1,
  /** Unknown (`DT_UNKNOWN`), or a link that may lead to a folder: classified by its `lstat` before the walk passes it. */
  MaybeDir = 2,
  /** A `MaybeDir` entry that was classified. */
  Settled = 3,
}

/** Limits of every scan. `partEntries`: entries per part of a large folder (parts are yielded one at a time). */
export const scanLimits = { partEntries: 4096 };
/** Entries per `lstat` batch. */
const JOB_SIZE = 256;
/** Entries listed and not yet yielded before the scan stops listing more folders. */
const LOOKAHEAD_ENTRIES = 8 * JOB_SIZE;
/** Batches kept queued for the two threads. */
const LOOKAHEAD_JOBS = 8;
/** Entries listed before a scan in `auto` mode starts the worker (its start costs ~30 ms). */
const WORKER_MIN_ENTRIES = 4096;

/** A folder: waiting to be listed, then listed (its entries classified into `slots`), or reported. */
class DirTask {
  /** The sorted listing (names, and their `EntryType`), until every entry was queued for its `lstat`. */
  names: (string | Buffer)[] | undefined;
  types: Uint8Array | undefined;
  /** Entries of the listing: how many there are, and how many were queued for their `lstat` (or settled). */
  count = 0;
  queued = 0;
  /** What each entry turned out to be, by position: a file to report, a folder, or nothing (left out, gone). */
  slots: (ScannedFile | DirTask | undefined)[] = [];
  /** Entries queued and not classified yet, per part. */
  pending: Int32Array = new Int32Array(1);
  parts = 1;
  /** Parts yielded so far. */
  yielded = 0;
  /** For a folder listed in parts: the key of the first entry of each part. */
  bounds: string[] | undefined;
  /** Set when the folder is reported instead of scanned (it cannot be read). */
  report: ScannedFile | undefined;
  /** Whether the walk still has to look at its entries (for subfolders to list). */
  inWalk = false;

  constructor(
    readonly fsPath: string | Buffer,
    readonly key: string,
    /** Real path, escaped. */
    readonly real: string,
    public state: DirState,
    readonly ancestors: Ancestor | undefined,
  ) {}

  /** The key prefix of the folder's entries. */
  get keyPrefix(): string {
    return this.key === '' ? '' : `${this.key}/`;
  }
}

/** Entries waiting for their `lstat`, in parallel arrays. */
class Job {
  readonly tasks: DirTask[] = [];
  readonly slots: number[] = [];
  readonly names: string[] = [];
  readonly keys: string[] = [];
  readonly paths: (string | Buffer)[] = [];
}

/** Supported extensions by a number computed from their lower-case ASCII characters (see `extOfName`). */
const EXT_BY_CODE = new Map(KB_SUPPORTED_EXTENSIONS.map((ext) => [extCode(ext, 0), ext]));

function extCode(text: string, from: number): number {
  let code = 0;
  for (let i = from; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    else if (c > 127) return -1;
    code = code * 128 + c;
  }
  return code;
}

/**
 * Lower-case extension of a file name (a key segment), without the dot; '' when there is none. A supported
 * extension comes back as the shared string from `KB_SUPPORTED_EXTENSIONS`, without allocating (measurable at 100k files).
 */
function extOfName(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return '';
  if (name.length - dot <= 5) {
    const known = EXT_BY_CODE.get(extCode(name, dot + 1));
    if (known !== undefined) return known;
  }
  return name.slice(dot + 1).toLowerCase();
}

const NO_THROW = { throwIfNoEntry: false } as const;

/** Compares two keys by Unicode code point (the UTF-8 byte order SQLite compares text in), not by UTF-16 unit. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after U+E000..U+FFFF in code point order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The key of an entry name of a folder (see `path-key.ts`). */
function keyOfEntry(raw: string | Buffer): string {
  return typeof raw === 'string' ? keyOfName(raw) : keyOfNameBytes(raw);
}

/** The scanning rules of one source, and what one scan has found and not yet yielded. */
class Scanner {
  readonly rules: PathRules;
  readonly root: string;
  readonly follow: boolean;
  readonly maxFileSize: number;
  /** Real path of the root, escaped. */
  realRoot = '';
  private realRootPrefix = '';
  private readonly uid: number | undefined;
  private gids: Set<number> | undefined;
  /** The walk (pre-order): listed folders whose subfolders are still to be listed, with the next entry to look at. */
  private readonly walk: { task: DirTask; next: number }[] = [];
  /** Listed (or unreadable) folders in walk order, not yet yielded whole: the head is yielded first. */
  private readonly order: DirTask[] = [];
  private orderHead = 0;
  /** Listed folders with entries not queued yet, in walk order. */
  private readonly toQueue: DirTask[] = [];
  private toQueueHead = 0;
  /** Full batches waiting for their `lstat` (oldest first). */
  private readonly jobs: Job[] = [];
  private jobsHead = 0;
  /** The batch being filled. */
  private current = new Job();
  /** Entries listed and not yet yielded. */
  private backlog = 0;
  /** What is ready to be yielded, in order. */
  readonly ready: ScannedFolder[] = [];
  /** Entries listed so far. */
  listed = 0;
  /** Entries per part of a large folder. */
  readonly partEntries: number;
  /** Reused for the numbers of a batch's answer. */
  private readonly scratch: StatLike = { mode: 0, size: 0, mtimeMs: 0, ino: 0, uid: 0, gid: 0 };

  constructor(
    readonly source: ResolvedFolderSource,
    rules: PathRules,
    partEntries = scanLimits.partEntries,
  ) {
    this.partEntries = Math.max(1, partEntries);
    this.rules = rules;
    this.root = rules.root;
    this.follow = source.followSymlinks;
    this.maxFileSize = source.maxFileSize;
    this.uid = process.getuid?.();
  }

  /** Checks and lists the root; throws `SourceError` when it cannot be scanned. */
  openRoot(): void {
    const root = this.root;
    let st: fs.Stats;
    try {
      st = fs.statSync(root);
    } catch (error) {
      const code = errnoCode(error);
      const what = code === 'ENOENT' ? `folder ${root} does not exist` : `cannot access folder ${root} (${code})`;
      throw new SourceError(this.source.name, what, { cause: error });
    }
    if (!st.isDirectory()) throw new SourceError(this.source.name, `${root} is not a folder`);
    try {
      this.setRealRoot(keyOfPathBytes(fs.realpathSync.native(root, { encoding: 'buffer' })));
    } catch (error) {
      throw new SourceError(this.source.name, `cannot resolve folder ${root} (${errnoCode(error)})`, { cause: error });
    }
    let listing: Listing;
    try {
      listing = readEntries(root, this.follow);
    } catch (error) {
      throw new SourceError(this.source.name, `cannot read folder ${root} (${errnoCode(error)})`, { cause: error });
    }
    let text: string | undefined;
    try {
      text = hasKbignore(listing.names) ? readKbignore(root) : undefined;
    } catch (error) {
      throw new SourceError(this.source.name, `cannot read ${path.join(root, KBIGNORE_FILE)} (${errnoCode(error)})`, { cause: error });
    }
    const real = this.realRoot;
    const task = new DirTask(root, '', real, this.rules.rootState(text), this.follow ? { real, parent: undefined } : undefined);
    this.accept(task, listing);
  }

  setRealRoot(realRoot: string): void {
    this.realRoot = realRoot;
    this.realRootPrefix = realRoot === '/' ? '/' : `${realRoot}/`;
  }

  /** True when the walk has listed every folder and every entry was yielded. */
  get finished(): boolean {
    return this.walk.length === 0 && this.orderHead === this.order.length;
  }

  /**
   * Does one piece of work on this thread: lists the next folder of the walk while few entries wait, else `lstat`s and
   * classifies a batch. False when nothing can be done here now (the worker holds what is left, or all is done).
   */
  step(): boolean {
    this.fillJobs();
    if (this.backlog < LOOKAHEAD_ENTRIES && this.walkOne()) return true;
    const job = this.takeJob();
    if (job !== undefined) {
      this.applyResult(job, lstatBatch(job.paths));
      return true;
    }
    if (this.walkOne()) return true;
    if (this.current.paths.length > 0) {
      this.jobs.push(this.current);
      this.current = new Job();
      return true;
    }
    return false;
  }

  /** A batch for the worker while at least one more waits for this thread. */
  spare(): WorkerBatch<'lstat'> | undefined {
    this.fillJobs();
    if (this.jobs.length - this.jobsHead < 2) return undefined;
    const job = this.takeJob() as Job;
    return { op: 'lstat', paths: job.paths, done: (reply: StatBatch) => this.applyResult(job, reply), runHere: () => this.applyResult(job, lstatBatch(job.paths)) };
  }

  private takeJob(): Job | undefined {
    if (this.jobsHead === this.jobs.length) return undefined;
    const job = this.jobs[this.jobsHead] as Job;
    this.jobs[this.jobsHead++] = undefined as unknown as Job;
    if (this.jobsHead === this.jobs.length) {
      this.jobs.length = 0;
      this.jobsHead = 0;
    }
    return job;
  }

  /**
   * Lists the next folder of the walk (pre-order): false when the walk is done, or must wait for an entry that may be
   * a folder to be classified first.
   */
  private walkOne(): boolean {
    while (this.walk.length > 0) {
      const frame = this.walk[this.walk.length - 1] as { task: DirTask; next: number };
      const task = frame.task;
      while (frame.next < task.count) {
        const i = frame.next;
        const type = (task.types as Uint8Array)[i];
        if (type === EntryType.MaybeDir) return false; // its lstat decides
        frame.next++;
        const slot = task.slots[i];
        if (slot instanceof DirTask) {
          task.slots[i] = undefined;
          this.list(slot);
          this.collectReady();
          return true;
        }
      }
      this.walk.pop();
      task.inWalk = false;
      release(task);
    }
    return false;
  }

  /** Lists a folder of the walk: its entries join the walk and the `lstat` batches, or it is reported. */
  private list(task: DirTask): void {
    let listing: Listing;
    try {
      listing = readEntries(task.fsPath, this.follow);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // gone meanwhile
      this.reportUnreadable(task, `unreadable folder (${code})`);
      return;
    }
    if (hasKbignore(listing.names)) {
      let text: string | undefined;
      try {
        text = readKbignore(task.fsPath);
      } catch (error) {
        this.reportUnreadable(task, `unreadable ${KBIGNORE_FILE} (${errnoCode(error)})`);
        return;
      }
      task.state = this.rules.withKbignore(task.state, text);
    }
    this.accept(task, listing);
  }

  private reportUnreadable(task: DirTask, reason: string): void {
    task.report = this.dirReport(task, 'unreadable', reason);
    this.order.push(task);
    this.backlog++;
  }

  /** Takes a folder's listing: its subfolders are made now (no `lstat` needed), its other entries wait to be queued. */
  private accept(task: DirTask, listing: Listing): void {
    if (listing.names.length > this.partEntries) task.bounds = sortByKey(task.keyPrefix, listing, this.partEntries);
    const { names, types } = listing;
    const count = names.length;
    task.names = names;
    task.types = types;
    task.count = count;
    task.slots = new Array(count);
    task.parts = Math.max(1, Math.ceil(count / this.partEntries));
    task.pending = new Int32Array(task.parts);
    const prefix = task.keyPrefix;
    for (let i = 0; i < count; i++) {
      if (types[i] !== EntryType.Dir) continue;
      const raw = names[i] as string | Buffer;
      if (typeof raw === 'string' ? raw.charCodeAt(0) === 46 : raw[0] === 46) continue;
      const name = keyOfEntry(raw);
      const key = prefix + name;
      const real = task.real === '/' ? `/${name}` : `${task.real}/${name}`;
      const state = this.rules.childDir(task.state, key, name, real);
      if (state !== undefined) task.slots[i] = new DirTask(joinFsPath(task.fsPath, raw), key, real, state, task.ancestors && { real, parent: task.ancestors });
    }
    this.walk.push({ task, next: 0 });
    task.inWalk = true;
    this.order.push(task);
    this.toQueue.push(task);
    this.backlog += count;
    this.listed += count;
  }

  /** Queues entries for their `lstat` (oldest folders first) until enough batches wait. */
  private fillJobs(): void {
    while (this.jobs.length - this.jobsHead < LOOKAHEAD_JOBS && this.toQueueHead < this.toQueue.length) {
      const task = this.toQueue[this.toQueueHead] as DirTask;
      this.queueSome(task, JOB_SIZE);
      if (task.queued === task.count) {
        task.names = undefined;
        this.toQueue[this.toQueueHead++] = undefined as unknown as DirTask;
        if (this.toQueueHead === this.toQueue.length) {
          this.toQueue.length = 0;
          this.toQueueHead = 0;
        }
      }
    }
  }

  private queueSome(task: DirTask, max: number): void {
    const names = task.names as (string | Buffer)[];
    const types = task.types as Uint8Array;
    const fsDir = task.fsPath;
    const prefix = typeof fsDir === 'string' ? (fsDir === '/' ? '/' : `${fsDir}/`) : undefined;
    const keyPrefix = task.keyPrefix;
    let job = this.current;
    const end = Math.min(task.count, task.queued + max);
    for (let i = task.queued; i < end; i++) {
      if (types[i] === EntryType.Dir) continue;
      const raw = names[i] as string | Buffer;
      let name: string;
      let fsChild: string | Buffer;
      if (typeof raw === 'string') {
        if (raw.charCodeAt(0) === 46) continue;
        name = keyOfName(raw);
        fsChild = (prefix as string) + raw;
      } else {
        if (raw[0] === 46) continue;
        if (prefix !== undefined && isUtf8(raw)) {
          const text = raw.toString('utf8');
          name = keyOfName(text);
          fsChild = prefix + text;
        } else {
          name = keyOfNameBytes(raw);
          fsChild = joinFsPath(fsDir, raw);
        }
      }
      (task.pending[Math.floor(i / this.partEntries)] as number)++;
      job.tasks.push(task);
      job.slots.push(i);
      job.names.push(name);
      job.keys.push(keyPrefix + name);
      job.paths.push(fsChild);
      if (job.paths.length >= JOB_SIZE) {
        this.jobs.push(job);
        job = new Job();
      }
    }
    task.queued = end;
    this.current = job;
  }

  /** Classifies the entries of a batch from their `lstat`. */
  private applyResult(job: Job, { stats, errors }: StatBatch): void {
    const { tasks, slots, names, keys, paths } = job;
    const st = this.scratch;
    for (let i = 0; i < paths.length; i++) {
      const task = tasks[i] as DirTask;
      const slot = slots[i] as number;
      const o = i * STAT_FIELDS;
      const mode = stats[o] as number;
      let result: ScannedFile | DirTask | undefined;
      // Only an entry `readdir` could not tell from a folder may become one now (a file that became a folder since is
      // left for the next scan).
      const maybeDir = task.types?.[slot] === EntryType.MaybeDir;
      if (mode === STAT_GONE) {
        result = undefined;
      } else if (mode === STAT_FAILED) {
        result = this.classify(task, names[i] as string, keys[i] as string, paths[i] as string | Buffer, undefined, errors?.[i] ?? 'EIO', maybeDir);
      } else {
        st.mode = mode;
        st.size = stats[o + 1] as number;
        st.mtimeMs = stats[o + 2] as number;
        st.ino = stats[o + 3] as number;
        st.uid = stats[o + 4] as number;
        st.gid = stats[o + 5] as number;
        result = this.classify(task, names[i] as string, keys[i] as string, paths[i] as string | Buffer, st, undefined, maybeDir);
      }
      if (result !== undefined) task.slots[slot] = result;
      if (maybeDir) (task.types as Uint8Array)[slot] = EntryType.Settled;
      (task.pending[Math.floor(slot / this.partEntries)] as number)--;
    }
    this.collectReady();
  }

  /** Moves what can be yielded (the head of the walk order, part by part) to `ready`. */
  collectReady(): void {
    while (this.orderHead < this.order.length) {
      const task = this.order[this.orderHead] as DirTask;
      if (task.report !== undefined) {
        this.ready.push({ dir: task.key, files: [task.report], unreadable: true });
        this.backlog--;
      } else {
        while (task.yielded < task.parts) {
          const p = task.yielded;
          const start = p * this.partEntries;
          const end = Math.min(task.count, start + this.partEntries);
          if (task.queued < end || (task.pending[p] as number) > 0) return;
          this.ready.push(this.partOf(task, p, start, end));
          task.yielded++;
          this.backlog -= end - start;
        }
        release(task);
      }
      this.order[this.orderHead++] = undefined as unknown as DirTask;
      if (this.orderHead === this.order.length) {
        this.order.length = 0;
        this.orderHead = 0;
      }
    }
  }

  /** The files of entries [start, end) of a folder (they are let go: only subfolders stay, for the walk). */
  private partOf(task: DirTask, p: number, start: number, end: number): ScannedFolder {
    const files: ScannedFile[] = [];
    const slots = task.slots;
    for (let i = start; i < end; i++) {
      const entry = slots[i];
      if (entry === undefined || entry instanceof DirTask) continue;
      files.push(entry);
      slots[i] = undefined;
    }
    if (task.parts === 1) return { dir: task.key, files };
    const bounds = task.bounds as string[];
    const last = p === task.parts - 1;
    return { dir: task.key, files, part: { index: p, last, from: p === 0 ? undefined : bounds[p], to: last ? undefined : bounds[p + 1] } };
  }

  /** `lstat`s one entry here and classifies it (see `classify`). */
  entry(parent: DirTask, name: string, key: string, fsChild: string | Buffer, wantDirs: boolean): ScannedFile | DirTask | undefined {
    let st: fs.Stats | undefined;
    let error: string | undefined;
    try {
      st = fs.lstatSync(fsChild, NO_THROW);
    } catch (e) {
      error = errnoCode(e);
    }
    return this.classify(parent, name, key, fsChild, st, error, wantDirs);
  }

  /**
   * Classifies one entry of the folder `parent` from its `lstat` (`undefined` with `error` unset: it is gone):
   * a file to report, a folder to scan (only when `wantDirs`), or `undefined` (left out, gone, or a folder
   * when `wantDirs` is false).
   */
  classify(
    parent: DirTask,
    name: string,
    key: string,
    fsChild: string | Buffer,
    st: StatLike | undefined,
    error: string | undefined,
    wantDirs: boolean,
  ): ScannedFile | DirTask | undefined {
    const real = parent.real === '/' ? `/${name}` : `${parent.real}/${name}`;
    if (st === undefined) {
      if (error === undefined || error === 'ENOENT' || error === 'ENOTDIR') return undefined; // gone meanwhile
      // Typically a folder that can be listed but not searched.
      if (!this.rules.includesFileIn(parent.state, key, name)) return undefined;
      return this.report(key, fsChild, real, undefined, extOfName(name), 'unreadable', `unreadable (${error})`);
    }
    const type = st.mode & S_IFMT;
    if (type === S_IFREG) {
      if (!this.rules.includesFileIn(parent.state, key, name)) return undefined;
      return this.file(key, fsChild, real, st, extOfName(name));
    }
    if (type === S_IFDIR) {
      if (!wantDirs) return undefined;
      const state = this.rules.childDir(parent.state, key, name, real);
      if (state === undefined) return undefined;
      return new DirTask(fsChild, key, real, state, parent.ancestors && { real, parent: parent.ancestors });
    }
    if (type === S_IFLNK) return this.symlink(parent, name, key, fsChild, real, st, wantDirs);
    if (!this.rules.includesFileIn(parent.state, key, name)) return undefined;
    return this.report(key, fsChild, real, st, extOfName(name), 'not-regular', 'not a regular file');
  }

  private symlink(
    parent: DirTask,
    name: string,
    key: string,
    fsChild: string | Buffer,
    linkReal: string,
    lst: StatLike,
    wantDirs: boolean,
  ): ScannedFile | DirTask | undefined {
    let target: fs.Stats | undefined;
    let targetError = '';
    try {
      target = fs.statSync(fsChild, NO_THROW);
    } catch (error) {
      targetError = errnoCode(error);
    }
    const ext = extOfName(name);
    if (target?.isDirectory()) {
      const state = this.rules.childDir(parent.state, key, name);
      if (state === undefined) return undefined;
      if (!this.follow) return this.report(key, fsChild, linkReal, lst, '', 'symlink', 'symbolic link to a folder (followSymlinks is off)', true);
      const real = this.realPathOf(fsChild);
      if (real === undefined) return undefined; // gone meanwhile
      if (!this.inside(real)) return this.report(key, fsChild, real, lst, '', 'symlink-outside', 'symbolic link to a folder outside the source folder', true);
      if (this.rules.childDir(parent.state, key, name, real) === undefined) return undefined; // a state folder
      const realPrefix = real === '/' ? '/' : `${real}/`;
      for (let a = parent.ancestors; a; a = a.parent) {
        if (a.real === real || a.real.startsWith(realPrefix)) {
          return this.report(key, fsChild, real, lst, '', 'symlink-loop', 'symbolic link to a folder that contains it', true);
        }
      }
      if (!wantDirs) return undefined;
      return new DirTask(fsChild, key, real, state, { real, parent: parent.ancestors });
    }
    if (!this.rules.includesFileIn(parent.state, key, name)) return undefined;
    if (!this.follow) {
      const st = target?.isFile() ? target : lst;
      return this.report(key, fsChild, linkReal, st, ext, 'symlink', 'symbolic link (followSymlinks is off)');
    }
    if (target === undefined) {
      if (targetError === 'ELOOP') return this.report(key, fsChild, linkReal, lst, ext, 'symlink-loop', 'symbolic link loop');
      if (targetError === '' || targetError === 'ENOENT' || targetError === 'ENOTDIR') {
        return this.report(key, fsChild, linkReal, lst, ext, 'symlink-broken', 'broken symbolic link (its target does not exist)');
      }
      return this.report(key, fsChild, linkReal, lst, ext, 'unreadable', `unreadable (${targetError})`);
    }
    const real = this.realPathOf(fsChild);
    if (real === undefined) return undefined;
    if (!this.inside(real)) return this.report(key, fsChild, real, target, ext, 'symlink-outside', 'symbolic link to a file outside the source folder');
    if (!target.isFile()) return this.report(key, fsChild, real, target, ext, 'not-regular', 'not a regular file');
    return this.file(key, fsChild, real, target, ext);
  }

  private realPathOf(fsPath: string | Buffer): string | undefined {
    try {
      return keyOfPathBytes(fs.realpathSync.native(fsPath, { encoding: 'buffer' }));
    } catch {
      return undefined;
    }
  }

  private inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRootPrefix);
  }

  /** A regular file that passed the filters: reported, with a skip reason when it must not be uploaded. */
  private file(key: string, fsPath: string | Buffer, real: string, st: StatLike, ext: string): ScannedFile {
    const size = st.size;
    let code: SkipCode | undefined;
    let reason: string | undefined;
    if (!SUPPORTED.has(ext)) {
      code = 'unsupported';
      reason = ext === '' ? 'unsupported type (no extension)' : `unsupported type (.${ext})`;
    } else if (size === 0) {
      code = 'empty';
      reason = 'empty file';
    } else if (size > this.maxFileSize) {
      code = 'too-large';
      reason = `larger than maxFileSize (${size} > ${this.maxFileSize} bytes)`;
    } else if (this.mayBeUnreadable(st)) {
      const openError = tryOpen(fsPath);
      if (openError !== undefined) {
        code = 'unreadable';
        reason = `unreadable (${openError})`;
      }
    }
    return {
      key,
      fsPath,
      realPath: real,
      size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      ext,
      skipReason: reason,
      skipCode: code,
      isDir: undefined,
    };
  }

  private report(
    key: string,
    fsPath: string | Buffer,
    real: string,
    st: StatLike | undefined,
    ext: string,
    code: SkipCode,
    reason: string,
    isDir?: boolean,
  ): ScannedFile {
    return {
      key,
      fsPath,
      realPath: real,
      size: st?.size ?? 0,
      mtimeMs: st?.mtimeMs ?? 0,
      ino: st?.ino ?? 0,
      ext,
      skipReason: reason,
      skipCode: code,
      isDir: isDir || undefined,
    };
  }

  private dirReport(task: DirTask, code: SkipCode, reason: string): ScannedFile {
    return this.report(task.key, task.fsPath, task.real, undefined, '', code, reason, true);
  }

  /**
   * Whether the permission bits say this process cannot read the file (then an `open` confirms it). Avoids an
   * `open` per file. Root usually reads everything, but not without CAP_DAC_OVERRIDE (a hardened service): a
   * file nobody may read is checked for root too. ACLs and other cases are left to the `open` at hashing time.
   */
  private mayBeUnreadable(st: StatLike): boolean {
    const uid = this.uid;
    const mode = st.mode;
    if (uid === undefined) return false;
    if (uid === 0) return (mode & 0o444) === 0;
    if (st.uid === uid) return (mode & 0o400) === 0;
    if ((mode & 0o044) === 0o044) return false;
    this.gids ??= new Set([...(process.getgroups?.() ?? []), process.getgid?.() ?? -1]);
    if (this.gids.has(st.gid)) return (mode & 0o040) === 0;
    return (mode & 0o004) === 0;
  }
}

/** Opens and closes a file; the error code when that fails. */
function tryOpen(fsPath: string | Buffer): string | undefined {
  try {
    fs.closeSync(fs.openSync(fsPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    return undefined;
  } catch (error) {
    return errnoCode(error);
  }
}

/** Lets go of what a folder held once it is yielded whole and the walk is past it. */
function release(task: DirTask): void {
  if (task.inWalk || task.yielded < task.parts) return;
  task.slots = [];
  task.types = undefined;
  task.names = undefined;
}

/** A folder's listing: entry names in order, and what `readdir` said each is. */
interface Listing {
  names: (string | Buffer)[];
  types: Uint8Array;
}

const byName = (a: fs.Dirent<string>, b: fs.Dirent<string>) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const byBytes = (a: fs.Dirent<Buffer>, b: fs.Dirent<Buffer>) => Buffer.compare(a.name, b.name);

/**
 * The entries of a folder, sorted by name, with their `EntryType`; names as Buffers when the folder path is bytes or
 * a name is not valid UTF-8.
 */
function readEntries(fsPath: string | Buffer, follow: boolean): Listing {
  let dirents: fs.Dirent<string | Buffer>[] | undefined;
  if (typeof fsPath === 'string') {
    const strings = fs.readdirSync(fsPath, { withFileTypes: true });
    let suspicious = false;
    for (const d of strings) {
      if (d.name.includes(REPLACEMENT_CHAR)) {
        suspicious = true;
        break;
      }
    }
    if (!suspicious) dirents = strings.sort(byName);
  }
  dirents ??= (fs.readdirSync(fsPath, { withFileTypes: true, encoding: 'buffer' }) as fs.Dirent<Buffer>[]).sort(byBytes);
  const n = dirents.length;
  const names = new Array<string | Buffer>(n);
  const types = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const d = dirents[i] as fs.Dirent<string | Buffer>;
    names[i] = d.name;
    if (d.isDirectory()) types[i] = EntryType.Dir;
    else if (d.isSymbolicLink()) types[i] = follow ? EntryType.MaybeDir : EntryType.Plain;
    else if (d.isFile() || d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()) types[i] = EntryType.Plain;
    else types[i] = EntryType.MaybeDir; // DT_UNKNOWN: the lstat tells
  }
  return { names, types };
}

/**
 * Puts the listing of a folder that is yielded in parts in key order (UTF-8 byte order, as SQLite compares keys), so
 * that each part holds exactly the keys of its range; returns the key of the first entry of each part. Names that
 * are their own keys and hold no astral character are in that order already (the common case, checked in one pass).
 */
function sortByKey(prefix: string, listing: Listing, partEntries: number): string[] {
  const { names, types } = listing;
  let regular = true;
  for (const raw of names) {
    if (typeof raw !== 'string' || keyOfName(raw) !== raw || SURROGATE.test(raw)) {
      regular = false;
      break;
    }
  }
  if (!regular) {
    const order = names.map((raw, i) => ({ key: keyOfEntry(raw), raw, type: types[i] as number }));
    order.sort((a, b) => compareKeys(a.key, b.key));
    order.forEach((e, i) => {
      names[i] = e.raw;
      types[i] = e.type;
    });
  }
  const bounds: string[] = [];
  for (let i = 0; i < names.length; i += partEntries) bounds.push(prefix + keyOfEntry(names[i] as string | Buffer));
  return bounds;
}

function hasKbignore(names: readonly (string | Buffer)[]): boolean {
  for (const n of names) {
    if (typeof n === 'string' ? n === KBIGNORE_FILE : n.equals(KBIGNORE_BYTES)) return true;
  }
  return false;
}

/** The text of a folder's `.kbignore` (known to be listed); `undefined` if it vanished or is not a file. */
function readKbignore(dir: string | Buffer): string | undefined {
  try {
    return fs.readFileSync(joinFsPath(dir, KBIGNORE_FILE), 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'EISDIR') return undefined;
    throw error;
  }
}

/**
 * Scans a folder source: every file that is one of the user's documents, each once, in a stable order (a
 * folder's entries in byte order, then its subfolders the same way). Files that must not be uploaded carry a
 * `skipReason`. Hidden names, excluded and `.kbignore`d paths, state folders and files outside `include`
 * are left out. Memory: one `ScannedFile` per reported file (about 350 bytes) plus a few listings at a time.
 *
 * Throws `SourceError` when the root does not exist, is not a folder or cannot be read, so that a missing
 * mount never looks like "every document was deleted". Unreadable subfolders are reported (`isDir`,
 * `skipCode: 'unreadable'`) and the rest is scanned.

/**
 * Starts scanning a folder source: every file that is one of the user's documents, each once, yielded folder by
 * folder in a stable order (see the top of this file). Files that must not be uploaded carry a `skipReason`. Hidden
 * names, excluded and `.kbignore`d paths, state folders and files outside `include` are left out. Memory: the
 * folders listed and not yet yielded (a few thousand entries), and the listing of the largest folder being yielded.
 *
 * Throws `SourceError` at once when the root does not exist, is not a folder or cannot be read, so that a missing
 * mount never looks like "every document was deleted". A subfolder that cannot be listed is yielded with
 * `unreadable` set (its report in `files`), and the rest is scanned.
 */
export function openScan(source: ResolvedFolderSource, options: ScanOptions = {}): FolderScan {
  const { signal } = options;
  signal?.throwIfAborted();
  const scanner = new Scanner(source, new PathRules(source, options.excludeDirs ?? []), options.partEntries);
  scanner.openRoot();
  const mode = options.statWorker ?? 'auto';
  const pump = new BatchPump(scanner, {
    signal,
    wantWorker: () => mode === 'always' || (mode === 'auto' && hasSpareCore() && (scanner.listed >= WORKER_MIN_ENTRIES || workerRunning())),
  });
  const ready = scanner.ready;
  async function* folders(): AsyncGenerator<ScannedFolder> {
    try {
      for (;;) {
        const more = await pump.run(() => ready.length > 0);
        scanner.collectReady();
        // Note: taken one at a time, so that what the consumer does with one folder can go on while the rest waits.
        while (ready.length > 0) yield ready.shift() as ScannedFolder;
        if (!more) break;
      }
      if (!scanner.finished) throw new Error(`scan of ${source.path}: the walk ended with folders not yielded`);
    } finally {
      pump.close();
    }
  }
  const iterator = folders();
  return { [Symbol.asyncIterator]: () => iterator, close: () => void iterator.return(undefined).catch(() => {}) };
}

/** `openScan`, as an async iterable of folders. */
export async function* scanFolders(source: ResolvedFolderSource, options: ScanOptions = {}): AsyncGenerator<ScannedFolder> {
  const scan = openScan(source, options);
  try {
    yield* scan;
  } finally {
    scan.close();
  }
}

/** Every file a scan reports, in scan order (in memory: for tests, tools and small trees). */
export async function scanFolder(source: ResolvedFolderSource, options: ScanOptions = {}): Promise<ScannedFile[]> {
  const files: ScannedFile[] = [];
  // Note: a loop, not push(...list): a spread of 100k+ arguments overflows the stack.
  for await (const folder of scanFolders(source, options)) for (const file of folder.files) files.push(file);
  return files;
}

/** Options of `statToFile`. */
export interface StatToFileOptions {
  /** The source's filter (reused across calls for its `.kbignore` cache); created when omitted. */
  filter?: PathFilter;
  /** Used only when `filter` is omitted. */
  excludeDirs?: string[];
}

/**
 * What a scan would report for one absolute path (e.g. on a watcher event): the `ScannedFile`, with a skip
 * reason when it must not be uploaded, or `undefined` when the path does not exist, is outside the root, is
 * left out by the filters, or is a folder to scan (a symbolic link to a folder is reported when a scan would
 * report it). Synchronous: one `lstat` (plus a `realpath` for the parent folder, and for symbolic links).
 */
export function statToFile(source: ResolvedFolderSource, absPath: string | Buffer, options: StatToFileOptions = {}): ScannedFile | undefined {
  const filter = options.filter ?? createPathFilter(source, { excludeDirs: options.excludeDirs });
  const key = filter.keyOf(absPath);
  if (key === undefined || key === '') return undefined;
  const slash = key.lastIndexOf('/');
  const parentKey = slash < 0 ? '' : key.slice(0, slash);
  const state = filter.dirState(parentKey);
  if (state === undefined) return undefined;
  const scanner = new Scanner(source, filter.rules);
  let realRoot: string;
  let parentReal: string;
  const parentFs = parentPathOf(absPath);
  try {
    realRoot = keyOfPathBytes(fs.realpathSync.native(filter.root, { encoding: 'buffer' }));
    parentReal = keyOfPathBytes(fs.realpathSync.native(parentFs, { encoding: 'buffer' }));
  } catch {
    return undefined;
  }
  scanner.setRealRoot(realRoot);
  // Loop detection sees the real folders above the parent (the logical path is not known here).
  let ancestors: Ancestor | undefined;
  if (source.followSymlinks) {
    const parts = parentReal.split('/');
    for (let i = 1; i <= parts.length; i++) ancestors = { real: parts.slice(0, i).join('/') || '/', parent: ancestors };
  }
  const parent = new DirTask(parentFs, parentKey, parentReal, state, ancestors);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const result = scanner.entry(parent, name, key, absPath, false);
  return result instanceof DirTask ? undefined : result;
}

function parentPathOf(absPath: string | Buffer): string | Buffer {
  if (typeof absPath === 'string') return path.dirname(absPath);
  const slash = absPath.lastIndexOf(0x2f);
  return slash <= 0 ? Buffer.from('/') : absPath.subarray(0, slash);
}
