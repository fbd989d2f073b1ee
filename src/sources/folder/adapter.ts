import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { LanyingKbError, SourceError } from '../../errors.js';
import type {
  HashResult,
  Observation,
  ObservationBatch,
  ObserveContext,
  ObservedItem,
  SourceAdapter,
  SourceCheck,
  SourceSession,
} from '../types.js';
import { folderSourceSchema, type ResolvedFolderSource, resolveFolderSource } from './config.js';
import { hashFiles } from './hash.js';
import { folderExplain, folderLeftOut } from './left-out.js';
import { assertRootAvailable } from './root-check.js';
import { createPathFilter, joinFsPath, type PathFilter } from './path-filter.js';
import { keyToFsPath } from './path-key.js';
import { type FolderScan, openScan, scanFolders, type ScannedFile, statToFile } from './scan.js';
import { SourceWatcher, type WatcherFactory } from './watcher.js';

/** The name under which folder sources keep their run-wide state in `ObserveContext.runState`. */
const RUN_STATE = 'folder';

interface FolderRunState {
  /**
   * Real path → the source that reports it. Undefined when no two folder sources can share a file (no overlap, no
   * followed links): then no map entry per file is spent. (When it is defined, it holds one entry per file of the
   * run: the one structure of a folder sync that grows with the tree.)
   */
  claims: Map<string, string> | undefined;
}

/**
 * Folder sources: every supported file below a folder, found by a scan (`scan.ts`) that applies the source's rules
 * (`path-filter.ts`, `.kbignore`), hashed with SHA-256 when their size, time or inode changed (`hash.ts`), watched by
 * the daemon (`watcher.ts`). A file is sent as a file message; its title is read from it when sent.
 */
export const folderSource: SourceAdapter<ResolvedFolderSource, typeof folderSourceSchema> = {
  type: 'folder',
  title: 'folders',
  schema: folderSourceSchema,
  resolve: resolveFolderSource,
  describe: (source) => `folder ${source.path}`,

  async open(source, ctx) {
    const runState = ctx.runState.get(RUN_STATE) as FolderRunState | undefined;
    // Throws SourceError when the root looks unmounted (root-check.ts), or when the folder cannot be scanned at all:
    // neither ever reads as "all removed". The rest of the scan streams: each folder is observed as soon as it is
    // listed and classified.
    assertRootAvailable(source, ctx.memo);
    const scan = openScan(source, { excludeDirs: [...ctx.excludeDirs], signal: ctx.signal });
    return observation(source, scan, runState?.claims, ctx.onProgress);
  },

  async hash(source, items, ctx) {
    const files = items.map((item) => {
      const payload = item.payload;
      if (payload?.type !== 'file') throw new Error(`folder source: ${item.key} has no file to hash`);
      return { fsPath: payload.fsPath, size: item.size };
    });
    const results = await hashFiles(files, { signal: ctx.signal });
    return results.map((result): HashResult => {
      if ('sha256' in result) {
        // The limit holds for what was read, not for what was listed: a file may grow between the two, or between an
        // upload and its re-hash.
        if (result.size > source.maxFileSize) {
          const reason = `larger than maxFileSize (${result.size} > ${source.maxFileSize} bytes)`;
          return { failure: reason, gone: false, skip: { code: 'too-large', reason } };
        }
        return { hash: result.sha256, size: result.size };
      }
      return { failure: `unreadable (${describeCause(result.cause ?? result)})`, gone: result.changed };
    });
  },

  session(source, ctx) {
    return new FolderSession(source, ctx.excludeDirs);
  },

  async prepareRun(all, selected, ctx) {
    const state: FolderRunState = { claims: mayShareFiles(all) ? new Map() : undefined };
    ctx.runState.set(RUN_STATE, state);
    if (!state.claims) return;
    // A file covered by two folder sources belongs to the first in the config. When the run leaves out an earlier
    // source whose folder overlaps a selected one, that source's files are claimed first (scanned, not hashed).
    const claimants = new Set<ResolvedFolderSource>();
    for (const source of selected) {
      const index = all.indexOf(source);
      for (const earlier of all.slice(0, Math.max(0, index))) {
        if (!selected.includes(earlier) && overlaps(earlier.path, source.path)) claimants.add(earlier);
      }
    }
    for (const source of claimants) {
      try {
        for await (const folder of scanFolders(source, { excludeDirs: [...ctx.excludeDirs], signal: ctx.signal })) {
          for (const file of folder.files) if (!file.skipReason && !state.claims.has(file.realPath)) state.claims.set(file.realPath, source.name);
        }
      } catch (error) {
        if (!(error instanceof LanyingKbError)) throw error;
      }
    }
  },

  watch(source, session, options) {
    const watcher = new SourceWatcher({
      source,
      filter: () => (session as FolderSession).filter,
      onEvent: options.onEvent,
      onFallback: options.onFallback,
      onError: options.onError,
      pollIntervalMs: options.pollIntervalMs,
      rootCheckIntervalMs: options.rootCheckIntervalMs,
      factory: options.testHooks?.watcherFactory as WatcherFactory | undefined,
    });
    void watcher.start();
    return watcher;
  },

  leftOut: (source, ctx) => folderLeftOut(source, ctx),

  explain: (source, absPath, ctx) => folderExplain(source, absPath, ctx),

  validate(source): SourceCheck[] {
    let isDir: boolean;
    try {
      isDir = statSync(source.path).isDirectory();
    } catch {
      isDir = false;
    }
    const checks: SourceCheck[] = [{ ok: isDir, detail: isDir ? `folder ${source.path}` : `folder ${source.path} does not exist or is not a folder` }];
    if (isDir && source.marker !== undefined) {
      const present = existsSync(path.join(source.path, source.marker));
      checks.push({ ok: present, detail: present ? `marker ${source.marker} present` : `marker file ${source.marker} is missing from ${source.path} (not mounted?)` });
    }
    return checks;
  },
};

/** The engine's lasting view of a folder source: its filter (with the `.kbignore` cache) for watched paths. */
class FolderSession implements SourceSession {
  readonly filter: PathFilter;

  constructor(
    private readonly source: ResolvedFolderSource,
    excludeDirs: readonly string[],
  ) {
    this.filter = createPathFilter(source, { excludeDirs });
  }

  async observePaths(paths: readonly (string | Buffer)[], ctx: ObserveContext): Promise<ObservationBatch> {
    // A root that vanished (a disk unmounted, a folder moved away) makes every watched path look deleted, and a
    // watcher (polling, above all) reports every file gone when the folder is unmounted: no removal.
    assertRootFolder(this.source);
    assertRootAvailable(this.source, ctx.memo);
    const claims = (ctx.runState.get(RUN_STATE) as FolderRunState | undefined)?.claims;
    const items: ObservedItem[] = [];
    const keys: string[] = [];
    for (const absPath of paths) {
      const file = statToFile(this.source, absPath, { filter: this.filter });
      const key = file?.key ?? this.filter.keyOf(absPath);
      if (key === undefined || key === '') continue;
      keys.push(key);
      if (file) items.push(itemOf(this.source, file, claims));
    }
    return { scope: { kind: 'keys', keys }, items, complete: true };
  }

  invalidate(relDir?: string): void {
    this.filter.invalidate(relDir);
  }

  exists(key: string): boolean {
    return existsSync(joinFsPath(this.source.path, keyToFsPath(key)));
  }
}

/** Throws the source's `SourceError` when its root is not a folder any more (as a full scan does). */
function assertRootFolder(source: ResolvedFolderSource): void {
  let isFolder: boolean;
  try {
    isFolder = statSync(source.path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SourceError(source.name, code === 'ENOENT' ? `folder ${source.path} does not exist` : `cannot access folder ${source.path} (${code ?? 'error'})`, { cause: error });
  }
  if (!isFolder) throw new SourceError(source.name, `${source.path} is not a folder`);
}

function observation(
  source: ResolvedFolderSource,
  scan: FolderScan,
  claims: Map<string, string> | undefined,
  onProgress: ObserveContext['onProgress'],
): Observation {
  async function* batches(): AsyncGenerator<ObservationBatch> {
    let seen = 0;
    // One key per listed folder (not per file): what the `other-folders` batch needs to tell the folders that went away.
    const listed = new Set<string>();
    const incomplete: string[] = [];
    for await (const folder of scan) {
      const items: ObservedItem[] = [];
      for (const file of folder.files) {
        // Folders that could not be read: what is known below them is kept, not taken for removed.
        if (file.isDir && file.skipCode === 'unreadable') incomplete.push(file.key);
        items.push(itemOf(source, file, claims));
      }
      if (folder.unreadable) {
        // Reported, and nothing in it is taken for removed.
        yield { scope: { kind: 'folder', dir: folder.dir }, items, complete: false };
        continue;
      }
      listed.add(folder.dir);
      seen += items.length;
      onProgress?.({ phase: 'scan', source: source.name, done: seen });
      yield { scope: { kind: 'folder', dir: folder.dir, part: folder.part }, items, complete: true };
    }
    onProgress?.({ phase: 'scan', source: source.name, done: seen, total: seen, items: seen });
    yield { scope: { kind: 'other-folders', listed, incomplete }, items: [], complete: true };
  }
  return { [Symbol.asyncIterator]: batches, close: () => scan.close() };
}

/** The observed item of a scanned file (or of a folder reported instead of entered). */
function itemOf(source: ResolvedFolderSource, file: ScannedFile, claims: Map<string, string> | undefined): ObservedItem {
  if (file.isDir) {
    return { key: `${file.key}/`, kind: 'file', size: 0, isFolder: true, skip: { code: file.skipCode ?? 'folder', reason: file.skipReason ?? 'folder left out' } };
  }
  const stat = { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino };
  const claimedBy = claims?.get(file.realPath);
  if (file.skipReason !== undefined || (claimedBy !== undefined && claimedBy !== source.name)) {
    const reason = file.skipReason ?? `also in source "${claimedBy}", which syncs it`;
    return { key: file.key, kind: 'file', size: file.size, stat, skip: { code: file.skipCode ?? 'claimed', reason } };
  }
  claims?.set(file.realPath, source.name);
  return {
    key: file.key,
    kind: 'file',
    size: file.size,
    stat,
    payload: { type: 'file', fsPath: file.fsPath, name: displayNameOf(file.key), title: undefined, link: linkFor(source.linkBase, file.key), expect: stat },
  };
}

/** True when two folder sources may cover the same file: their folders overlap, or links are followed. */
function mayShareFiles(folders: readonly ResolvedFolderSource[]): boolean {
  if (folders.length < 2) return false;
  if (folders.some((s) => s.followSymlinks)) return true;
  return folders.some((a, i) => folders.slice(i + 1).some((b) => overlaps(a.path, b.path)));
}

function overlaps(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const ra = real(a) + path.sep;
  const rb = real(b) + path.sep;
  return ra.startsWith(rb) || rb.startsWith(ra);
}

/** The display name (`dName`) of a file: its base name with the extension in lower case. */
export function displayNameOf(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return base;
  // Every observed file gets one: most extensions are in lower case already, and then no new text is made.
  const ext = base.slice(dot);
  const lower = ext.toLowerCase();
  return lower === ext ? base : base.slice(0, dot) + lower;
}

/** `linkBase` + the relative path, each segment percent-encoded. */
export function linkFor(linkBase: string | undefined, key: string): string | undefined {
  if (!linkBase) return undefined;
  const base = linkBase.endsWith('/') ? linkBase : `${linkBase}/`;
  return base + key.split('/').map(encodeSegment).join('/');
}

function encodeSegment(segment: string): string {
  // Keys escape invalid UTF-8 bytes as %XX already; keep those escapes as they are.
  return segment.split(/(%[0-9A-F]{2})/).map((part, i) => (i % 2 === 1 ? part : encodeURIComponent(part))).join('');
}

function describeCause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  return error instanceof Error ? error.message : String(error);
}
