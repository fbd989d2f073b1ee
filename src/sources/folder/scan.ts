/**
 * Lists the documents of a folder source: one `lstat` per entry, the filters of `path-filter.ts`, and a
 * skip reason for every file that is reported but must not be uploaded.
 *
 * Design, measured on a 100k-file tree (warm cache, 2 cores): the `lstat` calls are most of a scan's time.
 * Synchronous `readdirSync` + `lstatSync` beat `fs.promises` and callback `fs.stat` with bounded parallelism
 * (the per-request overhead of the thread pool outweighs its parallelism), so the scan runs synchronously in
 * time slices of a few milliseconds and yields to the event loop in between. Entries are `lstat`ed in
 * batches; on a large tree a worker thread (`fs-worker.ts`) takes some of the batches while this thread
 * lists folders and classifies entries, which cut the scan time by about a third. Folders are read as strings;
 * only a folder holding a name that did not decode (U+FFFD) is read again as bytes.
 */

import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedFolderSource } from './config.js';
import { SourceError } from '../../errors.js';
import { KBIGNORE_FILE } from './kbignore.js';
import { PathRules, createPathFilter, joinFsPath } from './path-filter.js';
import type { DirState, PathFilter } from './path-filter.js';
import { keyOfName, keyOfNameBytes, keyOfPathBytes } from './path-key.js';
import { FsWorker, STAT_FAILED, STAT_FIELDS, STAT_GONE } from './fs-worker.js';
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

/** One listed folder of a scan: its key ('' for the root) and what it reports. */
export interface ScannedFolder {
  dir: string;
  /** The folder's files (in name order), with the folders reported instead of listed (`isDir`). */
  files: ScannedFile[];
}

/** Options of `scanFolder`. */
export interface ScanOptions {
  /** Absolute paths of folders to leave out wherever they appear (lanying-kb's own state folder). */
  excludeDirs?: string[];
  /** Stops the scan: it then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Whether a worker thread makes some of the `lstat` calls: 'auto' (default) starts one once a scan has
   * listed a few thousand entries on a machine with more than one core; 'always' and 'never' are for tests
   * and measurements. The result is the same either way.
   */
  statWorker?: 'auto' | 'always' | 'never';
  /** Told how many entries were listed so far, each time the scan yields to the event loop. */
  onProgress?: ((listed: number) => void) | undefined;
}

/** How long the scan works before it yields to the event loop. */
const SLICE_MS = 8;

const SUPPORTED = new Set(KB_SUPPORTED_EXTENSIONS);
const KBIGNORE_BYTES = Buffer.from(KBIGNORE_FILE);
const REPLACEMENT_CHAR = '\uFFFD';

/** Real paths of the folders between the root and a folder, for symlink loop detection. */
interface Ancestor {
  readonly real: string;
  readonly parent: Ancestor | undefined;
}

/** The numbers of an `lstat` the scan uses (`fs.Stats` has them, and so does a worker's answer). */
interface StatLike {
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
  uid: number;
  gid: number;
}

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = fs.constants;

/** A folder: waiting to be listed, listed (its entries in `slots` as they are classified), or reported. */
class DirTask {
  /** What each entry of the listing turned out to be, by position (files in name order, then folders). */
  slots: (ScannedFile | DirTask | undefined)[] | undefined;
  /** Set when the folder is reported instead of scanned (it cannot be read). */
  report: ScannedFile | undefined;

  constructor(
    readonly fsPath: string | Buffer,
    readonly key: string,
    /** Real path, escaped. */
    readonly real: string,
    public state: DirState,
    readonly ancestors: Ancestor | undefined,
  ) {}
}

/** Entries waiting for their `lstat`, in parallel arrays. */
class Job {
  readonly tasks: DirTask[] = [];
  readonly slots: number[] = [];
  readonly names: string[] = [];
  readonly keys: string[] = [];
  readonly paths: (string | Buffer)[] = [];
}

/** Entries per `lstat` batch. */
const JOB_SIZE = 256;
/** Batches kept ready before more folders are listed. */
const LOOKAHEAD = 8;
/** Batches a stat worker holds at once. */
const WORKER_DEPTH = 2;
/** Entries listed before a scan in `auto` mode starts a stat worker (its start costs ~30 ms). */
const WORKER_MIN_ENTRIES = 4096;

function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
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

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const NO_THROW = { throwIfNoEntry: false } as const;

/** The scanning rules and state of one source. Shared by `scanFolder` and `statToFile`. */
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
  /** Folders waiting to be listed. */
  readonly dirs: DirTask[] = [];
  /** Full batches of entries waiting for their `lstat`. */
  readonly jobs: Job[] = [];
  /** The batch being filled. */
  private current = new Job();
  /** Entries listed so far. */
  listed = 0;
  /** Reused for the numbers of a worker's answer. */
  private readonly scratch: StatLike = { mode: 0, size: 0, mtimeMs: 0, ino: 0, uid: 0, gid: 0 };

  constructor(
    readonly source: ResolvedFolderSource,
    rules: PathRules,
  ) {
    this.rules = rules;
    this.root = rules.root;
    this.follow = source.followSymlinks;
    this.maxFileSize = source.maxFileSize;
    this.uid = process.getuid?.();
  }

  /** Checks and lists the root and returns its task; throws `SourceError` when it cannot be scanned. */
  openRoot(): DirTask {
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
    let names: string[] | Buffer[];
    try {
      names = readNames(root);
    } catch (error) {
      throw new SourceError(this.source.name, `cannot read folder ${root} (${errnoCode(error)})`, { cause: error });
    }
    let text: string | undefined;
    try {
      text = hasKbignore(names) ? readKbignore(root) : undefined;
    } catch (error) {
      throw new SourceError(this.source.name, `cannot read ${path.join(root, KBIGNORE_FILE)} (${errnoCode(error)})`, { cause: error });
    }
    const real = this.realRoot;
    const task = new DirTask(root, '', real, this.rules.rootState(text), this.follow ? { real, parent: undefined } : undefined);
    this.queueEntries(task, names);
    return task;
  }

  setRealRoot(realRoot: string): void {
    this.realRoot = realRoot;
    this.realRootPrefix = realRoot === '/' ? '/' : `${realRoot}/`;
  }

  /** Lists the next waiting folder: its entries join the `lstat` batches. */
  listNext(): void {
    const task = this.dirs.pop() as DirTask;
    let names: string[] | Buffer[];
    try {
      names = readNames(task.fsPath);
    } catch (error) {
      const code = errnoCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') task.report = this.dirReport(task, 'unreadable', `unreadable folder (${code})`);
      return;
    }
    if (hasKbignore(names)) {
      let text: string | undefined;
      try {
        text = readKbignore(task.fsPath);
      } catch (error) {
        task.report = this.dirReport(task, 'unreadable', `unreadable ${KBIGNORE_FILE} (${errnoCode(error)})`);
        return;
      }
      task.state = this.rules.withKbignore(task.state, text);
    }
    this.queueEntries(task, names);
  }

  private queueEntries(task: DirTask, names: string[] | Buffer[]): void {
    task.slots = new Array(names.length);
    const fsDir = task.fsPath;
    const prefix = typeof fsDir === 'string' ? (fsDir === '/' ? '/' : `${fsDir}/`) : undefined;
    const keyPrefix = task.key === '' ? '' : `${task.key}/`;
    let job = this.current;
    for (let i = 0; i < names.length; i++) {
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
    this.current = job;
    this.listed += names.length;
  }

  /** Moves the partly filled batch to `jobs` (when there is nothing else to do). */
  flush(): void {
    if (this.current.paths.length === 0) return;
    this.jobs.push(this.current);
    this.current = new Job();
  }

  get hasPartialJob(): boolean {
    return this.current.paths.length > 0;
  }

  /** Runs `lstat` on the entries of a batch here and classifies them. */
  runLocal(job: Job): void {
    const { tasks, slots, names, keys, paths } = job;
    for (let i = 0; i < paths.length; i++) {
      const fsChild = paths[i] as string | Buffer;
      let st: fs.Stats | undefined;
      let error: string | undefined;
      try {
        st = fs.lstatSync(fsChild, NO_THROW);
      } catch (e) {
        error = errnoCode(e);
      }
      this.place(tasks[i] as DirTask, slots[i] as number, this.classify(tasks[i] as DirTask, names[i] as string, keys[i] as string, fsChild, st, error, true));
    }
  }

  /** Classifies the entries of a batch from a stat worker's answer. */
  applyResult(job: Job, stats: Float64Array, errors: Record<number, string> | undefined): void {
    const { tasks, slots, names, keys, paths } = job;
    const st = this.scratch;
    for (let i = 0; i < paths.length; i++) {
      const o = i * STAT_FIELDS;
      const mode = stats[o] as number;
      if (mode === STAT_GONE) continue;
      let result: ScannedFile | DirTask | undefined;
      if (mode === STAT_FAILED) {
        result = this.classify(tasks[i] as DirTask, names[i] as string, keys[i] as string, paths[i] as string | Buffer, undefined, errors?.[i] ?? 'EIO', true);
      } else {
        st.mode = mode;
        st.size = stats[o + 1] as number;
        st.mtimeMs = stats[o + 2] as number;
        st.ino = stats[o + 3] as number;
        st.uid = stats[o + 4] as number;
        st.gid = stats[o + 5] as number;
        result = this.classify(tasks[i] as DirTask, names[i] as string, keys[i] as string, paths[i] as string | Buffer, st, undefined, true);
      }
      this.place(tasks[i] as DirTask, slots[i] as number, result);
    }
  }

  private place(task: DirTask, slot: number, result: ScannedFile | DirTask | undefined): void {
    if (result === undefined) return;
    (task.slots as (ScannedFile | DirTask | undefined)[])[slot] = result;
    if (result instanceof DirTask) this.dirs.push(result);
  }

  /**
   * The listed folders, each with its reported files (in name order; folders reported instead of listed among them),
   * in scan order: a folder before its subfolders.
   */
  collect(root: DirTask): ScannedFolder[] {
    const out: ScannedFolder[] = [];
    const stack: DirTask[] = [root];
    const subdirs: DirTask[] = [];
    while (stack.length > 0) {
      const task = stack.pop() as DirTask;
      const slots = task.slots;
      if (slots === undefined) continue;
      task.slots = undefined;
      const files: ScannedFile[] = [];
      for (let i = 0; i < slots.length; i++) {
        const entry = slots[i];
        if (entry === undefined) continue;
        if (!(entry instanceof DirTask)) files.push(entry);
        else if (entry.report !== undefined) files.push(entry.report);
        else subdirs.push(entry);
      }
      out.push({ dir: task.key, files });
      for (let j = subdirs.length - 1; j >= 0; j--) stack.push(subdirs[j] as DirTask);
      subdirs.length = 0;
    }
    return out;
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

/** The names in a folder, sorted; as Buffers when the folder path is bytes or a name is not valid UTF-8. */
function readNames(fsPath: string | Buffer): string[] | Buffer[] {
  if (typeof fsPath === 'string') {
    const names = fs.readdirSync(fsPath);
    let suspicious = false;
    for (const n of names) {
      if (n.includes(REPLACEMENT_CHAR)) {
        suspicious = true;
        break;
      }
    }
    if (!suspicious) return names.sort();
  }
  return fs.readdirSync(fsPath, { encoding: 'buffer' }).sort(Buffer.compare);
}

function hasKbignore(names: string[] | Buffer[]): boolean {
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
 */
export async function scanFolder(source: ResolvedFolderSource, options: ScanOptions = {}): Promise<ScannedFile[]> {
  const files: ScannedFile[] = [];
  // Note: a loop, not push(...list): a spread of 100k+ arguments overflows the stack.
  for (const folder of await scanFolders(source, options)) for (const file of folder.files) files.push(file);
  return files;
}

/** `scanFolder`, folder by folder: every listed folder (empty ones too), a folder before its subfolders. */
export async function scanFolders(source: ResolvedFolderSource, options: ScanOptions = {}): Promise<ScannedFolder[]> {
  const { signal } = options;
  signal?.throwIfAborted();
  const scanner = new Scanner(source, new PathRules(source, options.excludeDirs ?? []));
  const root = scanner.openRoot();
  const mode = options.statWorker ?? 'auto';
  let mayUseWorker = mode === 'always' || (mode === 'auto' && os.availableParallelism() > 1);
  let worker: FsWorker<Job> | undefined;
  const { dirs, jobs } = scanner;
  try {
    let deadline = performance.now() + SLICE_MS;
    for (;;) {
      if (worker !== undefined) {
        for (let r = worker.poll(); r !== undefined; r = worker.poll()) if (r.op === 'lstat') scanner.applyResult(r.tag, r.stats, r.errors);
        if (worker.dead) {
          // It failed: do its batches here, and do not start another one.
          jobs.push(...worker.takeUnanswered());
          worker.close();
          worker = undefined;
        }
      } else if (mayUseWorker && (mode === 'always' || scanner.listed >= WORKER_MIN_ENTRIES)) {
        mayUseWorker = false; // one attempt per scan
        try {
          worker = new FsWorker<Job>();
        } catch {
          // No thread to be had (resource limits): this thread does it all, as on a single core.
        }
      }

      if (dirs.length > 0 && jobs.length < LOOKAHEAD) {
        scanner.listNext();
      } else {
        if (jobs.length === 0) scanner.flush();
        // Keep the worker busy, but keep a batch for this thread too.
        while (worker !== undefined && !worker.dead && worker.inFlight < WORKER_DEPTH && jobs.length > 1) {
          const job = jobs.pop() as Job;
          worker.send(job.paths, job);
        }
        const job = jobs.pop();
        if (job !== undefined) {
          scanner.runLocal(job);
        } else if (dirs.length > 0) {
          scanner.listNext();
        } else if (worker !== undefined && worker.inFlight > 0) {
          await worker.wait();
          signal?.throwIfAborted();
          deadline = performance.now() + SLICE_MS;
          continue;
        } else if (!scanner.hasPartialJob) {
          break;
        }
      }

      if (performance.now() > deadline) {
        options.onProgress?.(scanner.listed);
        await yieldToEventLoop();
        signal?.throwIfAborted();
        deadline = performance.now() + SLICE_MS;
      }
    }
  } finally {
    worker?.close();
  }
  return scanner.collect(root);
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
