/**
 * Which paths of a folder source are the user's documents: hidden names, lanying-kb's own state folder,
 * `include`/`exclude` globs and `.kbignore` files. `scanFolder` and the daemon's watcher share these rules:
 * the scanner applies them folder by folder on the way down, `createPathFilter` answers for one path at a time.
 *
 * Glob syntax (picomatch), relative to the source root, matched against keys (see `path-key.ts`):
 * - a pattern without `/` matches at any depth (`*.md`, `drafts`); a leading `/` anchors it to the root;
 * - a trailing `/` makes an exclude pattern match folders only (`build/`); in `include` it means "everything below";
 * - an exclude pattern that matches a folder leaves out everything below it;
 * - a leading `!` is an exception: `include: ["**", "!*.tmp"]`, `exclude: ["archive", "!archive/keep/**"]`.
 * Matching is case-sensitive. `include` only selects files; folders are never left out by it, except that the
 * scan skips folders no include pattern can reach (`include: ["docs/**"]` never lists `other/`).
 */

import fs from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import type { ResolvedFolderSource } from './config.js';
import { KBIGNORE_FILE, extendChain } from './kbignore.js';
import type { KbignoreChain, KbignoreMatch } from './kbignore.js';
import { keyOfName, keyOfPathBytes, keyToFsPath } from './path-key.js';

/** What the rules know about one folder that is not left out. */
export interface DirState {
  /** Key of the folder relative to the source root; '' for the root. */
  readonly key: string;
  /** The `.kbignore` rules in force in the folder (its own file included). */
  readonly chain: KbignoreChain | undefined;
  /**
   * The folder (or an ancestor) matched an `exclude` pattern but was kept because an exception (`!pattern`)
   * may match something below it: files below are excluded unless an exception matches them.
   */
  readonly excludedUnlessException: boolean;
}

interface CompiledList {
  /** Matches a file key (or folder key, for `dirs`) against the positive patterns. */
  files: ((key: string) => boolean) | undefined;
  dirs: ((key: string) => boolean) | undefined;
  exceptions: ((key: string) => boolean) | undefined;
  /** Static folder prefixes of the positive (`bases`) and exception (`exceptionBases`) patterns; '' = anywhere. */
  bases: string[];
  exceptionBases: string[];
}

/**
 * Why the rules leave a path out, for `sync --dry-run -v` and `lanying-kb why` (see `PathRules.explainDir` and
 * `explainFile`). `index` is the pattern's position in the source's `include` or `exclude` list; `file` and `line`
 * name a `.kbignore` rule (`file` is a key: `.kbignore` at the root, `docs/.kbignore` below).
 */
export type LeftOutRule =
  | { kind: 'hidden' }
  | { kind: 'state-folder' }
  | { kind: 'exclude'; index: number; pattern: string; via?: string | undefined }
  | { kind: 'include'; reach: boolean }
  | { kind: 'include-exception'; index: number; pattern: string }
  | { kind: 'kbignore'; file: string; line: number; pattern: string };

/** One pattern of `include` or `exclude`, matched on its own (only to explain; the scan uses the compiled lists). */
interface SinglePattern {
  index: number;
  pattern: string;
  exception: boolean;
  dir: (key: string) => boolean;
  file: ((key: string) => boolean) | undefined;
}

interface NormalizedPattern {
  glob: string;
  exception: boolean;
  dirOnly: boolean;
}

function normalizePattern(raw: string): NormalizedPattern | undefined {
  let p = raw.trim();
  const exception = p.startsWith('!');
  if (exception) p = p.slice(1);
  while (p.startsWith('./')) p = p.slice(2);
  const dirOnly = p.endsWith('/');
  p = p.replace(/\/+$/, '');
  if (p.startsWith('/')) p = p.replace(/^\/+/, '');
  else if (!p.includes('/')) p = `**/${p}`;
  if (p === '' || p === '**/') return undefined;
  return { glob: p, exception, dirOnly };
}

function matcher(globs: string[]): ((key: string) => boolean) | undefined {
  if (globs.length === 0) return undefined;
  return picomatch(globs, { dot: true });
}

function staticBase(glob: string): string {
  return glob.startsWith('**') ? '' : picomatch.scan(glob).base;
}

function compileList(patterns: readonly string[], kind: 'include' | 'exclude'): CompiledList {
  const files: string[] = [];
  const dirs: string[] = [];
  const exceptions: string[] = [];
  const bases: string[] = [];
  const exceptionBases: string[] = [];
  for (const raw of patterns) {
    const n = normalizePattern(raw);
    if (!n) continue;
    // In `include`, `docs/` means every file below docs.
    const glob = kind === 'include' && n.dirOnly ? `${n.glob}/**` : n.glob;
    if (n.exception) {
      exceptions.push(glob);
      exceptionBases.push(staticBase(glob));
      continue;
    }
    dirs.push(glob);
    if (!(kind === 'exclude' && n.dirOnly)) files.push(glob);
    bases.push(staticBase(glob));
  }
  // An include list with exceptions only (`["!*.tmp"]`) means "everything but".
  if (kind === 'include' && files.length === 0 && exceptions.length > 0) {
    files.push('**');
    bases.push('');
  }
  return { files: matcher(files), dirs: matcher(dirs), exceptions: matcher(exceptions), bases, exceptionBases };
}

function singlePatterns(patterns: readonly string[], kind: 'include' | 'exclude'): SinglePattern[] {
  const out: SinglePattern[] = [];
  patterns.forEach((raw, index) => {
    const n = normalizePattern(raw);
    if (!n) return;
    const glob = kind === 'include' && n.dirOnly ? `${n.glob}/**` : n.glob;
    const match = picomatch(glob, { dot: true });
    out.push({ index, pattern: raw, exception: n.exception, dir: match, file: kind === 'exclude' && n.dirOnly ? undefined : match });
  });
  return out;
}

/** Whether a folder `dirKey` may contain a path matching a pattern whose static prefix is one of `bases`. */
function mayContain(bases: readonly string[], dirKey: string): boolean {
  for (const base of bases) {
    if (base === '' || base === dirKey || base.startsWith(`${dirKey}/`) || dirKey.startsWith(`${base}/`)) return true;
  }
  return false;
}

/** Whether a file or folder name is hidden (starts with a dot). */
export function isHiddenName(name: string): boolean {
  return name.charCodeAt(0) === 46;
}

/** The filtering rules of one folder source, without any file system access of their own. */
export class PathRules {
  /** Absolute path of the source root. */
  readonly root: string;
  /** True when `include` has no pattern: every file is reported (types the chatbot does not accept as skipped). */
  readonly defaultInclude: boolean;
  private readonly include: CompiledList;
  private readonly exclude: CompiledList;
  private readonly hasExcludes: boolean;
  /** Keys (relative to the root) of the folders in `excludeDirs` that lie inside the root. */
  private readonly excludedKeys: Set<string>;
  /** Real paths (escaped like keys) of the folders in `excludeDirs`. */
  private readonly excludedReal: Set<string>;
  /** The patterns one by one, made on the first `explain*` call. */
  private singles: { include: SinglePattern[]; exclude: SinglePattern[] } | undefined;
  private readonly patterns: { include: readonly string[]; exclude: readonly string[] };

  constructor(source: Pick<ResolvedFolderSource, 'path' | 'include' | 'exclude'>, excludeDirs: readonly string[] = []) {
    this.root = path.resolve(source.path);
    this.patterns = { include: source.include ?? [], exclude: source.exclude };
    this.include = compileList(source.include ?? [], 'include');
    // No include pattern at all (`include` unset or empty) means every file.
    this.defaultInclude = this.include.files === undefined;
    this.exclude = compileList(source.exclude, 'exclude');
    this.hasExcludes = this.exclude.dirs !== undefined;
    this.excludedKeys = new Set();
    this.excludedReal = new Set();
    for (const dir of excludeDirs) {
      const abs = path.resolve(dir);
      const rel = path.relative(this.root, abs);
      if (rel !== '' && rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel)) {
        this.excludedKeys.add(rel.split(path.sep).map(keyOfName).join('/'));
      }
      this.excludedReal.add(abs.split(path.sep).map(keyOfName).join('/'));
      try {
        this.excludedReal.add(keyOfPathBytes(fs.realpathSync(abs, { encoding: 'buffer' })));
      } catch {
        // Does not exist (yet): the lexical path above is all there is to compare.
      }
    }
  }

  /** The state of the source root, given the text of its `.kbignore` (if any). */
  rootState(kbignoreText: string | undefined): DirState {
    return { key: '', chain: extendChain(undefined, '', kbignoreText), excludedUnlessException: false };
  }

  /**
   * The state of the child folder `name` (key `key`) of `parent`, or `undefined` when the folder is left out
   * (hidden, a state folder, excluded, `.kbignore`d, or out of reach of every include pattern).
   * `realKey` is the folder's real path (escaped), when known, to recognise an excluded folder reached
   * through a symbolic link. The returned state still has the parent's `.kbignore` chain: extend it with
   * `withKbignore` once the folder's own file is known.
   */
  childDir(parent: DirState, key: string, name: string, realKey?: string): DirState | undefined {
    if (isHiddenName(name)) return undefined;
    if (this.excludedKeys.size > 0 && this.excludedKeys.has(key)) return undefined;
    if (realKey !== undefined && this.excludedReal.has(realKey)) return undefined;
    let excludedUnlessException = parent.excludedUnlessException;
    if (this.hasExcludes) {
      const ex = this.exclude;
      if (ex.exceptions?.(key)) {
        excludedUnlessException = false;
      } else if (excludedUnlessException || ex.dirs?.(key)) {
        if (!ex.exceptions || !mayContain(ex.exceptionBases, key)) return undefined;
        excludedUnlessException = true;
      }
    }
    if (parent.chain?.ignores(key, true)) return undefined;
    if (!this.defaultInclude && !mayContain(this.include.bases, key)) return undefined;
    return { key, chain: parent.chain, excludedUnlessException };
  }

  /** `state` with the rules of its own `.kbignore` added (`text` undefined: the folder has none). */
  withKbignore(state: DirState, text: string | undefined): DirState {
    const chain = extendChain(state.chain, state.key, text);
    return chain === state.chain ? state : { ...state, chain };
  }

  /**
   * Whether the file `name` (key `key`) in the folder `parent` is one of the user's documents: not hidden,
   * not excluded, not `.kbignore`d and, when `include` is set, matched by it. Its type is not checked here.
   */
  includesFileIn(parent: DirState, key: string, name: string): boolean {
    if (isHiddenName(name)) return false;
    if (this.hasExcludes) {
      const ex = this.exclude;
      if (parent.excludedUnlessException || ex.files?.(key)) {
        if (!ex.exceptions?.(key)) return false;
      }
    }
    if (parent.chain?.ignores(key, false)) return false;
    if (!this.defaultInclude) {
      if (!this.include.files?.(key)) return false;
      if (this.include.exceptions?.(key)) return false;
    }
    return true;
  }

  /**
   * Why `childDir` leaves the folder out (the first rule that does, in the order it checks them), or undefined when
   * it does not. Only for explaining: the scan calls `childDir`.
   */
  explainDir(parent: DirState, key: string, name: string, realKey?: string): LeftOutRule | undefined {
    if (isHiddenName(name)) return { kind: 'hidden' };
    if (this.excludedKeys.has(key) || (realKey !== undefined && this.excludedReal.has(realKey))) return { kind: 'state-folder' };
    if (this.hasExcludes) {
      const ex = this.exclude;
      if (!ex.exceptions?.(key) && (parent.excludedUnlessException || ex.dirs?.(key)) && (!ex.exceptions || !mayContain(ex.exceptionBases, key))) {
        return this.excludeRule(key, true);
      }
    }
    const kbignore = parent.chain?.explain(key, true);
    if (kbignore) return kbignoreRule(kbignore);
    if (!this.defaultInclude && !mayContain(this.include.bases, key)) return { kind: 'include', reach: true };
    return undefined;
  }

  /** Why `includesFileIn` leaves the file out, or undefined when it does not. Only for explaining. */
  explainFile(parent: DirState, key: string, name: string): LeftOutRule | undefined {
    if (isHiddenName(name)) return { kind: 'hidden' };
    if (this.hasExcludes) {
      const ex = this.exclude;
      if ((parent.excludedUnlessException || ex.files?.(key)) && !ex.exceptions?.(key)) return this.excludeRule(key, false);
    }
    const kbignore = parent.chain?.explain(key, false);
    if (kbignore) return kbignoreRule(kbignore);
    if (!this.defaultInclude) {
      if (!this.include.files?.(key)) return { kind: 'include', reach: false };
      const exception = this.singlePatterns().include.find((p) => p.exception && p.dir(key));
      if (exception) return { kind: 'include-exception', index: exception.index, pattern: exception.pattern };
    }
    return undefined;
  }

  /** The `exclude` pattern that leaves `key` out: one that matches it, else one that matches the nearest folder above. */
  private excludeRule(key: string, isDir: boolean): LeftOutRule {
    const positive = this.singlePatterns().exclude.filter((p) => !p.exception);
    const own = positive.find((p) => (isDir ? p.dir(key) : p.file?.(key)));
    if (own) return { kind: 'exclude', index: own.index, pattern: own.pattern };
    for (let dir = parentKey(key); dir !== ''; dir = parentKey(dir)) {
      const match = positive.find((p) => p.dir(dir));
      if (match) return { kind: 'exclude', index: match.index, pattern: match.pattern, via: dir };
    }
    return { kind: 'exclude', index: -1, pattern: '' };
  }

  private singlePatterns(): { include: SinglePattern[]; exclude: SinglePattern[] } {
    this.singles ??= { include: singlePatterns(this.patterns.include, 'include'), exclude: singlePatterns(this.patterns.exclude, 'exclude') };
    return this.singles;
  }
}

function parentKey(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

function kbignoreRule(match: KbignoreMatch): LeftOutRule {
  return { kind: 'kbignore', file: match.base === '' ? KBIGNORE_FILE : `${match.base}/${KBIGNORE_FILE}`, line: match.line, pattern: match.pattern };
}

/**
 * The rules of one folder source for one path at a time, e.g. for the daemon's watcher. `.kbignore` files are
 * read lazily, once per folder, and cached: call `invalidate` when one changes.
 */
export interface PathFilter {
  /** Absolute path of the source root. */
  readonly root: string;
  /** The shared rules (what `scanFolder` applies). */
  readonly rules: PathRules;
  /** The key of an absolute path below the root ('' for the root itself), or `undefined` when it is outside. */
  keyOf(absPath: string | Buffer): string | undefined;
  /** Whether the folder `relDir` (a key; '' = root) or any folder above it is left out. */
  ignoresDir(relDir: string): boolean;
  /**
   * Whether the file `relPath` (a key) is one the scan reports (to upload, or as skipped with a reason):
   * not hidden, not excluded or ignored (nor is any folder above it), matched by `include` when set.
   */
  includesFile(relPath: string): boolean;
  /**
   * For a watcher's `ignored(path, stats)` callback: whether to ignore an absolute path. With `isDir`
   * unknown, a path is ignored only if it is left out both as a folder and as a file. `.kbignore` files in
   * folders that are not left out are never ignored, so their changes can be seen (see `isKbignoreFile`).
   * Paths outside the root are ignored.
   */
  ignores(absPath: string | Buffer, isDir?: boolean): boolean;
  /** Whether `relPath` names a `.kbignore` file: on a change, call `invalidate(dirname)` and rescan that folder. */
  isKbignoreFile(relPath: string): boolean;
  /** The folder state used by the scan for `relDir`, or `undefined` when the folder is left out. */
  dirState(relDir: string): DirState | undefined;
  /** Forgets the cached `.kbignore` rules of `relDir` and every folder below it (everything when omitted). */
  invalidate(relDir?: string): void;
}

/** The same rules `scanFolder` applies, for one path at a time. See `PathFilter`. */
export function createPathFilter(
  source: Pick<ResolvedFolderSource, 'path' | 'include' | 'exclude'>,
  options: { excludeDirs?: readonly string[] } = {},
): PathFilter {
  return new LazyPathFilter(new PathRules(source, options.excludeDirs ?? []));
}

/** Marks a folder left out in the cache. */
const LEFT_OUT = null;
/** A `.kbignore` that exists but cannot be read. */
const UNREADABLE: unique symbol = Symbol('unreadable');

class LazyPathFilter implements PathFilter {
  readonly root: string;
  private readonly rootKey: string;
  private readonly cache = new Map<string, DirState | typeof LEFT_OUT>();

  constructor(readonly rules: PathRules) {
    this.root = rules.root;
    this.rootKey = this.root.split('/').map(keyOfName).join('/');
  }

  keyOf(absPath: string | Buffer): string | undefined {
    const text = typeof absPath === 'string' ? absPath.split('/').map(keyOfName).join('/') : keyOfPathBytes(absPath);
    if (!text.startsWith('/')) return undefined; // only absolute paths (never relative to a working folder)
    const rel = path.posix.relative(this.rootKey, path.posix.normalize(text));
    if (rel === '..' || rel.startsWith('../') || path.posix.isAbsolute(rel)) return undefined;
    return rel;
  }

  dirState(relDir: string): DirState | undefined {
    const cached = this.cache.get(relDir);
    if (cached !== undefined) return cached ?? undefined;
    let state: DirState | undefined;
    if (relDir === '') {
      const text = this.readKbignore('');
      state = text === UNREADABLE ? undefined : this.rules.rootState(text);
    } else {
      const slash = relDir.lastIndexOf('/');
      const parent = this.dirState(slash < 0 ? '' : relDir.slice(0, slash));
      const child = parent && this.rules.childDir(parent, relDir, relDir.slice(slash + 1));
      if (child) {
        const text = this.readKbignore(relDir);
        state = text === UNREADABLE ? undefined : this.rules.withKbignore(child, text);
      }
    }
    this.cache.set(relDir, state ?? LEFT_OUT);
    return state;
  }

  ignoresDir(relDir: string): boolean {
    return this.dirState(relDir) === undefined;
  }

  includesFile(relPath: string): boolean {
    const slash = relPath.lastIndexOf('/');
    const parent = this.dirState(slash < 0 ? '' : relPath.slice(0, slash));
    return parent !== undefined && this.rules.includesFileIn(parent, relPath, relPath.slice(slash + 1));
  }

  ignores(absPath: string | Buffer, isDir?: boolean): boolean {
    const key = this.keyOf(absPath);
    if (key === undefined) return true;
    if (key === '') return false;
    if (this.isKbignoreFile(key)) {
      const slash = key.lastIndexOf('/');
      return this.ignoresDir(slash < 0 ? '' : key.slice(0, slash));
    }
    if (isDir === true) return this.ignoresDir(key);
    if (isDir === false) return !this.includesFile(key);
    return this.ignoresDir(key) && !this.includesFile(key);
  }

  isKbignoreFile(relPath: string): boolean {
    return relPath === KBIGNORE_FILE || relPath.endsWith(`/${KBIGNORE_FILE}`);
  }

  invalidate(relDir?: string): void {
    if (relDir === undefined || relDir === '') {
      this.cache.clear();
      return;
    }
    const prefix = `${relDir}/`;
    for (const key of this.cache.keys()) {
      if (key === relDir || key.startsWith(prefix)) this.cache.delete(key);
    }
  }

  /** The text of the folder's `.kbignore`, `undefined` when it has none, `UNREADABLE` when it cannot be read. */
  private readKbignore(relDir: string): string | undefined | typeof UNREADABLE {
    const fsDir = relDir === '' ? this.root : joinFsPath(this.root, keyToFsPath(relDir));
    try {
      return fs.readFileSync(joinFsPath(fsDir, KBIGNORE_FILE), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A folder whose rules cannot be read is left out: better than uploading what it may ignore.
      return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : UNREADABLE;
    }
  }
}

/** Joins an absolute folder path and a relative path, either of which may be bytes. */
export function joinFsPath(dir: string | Buffer, rel: string | Buffer): string | Buffer {
  if (typeof dir === 'string' && typeof rel === 'string') return `${dir === '/' ? '' : dir}/${rel}`;
  const head = typeof dir === 'string' ? Buffer.from(dir === '/' ? '' : dir) : dir;
  return Buffer.concat([head, SLASH_BYTES, typeof rel === 'string' ? Buffer.from(rel) : rel]);
}

const SLASH_BYTES = Buffer.from('/');
