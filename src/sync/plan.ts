import type { ResolvedFolderSource, ResolvedSource, ResolvedUrlSource } from '../config/resolve.js';
import { FetchError, LocalFileError } from '../errors.js';
import { displayNameOf, linkFor, titleFromName } from './document-metadata.js';
import { scanFolder, type ScannedFile } from './folder-scan.js';
import { hashFiles } from './hash.js';
import type { PlanAction, ReportEntry } from './report.js';
import { type DocumentKind, type DocumentRecord, type KnownDocument, newDocumentRecord, type StateStore } from './state-store.js';
import type { FetchOptions } from './url-fetch.js';

/** What to send for one document. */
export interface SendTask {
  kind: DocumentKind;
  /** A file on disk: a folder's file, or a downloaded URL document. */
  fsPath?: string | Buffer;
  /** A page sent as a URL. */
  url?: string;
  /** The display name (`dName`) of a file. */
  dName?: string;
  hash: string;
  size: number;
  title: string | undefined;
  link: string | undefined;
  /** For a folder's file: its stat when hashed, to notice a change during the upload. */
  stat?: { size: number; mtimeMs: number; ino: number };
}

/** One document's decision, with the state row to write. */
export interface PlanEntry extends ReportEntry {
  /** The row as it should be stored after this decision (before any send). */
  record: DocumentRecord;
  /** Set for `new` and `changed`. */
  send?: SendTask;
  /** For a move: the row it replaces, deleted when the move is recorded. */
  replaces?: DocumentRecord;
  /** Delete this row instead of writing it (a document that never reached the knowledge base left its source). */
  deleteRow?: boolean;
  /** The row needs writing even though nothing is sent (stat touched, skipped, removed, ...). */
  dirty: boolean;
  /** A URL's ETag / Last-Modified, stored once its content has been sent. */
  validators?: { etag?: string | undefined; lastModified?: string | undefined };
}

export interface SourcePlan {
  source: ResolvedSource;
  entries: PlanEntry[];
  /** Unchanged documents that need no write: only counted. */
  unchanged: { count: number; bytes: number; entries: ReportEntry[] };
  /** Temporary files (downloaded URL documents) to delete when the run ends. */
  tempFiles: string[];
}

export interface PlanContext {
  store: StateStore;
  now: number;
  runId: number | undefined;
  checksum: boolean;
  listUnchanged: boolean;
  /** Absolute folders never scanned (the state folder). */
  excludeDirs: string[];
  /** Where downloaded URL documents go. */
  downloadDir: string;
  fetch: Omit<FetchOptions, 'timeoutMs' | 'maxRedirects' | 'maxBytes' | 'allowPrivateAddresses'>;
  /**
   * Earlier sources claim a file first: a later source that covers the same real path skips it. Undefined when no
   * two folder sources can share a file (no overlap, no followed links), which spares a map entry per file.
   */
  claimedPaths: Map<string, string> | undefined;
  hashConcurrency: number;
  signal?: AbortSignal | undefined;
}

/** Plans one source: scans or fetches it, hashes what may have changed, and decides per document. */
export async function planSource(source: ResolvedSource, ctx: PlanContext): Promise<SourcePlan> {
  return source.type === 'folder' ? planFolder(source, ctx) : planUrls(source, ctx);
}

async function planFolder(source: ResolvedFolderSource, ctx: PlanContext): Promise<SourcePlan> {
  const scanned = await scanFolder(source, { excludeDirs: ctx.excludeDirs, signal: ctx.signal });
  return planFolderFiles(source, scanned, ctx.store.knownDocumentsOf(source.name), ctx, { complete: true });
}

/**
 * Plans the files of a folder source against what the state knows of them (`known`). With `complete` (a full
 * scan), every known document that was not found is removed; otherwise (the watcher's changed paths) only the keys
 * listed in `gone` are. A document's full record is read only when it needs a decision: an unchanged file costs
 * its `KnownDocument` alone.
 */
export async function planFolderFiles(
  source: ResolvedFolderSource,
  scanned: readonly ScannedFile[],
  known: Map<string, KnownDocument>,
  ctx: PlanContext,
  scope: { complete: true } | { complete: false; gone: readonly string[] },
): Promise<SourcePlan> {
  const plan: SourcePlan = { source, entries: [], unchanged: { count: 0, bytes: 0, entries: [] }, tempFiles: [] };
  const seen = new Set<string>();
  /** Folders that could not be read: what is known below them is kept, not taken for removed. */
  const unreadableDirs: string[] = [];
  const toHash: ScannedFile[] = [];
  const load = (key: string): DocumentRecord | undefined => (known.has(key) ? ctx.store.get(source.name, key) : undefined);

  for (const file of scanned) {
    if (file.isDir) {
      if (file.skipCode === 'unreadable') unreadableDirs.push(`${file.key}/`);
      plan.entries.push(folderEntry(source.name, file, ctx));
      continue;
    }
    seen.add(file.key);
    const claimedBy = ctx.claimedPaths?.get(file.realPath);
    if (file.skipReason || (claimedBy !== undefined && claimedBy !== source.name)) {
      const reason = file.skipReason ?? `also in source "${claimedBy}", which syncs it`;
      plan.entries.push(skipEntry(source.name, file, load(file.key), reason, ctx));
      continue;
    }
    ctx.claimedPaths?.set(file.realPath, source.name);
    const before = known.get(file.key);
    // [key, size, mtimeMs, inode, status, hashed, current]
    const statSame = before !== undefined && before[5] === 1 && before[1] === file.size && before[2] === file.mtimeMs && before[3] === file.ino;
    if (statSame && !ctx.checksum) {
      if (before[6] === 1) {
        countUnchanged(plan, source.name, file.key, 'file', file.size, 'size, time and inode unchanged', ctx);
        continue;
      }
      const record = load(file.key);
      if (record?.hash) {
        plan.entries.push(classify(source, file, record.hash, record, ctx));
        continue;
      }
    }
    toHash.push(file);
  }

  const hashes = await hashFiles(
    toHash.map((file) => ({ fsPath: file.fsPath, size: file.size })),
    { concurrency: ctx.hashConcurrency, signal: ctx.signal },
  );
  toHash.forEach((file, i) => {
    const hashed = hashes[i];
    const record = load(file.key);
    if (hashed instanceof LocalFileError || hashed === undefined) {
      // Deleted between the scan and the hash: nothing to send; a known document is taken for removed by the next scan.
      if (hashed?.changed) return;
      plan.entries.push(skipEntry(source.name, file, record, `unreadable (${hashed ? describe(hashed.cause ?? hashed) : 'unknown'})`, ctx));
      return;
    }
    const entry = classify(source, file, hashed.sha256, record, ctx);
    if (entry.action === 'unchanged') {
      countUnchanged(plan, source.name, file.key, 'file', file.size, entry.reason, ctx);
      if (entry.dirty) plan.entries.push(entry);
    } else {
      plan.entries.push(entry);
    }
  });

  if (scope.complete) {
    if (unreadableDirs.length > 0) {
      for (const key of known.keys()) {
        if (unreadableDirs.some((dir) => key.startsWith(dir))) seen.add(key);
      }
    }
    plan.entries.push(...removedEntries(source.name, known.keys(), seen, load, ctx));
  } else {
    plan.entries.push(...removedEntries(source.name, scope.gone, seen, load, ctx));
  }
  return plan;
}

/** Decides new, changed or unchanged for a hashed file. */
function classify(source: ResolvedFolderSource, file: ScannedFile, hash: string, previous: DocumentRecord | undefined, ctx: PlanContext): PlanEntry {
  const record: DocumentRecord = previous ? { ...previous, kind: 'file' } : newDocumentRecord(source.name, file.key, 'file', ctx.now);
  if (record.firstSeenRun === null) record.firstSeenRun = ctx.runId ?? null;
  record.size = file.size;
  record.mtimeMs = file.mtimeMs;
  record.inode = file.ino;
  record.skipReason = null;
  const base = { source: source.name, key: file.key, kind: 'file' as const, bytes: file.size, record };
  if (previous?.uploadedHash === hash && (previous.status === 'uploaded' || previous.status === 'removed')) {
    const statChanged = previous.size !== file.size || previous.mtimeMs !== file.mtimeMs || previous.inode !== file.ino;
    const back = previous.status === 'removed';
    record.hash = hash;
    record.status = 'uploaded';
    return {
      ...base,
      action: 'unchanged',
      reason: back ? 'back in the source with the content already sent' : statChanged ? 'touched, content unchanged' : 'content unchanged',
      dirty: statChanged || back,
    };
  }
  record.hash = hash;
  const action: PlanAction = previous?.uploadedHash ? 'changed' : 'new';
  const reason = action === 'changed' ? 'content changed' : previous?.status === 'failed' ? `not sent yet (last error: ${previous.lastError ?? 'unknown'})` : previous?.status === 'pending' ? 'send was interrupted' : 'first seen';
  // Note: a literal rather than a spread of `base`: this runs once per new file, 100k times on a first sync.
  return {
    action,
    source: source.name,
    key: file.key,
    kind: 'file',
    bytes: file.size,
    reason,
    record,
    dirty: true,
    send: {
      kind: 'file',
      fsPath: file.fsPath,
      dName: displayNameOf(file.key),
      hash,
      size: file.size,
      title: undefined, // read from the file when it is sent
      link: linkFor(source.linkBase, file.key),
      stat: { size: file.size, mtimeMs: file.mtimeMs, ino: file.ino },
    },
  };
}

/** A folder the scan reports instead of entering (unreadable, or a symbolic link that is not followed). */
function folderEntry(source: string, folder: ScannedFile, ctx: PlanContext): PlanEntry {
  return {
    action: 'skipped',
    source,
    key: `${folder.key}/`,
    kind: 'file',
    bytes: 0,
    reason: folder.skipReason ?? 'folder left out',
    record: newDocumentRecord(source, `${folder.key}/`, 'file', ctx.now),
    dirty: false,
  };
}

function skipEntry(source: string, file: ScannedFile, previous: DocumentRecord | undefined, reason: string, ctx: PlanContext): PlanEntry {
  const record: DocumentRecord = previous ? { ...previous } : newDocumentRecord(source, file.key, 'file', ctx.now);
  // A document already in the knowledge base keeps its record of that; it is only reported as skipped now.
  const keepUploaded = previous?.uploadedHash != null;
  record.status = keepUploaded ? previous.status : 'skipped';
  record.skipReason = reason;
  record.size = file.size;
  record.mtimeMs = file.mtimeMs;
  record.inode = file.ino;
  if (record.firstSeenRun === null) record.firstSeenRun = ctx.runId ?? null;
  return { action: 'skipped', source, key: file.key, kind: 'file', bytes: file.size, reason, record, dirty: previous?.skipReason !== reason || previous.status !== record.status };
}

/** Entries for the documents among `keys` that were not `seen` (and are known, and not already removed). */
function removedEntries(
  source: string,
  keys: Iterable<string>,
  seen: Set<string>,
  load: (key: string) => DocumentRecord | undefined,
  ctx: PlanContext,
): PlanEntry[] {
  const entries: PlanEntry[] = [];
  for (const key of keys) {
    if (seen.has(key)) continue;
    const previous = load(key);
    if (!previous || previous.status === 'removed') continue;
    const reachedKb = previous.uploadedHash !== null || previous.transactionId !== null;
    const record: DocumentRecord = { ...previous, status: 'removed', updatedAt: ctx.now };
    entries.push({
      action: 'removed',
      source,
      key,
      kind: previous.kind,
      bytes: previous.size ?? 0,
      reason: reachedKb ? 'no longer in the source (kept in the knowledge base)' : 'no longer in the source',
      record,
      deleteRow: !reachedKb,
      dirty: true,
    });
  }
  return entries;
}

function countUnchanged(plan: SourcePlan, source: string, key: string, kind: DocumentKind, bytes: number, reason: string, ctx: PlanContext): void {
  plan.unchanged.count++;
  plan.unchanged.bytes += bytes;
  if (ctx.listUnchanged) plan.unchanged.entries.push({ action: 'unchanged', source, key, kind, bytes, reason });
}

async function planUrls(source: ResolvedUrlSource, ctx: PlanContext): Promise<SourcePlan> {
  const records = ctx.store.documentsOf(source.name);
  const plan: SourcePlan = { source, entries: [], unchanged: { count: 0, bytes: 0, entries: [] }, tempFiles: [] };
  const fetchOptions: FetchOptions = {
    ...ctx.fetch,
    timeoutMs: source.fetchTimeoutMs,
    maxRedirects: source.maxRedirects,
    maxBytes: source.maxBytes,
    allowPrivateAddresses: source.allowPrivateAddresses,
  };
  // Note: loaded here, so that a run with folder sources only does not load the HTML parser and MIME tables.
  const { fetchUrl, resolveSourceUrls } = await import('./url-fetch.js');
  const { urls, problems, complete } = await resolveSourceUrls(source, fetchOptions);
  for (const problem of problems) {
    plan.entries.push({
      action: problem.failed ? 'failed' : 'skipped',
      source: source.name,
      key: problem.where,
      kind: 'page',
      bytes: 0,
      reason: problem.reason,
      record: newDocumentRecord(source.name, problem.where, 'page', ctx.now),
      dirty: false,
    });
  }
  const seen = new Set<string>(urls);

  await forEachLimit(urls, 4, async (url) => {
    const previous = records.get(url);
    const trusted = previous?.status === 'uploaded' && previous.uploadedHash !== null && previous.uploadedHash === previous.hash;
    const validators = trusted ? { etag: previous.etag ?? undefined, lastModified: previous.lastModified ?? undefined } : undefined;
    let fetched: Awaited<ReturnType<typeof fetchUrl>>;
    try {
      fetched = await fetchUrl(url, { ...fetchOptions, previous: validators, downloadDir: ctx.downloadDir });
    } catch (error) {
      plan.entries.push(fetchFailedEntry(source.name, url, previous, error, ctx));
      return;
    }
    const base = { source: source.name, key: url };
    if (fetched.status === 'not-modified') {
      countUnchanged(plan, source.name, url, previous?.kind ?? 'page', previous?.size ?? 0, 'not modified (conditional GET)', ctx);
      return;
    }
    if (fetched.status === 'unsupported') {
      const record: DocumentRecord = { ...(previous ?? newDocumentRecord(source.name, url, 'url-file', ctx.now)) };
      if (!record.uploadedHash) record.status = 'skipped';
      record.skipReason = fetched.reason;
      plan.entries.push({ ...base, action: 'skipped', kind: record.kind, bytes: fetched.bytes, reason: fetched.reason, record, dirty: true });
      return;
    }
    const kind: DocumentKind = fetched.status === 'page' ? 'page' : 'url-file';
    if (fetched.status === 'file') plan.tempFiles.push(fetched.filePath);
    const record: DocumentRecord = { ...(previous ?? newDocumentRecord(source.name, url, kind, ctx.now)), kind };
    if (record.firstSeenRun === null) record.firstSeenRun = ctx.runId ?? null;
    record.size = fetched.bytes;
    record.skipReason = null;
    const keep = previous?.uploadedHash === fetched.sha256 && (previous.status === 'uploaded' || previous.status === 'removed');
    record.hash = fetched.sha256;
    if (keep) {
      // Same content: keep the new validators so that the next check can be a cheap conditional GET.
      record.status = 'uploaded';
      record.etag = fetched.validators.etag ?? null;
      record.lastModified = fetched.validators.lastModified ?? null;
      countUnchanged(plan, source.name, url, kind, fetched.bytes, 'content unchanged', ctx);
      plan.entries.push({ ...base, action: 'unchanged', kind, bytes: fetched.bytes, reason: 'content unchanged', record, dirty: true });
      return;
    }
    const action: PlanAction = previous?.uploadedHash ? 'changed' : 'new';
    plan.entries.push({
      ...base,
      action,
      kind,
      bytes: fetched.bytes,
      reason: action === 'changed' ? 'content changed' : previous?.status === 'failed' ? `not sent yet (last error: ${previous.lastError ?? 'unknown'})` : 'first seen',
      record,
      dirty: true,
      validators: fetched.validators,
      send:
        fetched.status === 'page'
          ? { kind, url, hash: fetched.sha256, size: fetched.bytes, title: fetched.title, link: url }
          : { kind, fsPath: fetched.filePath, dName: fetched.fileName, hash: fetched.sha256, size: fetched.bytes, title: titleFromName(fetched.fileName), link: url },
    });
  });

  if (complete) plan.entries.push(...removedEntries(source.name, records.keys(), seen, (key) => records.get(key), ctx));
  return plan;
}

function fetchFailedEntry(source: string, url: string, previous: DocumentRecord | undefined, error: unknown, ctx: PlanContext): PlanEntry {
  // The entry names the URL already: keep only what went wrong.
  const reason = error instanceof FetchError ? error.message.replace(`${error.url}: `, '') : describe(error);
  const record: DocumentRecord = { ...(previous ?? newDocumentRecord(source, url, 'page', ctx.now)) };
  // One failed fetch never removes a document, and never undoes that it was sent.
  if (!record.uploadedHash) record.status = 'failed';
  record.attempts += 1;
  record.lastError = reason;
  return { action: 'failed', source, key: url, kind: record.kind, bytes: 0, reason, record, dirty: true };
}

/**
 * Turns `new` file documents whose content the knowledge base already holds into moves (when the old path left
 * its source) or duplicates (when it is still there). Runs over every source's plan at once.
 */
export function detectMovesAndDuplicates(
  plans: SourcePlan[],
  store: StateStore,
  ctx: { now: number; stillThere?: (record: DocumentRecord) => boolean },
): void {
  const stillThere = ctx.stillThere ?? (() => true);
  // Note: on a first sync nothing has reached the knowledge base yet: no query per new file.
  const anyUploaded = store.hasUploaded();
  const vanished = new Map<string, PlanEntry[]>();
  for (const plan of plans) {
    for (const entry of plan.entries) {
      if (entry.action === 'removed' && entry.kind === 'file' && entry.record.uploadedHash) {
        const list = vanished.get(entry.record.uploadedHash) ?? [];
        list.push(entry);
        vanished.set(entry.record.uploadedHash, list);
      }
    }
  }
  const firstNew = new Map<string, PlanEntry>();
  for (const plan of plans) {
    plan.entries = plan.entries.filter((entry) => {
      if (entry.action !== 'new' || entry.kind !== 'file' || !entry.send) return true;
      const hash = entry.send.hash;
      const sameContent = anyUploaded ? store.findByUploadedHash(hash) : [];
      // Note: the watcher may see a rename's new path before its old one is gone from the state; a known document
      // whose file is no longer there counts as having left its source.
      const from =
        vanished.get(hash)?.shift() ??
        sameContent.find((r) => r.kind === 'file' && (r.status === 'removed' || (r.status === 'uploaded' && !stillThere(r))));
      if (from) {
        const old = 'record' in from ? from.record : from;
        recordMove(entry, old, ctx.now);
        if ('record' in from) removeFromPlans(plans, from);
        return true;
      }
      const twin = firstNew.get(hash) ?? sameContent.find((r) => r.status === 'uploaded' && r.kind === 'file');
      if (twin) {
        const where = `${twin.source}:${twin.key}`;
        entry.action = 'skipped';
        entry.reason = `same content as ${where}, already sent`;
        entry.record.status = 'skipped';
        entry.record.skipReason = entry.reason;
        delete entry.send;
        return true;
      }
      firstNew.set(hash, entry);
      return true;
    });
  }
}

function recordMove(entry: PlanEntry, old: DocumentRecord, now: number): void {
  entry.action = 'moved';
  entry.movedFrom = `${old.source}:${old.key}`;
  entry.reason = `same content as ${entry.movedFrom}, which left its source: recorded as a move, nothing sent`;
  entry.replaces = old;
  entry.record = {
    ...entry.record,
    status: 'uploaded',
    uploadedHash: old.uploadedHash,
    msgId: old.msgId,
    downloadUrl: old.downloadUrl,
    docId: old.docId,
    uploadedAt: old.uploadedAt,
    syncId: old.syncId,
    transactionId: old.transactionId,
    movedFrom: entry.movedFrom,
    attempts: 0,
    lastError: null,
    updatedAt: now,
  };
  delete entry.send;
}

function removeFromPlans(plans: SourcePlan[], target: PlanEntry): void {
  for (const plan of plans) {
    const i = plan.entries.indexOf(target);
    if (i >= 0) {
      plan.entries.splice(i, 1);
      return;
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code) return code;
  return error instanceof Error ? error.message : String(error);
}
