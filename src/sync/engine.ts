import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import PQueue from 'p-queue';
import type { Dispatcher } from 'undici';
import type { LanyingClient } from '../api/client.js';
import { AbortedError, AuthError } from '../api/errors.js';
import { generateTransactionId } from '../api/resources/messages.js';
import { isRetryable, retryDelay, sleep } from '../api/retry.js';
import type { ResolvedConfig, ResolvedFolderSource, ResolvedSource } from '../config/resolve.js';
import { LanyingKbError, LocalFileError, UsageError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import { buildMetadata, syncIdOf, titleFromName } from './document-metadata.js';
import { readDocumentTitle } from './document-title.js';
import { scanFolder, type ScannedFile, statToFile } from './folder-scan.js';
import { hashFile } from './hash.js';
import { createPathFilter, joinFsPath, type PathFilter } from './path-filter.js';
import { keyToFsPath } from './path-key.js';
import { detectMovesAndDuplicates, type PlanContext, type PlanEntry, planFolderFiles, planSource, type SourcePlan } from './plan.js';
import { emptyCounts, type ReportEntry, type SyncCounts, type SyncOutcome, type SyncReport } from './report.js';
import { sendDocument, type SendTarget } from './send-document.js';
import type { DocumentRecord, KnownDocument, StateStore } from './state-store.js';
import { kbExtensionOf } from '../protocol/kb-files.js';

/** What the engine tells its caller while it works: for progress bars, logs and metrics. */
export type SyncEvent =
  | { type: 'planned'; sources: string[]; toSend: number; bytes: number }
  /** `repeated`: the same decision as the state records from before (a file skipped again for the same reason). */
  | { type: 'decision'; entry: ReportEntry; repeated: boolean }
  | { type: 'sent'; entry: ReportEntry; durationMs: number }
  | { type: 'failed'; entry: ReportEntry; error: unknown }
  | { type: 'progress'; done: number; total: number; bytesDone: number; bytesTotal: number };

export interface SyncEngineOptions {
  config: ResolvedConfig;
  client: LanyingClient;
  store: StateStore;
  onEvent?: ((event: SyncEvent) => void) | undefined;
  /** For URL fetches. */
  dispatcher?: Dispatcher | undefined;
  /** Clock, for tests. @default Date.now */
  now?: (() => number) | undefined;
}

export interface ReconcileOptions {
  /** Only these sources (by name). @default every enabled source */
  sources?: string[] | undefined;
  /** Plan only: send nothing, write nothing. */
  dryRun?: boolean | undefined;
  /** Hash every file, not only those whose size, time or inode changed. */
  checksum?: boolean | undefined;
  /** Also list unchanged documents in the report. */
  listUnchanged?: boolean | undefined;
  /** Recorded in the runs table. @default 'sync' */
  mode?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Plans and sends: scans sources, compares them with the state, and sends new and changed documents through one
 * shared queue. `syncOnce` uses it for one run; the daemon keeps one for its lifetime.
 */
export class SyncEngine {
  config: ResolvedConfig;
  client: LanyingClient;
  readonly store: StateStore;
  /** Documents being sent at once are bounded by `sync.concurrency`. */
  readonly queue: PQueue;
  readonly #onEvent: ((event: SyncEvent) => void) | undefined;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #now: () => number;
  readonly #filters = new Map<string, PathFilter>();

  constructor(options: SyncEngineOptions) {
    this.config = options.config;
    this.client = options.client;
    this.store = options.store;
    this.queue = new PQueue({ concurrency: options.config.sync.concurrency });
    this.#onEvent = options.onEvent;
    this.#dispatcher = options.dispatcher;
    this.#now = options.now ?? Date.now;
  }

  /** One full pass over the selected sources: plan, then (unless a dry run) send and record. */
  async reconcile(options: ReconcileOptions = {}): Promise<SyncReport> {
    const sources = this.#selectSources(options.sources);
    const dryRun = options.dryRun ?? false;
    return this.#run({
      sources: sources.map((s) => s.name),
      dryRun,
      mode: options.mode ?? 'sync',
      recordRun: !dryRun,
      signal: options.signal,
      plan: (ctx) => this.#planSources(sources, ctx),
      checksum: options.checksum ?? false,
      listUnchanged: options.listUnchanged ?? false,
    });
  }

  /**
   * Handles changed paths of one folder source (the watcher's events): each path is looked at again; what exists
   * is planned like in a scan, what is gone (or now left out by the filters) is removed. Not recorded as a run.
   */
  async syncPaths(sourceName: string, absPaths: readonly (string | Buffer)[], options: { signal?: AbortSignal } = {}): Promise<SyncReport> {
    const source = this.config.sources.find((s): s is ResolvedFolderSource => s.name === sourceName && s.type === 'folder');
    if (!source) throw new UsageError(`no folder source named "${sourceName}"`);
    return this.#run({
      sources: [sourceName],
      dryRun: false,
      mode: 'watch',
      recordRun: false,
      signal: options.signal,
      checksum: false,
      listUnchanged: false,
      plan: async (ctx) => {
        const filter = this.pathFilter(source);
        const files: ScannedFile[] = [];
        const gone: string[] = [];
        for (const absPath of absPaths) {
          const file = statToFile(source, absPath, { filter });
          if (file) files.push(file);
          else {
            const key = filter.keyOf(absPath);
            if (key) gone.push(key);
          }
        }
        const keys = new Set([...files.map((f) => f.key), ...gone]);
        const known = new Map<string, KnownDocument>();
        for (const key of keys) {
          const row = this.store.known(source.name, key);
          if (row) known.set(key, row);
        }
        await this.#claimOverlappingSources([source], ctx);
        const plans = [await planFolderFiles(source, files, known, ctx, { complete: false, gone })];
        detectMovesAndDuplicates(plans, this.store, { now: ctx.now, stillThere: (r) => this.#stillThere(r) });
        return plans;
      },
    });
  }

  /** The filter of a folder source, kept for the engine's lifetime (its `.kbignore` cache included). */
  pathFilter(source: ResolvedFolderSource): PathFilter {
    let filter = this.#filters.get(source.name);
    if (!filter || filter.root !== source.path) {
      filter = createPathFilter(source, { excludeDirs: [this.config.sync.stateDir] });
      this.#filters.set(source.name, filter);
    }
    return filter;
  }

  async #run(run: {
    sources: string[];
    dryRun: boolean;
    mode: string;
    recordRun: boolean;
    checksum: boolean;
    listUnchanged: boolean;
    signal: AbortSignal | undefined;
    plan: (ctx: PlanContext) => Promise<SourcePlan[]>;
  }): Promise<SyncReport> {
    const started = this.#now();
    const knowledgeBase = this.config.knowledgeBase;
    if (!knowledgeBase) throw new UsageError('the configuration has no "knowledgeBase" section, which sync needs (chatbotUserId, adminUserId, name)');
    const runId = run.recordRun ? this.store.startRun(run.mode, started) : undefined;
    const downloadDir = mkdtempSync(path.join(tmpdir(), 'lanying-kb-'));
    const abort = new AbortController();
    const signal = run.signal ? AbortSignal.any([run.signal, abort.signal]) : abort.signal;
    const counts = emptyCounts();
    const entries: ReportEntry[] = [];
    let stopError: unknown;

    try {
      const plans = await run.plan(this.#planContext({ runId, checksum: run.checksum, listUnchanged: run.listUnchanged, downloadDir, signal }));
      const toSend = plans.flatMap((p) => p.entries.filter((e) => e.send));
      for (const plan of plans) {
        counts.unchanged += plan.unchanged.count;
        // Note: a loop, not push(...list): a spread of 100k+ arguments overflows the stack.
        for (const entry of plan.unchanged.entries) entries.push(entry);
        for (const entry of plan.entries) {
          if (entry.action === 'unchanged') continue; // counted above
          counts[entry.action]++;
          if (entry.send) counts.bytesPlanned += entry.send.size;
          entries.push(entry);
          this.#onEvent?.({ type: 'decision', entry: toReportEntry(entry), repeated: entry.action === 'skipped' && !entry.dirty });
        }
      }
      this.#onEvent?.({ type: 'planned', sources: run.sources, toSend: toSend.length, bytes: counts.bytesPlanned });

      if (!run.dryRun) {
        this.#recordDecisions(plans);
        await this.#sendAll(toSend, { from: knowledgeBase.adminUserId, chatbot: knowledgeBase.chatbotUserId }, counts, signal, abort);
      }
    } catch (error) {
      stopError = error;
    } finally {
      rmSync(downloadDir, { recursive: true, force: true });
    }

    const outcome: SyncOutcome = stopError
      ? run.signal?.aborted || stopError instanceof AbortedError
        ? 'aborted'
        : 'failed'
      : counts.failed > 0
        ? 'partial'
        : 'ok';
    const report: SyncReport = {
      runId,
      dryRun: run.dryRun,
      sources: run.sources,
      startedAt: new Date(started).toISOString(),
      durationMs: this.#now() - started,
      outcome,
      counts,
      entries: entries.map(toReportEntry),
      ...(stopError ? { error: stopError instanceof Error ? stopError.message : String(stopError) } : {}),
    };
    if (runId !== undefined) this.store.finishRun(runId, outcome, countsRecord(counts), report.error, this.#now());
    if (stopError) {
      (stopError as { report?: SyncReport }).report = report;
      throw stopError;
    }
    return report;
  }

  #stillThere(record: DocumentRecord): boolean {
    const source = this.config.sources.find((s) => s.name === record.source);
    if (!source || source.type !== 'folder') return true;
    return existsSync(joinFsPath(source.path, keyToFsPath(record.key)));
  }

  #selectSources(names: string[] | undefined): ResolvedSource[] {
    const enabled = this.config.sources.filter((s) => s.enabled);
    if (!names || names.length === 0) return enabled;
    const unknown = names.filter((n) => !this.config.sources.some((s) => s.name === n));
    if (unknown.length) {
      const known = this.config.sources.map((s) => s.name).join(', ') || 'none';
      throw new UsageError(`unknown source ${unknown.map((n) => `"${n}"`).join(', ')} (configured: ${known})`);
    }
    return this.config.sources.filter((s) => names.includes(s.name));
  }

  #planContext(opts: { runId: number | undefined; checksum: boolean; listUnchanged: boolean; downloadDir: string; signal: AbortSignal }): PlanContext {
    return {
      store: this.store,
      now: this.#now(),
      runId: opts.runId,
      checksum: opts.checksum,
      listUnchanged: opts.listUnchanged,
      excludeDirs: [this.config.sync.stateDir],
      downloadDir: opts.downloadDir,
      fetch: { userAgent: USER_AGENT, dispatcher: this.#dispatcher, signal: opts.signal },
      claimedPaths: this.#foldersMayShareFiles() ? new Map() : undefined,
      hashConcurrency: 16,
      signal: opts.signal,
    };
  }

  async #planSources(sources: ResolvedSource[], ctx: PlanContext): Promise<SourcePlan[]> {
    await this.#claimOverlappingSources(sources, ctx);
    // Every source is planned before anything is sent, so that a missing folder stops the run before it starts.
    const plans: SourcePlan[] = [];
    for (const source of sources) plans.push(await planSource(source, ctx));
    detectMovesAndDuplicates(plans, this.store, { now: ctx.now, stillThere: (r) => this.#stillThere(r) });
    return plans;
  }

  /**
   * A file covered by two folder sources belongs to the first in the config. When a run leaves out an earlier
   * source whose folder overlaps a selected one, that source's files are claimed first (scanned, not hashed).
   */
  async #claimOverlappingSources(selected: ResolvedSource[], ctx: PlanContext): Promise<void> {
    const folders = this.config.sources.filter((s): s is ResolvedFolderSource => s.type === 'folder' && s.enabled);
    const claimants = new Set<ResolvedFolderSource>();
    for (const source of selected) {
      if (source.type !== 'folder') continue;
      const index = folders.indexOf(source);
      for (const earlier of folders.slice(0, Math.max(0, index))) {
        if (!selected.includes(earlier) && overlaps(earlier.path, source.path)) claimants.add(earlier);
      }
    }
    for (const source of claimants) {
      try {
        for await (const file of await scanFolder(source, { excludeDirs: ctx.excludeDirs, signal: ctx.signal })) {
          if (!file.skipReason && !ctx.claimedPaths?.has(file.realPath)) ctx.claimedPaths?.set(file.realPath, source.name);
        }
      } catch (error) {
        if (!(error instanceof LanyingKbError)) throw error;
      }
    }
  }

  /** True when two enabled folder sources may cover the same file: their folders overlap, or links are followed. */
  #foldersMayShareFiles(): boolean {
    const folders = this.config.sources.filter((s): s is ResolvedFolderSource => s.type === 'folder' && s.enabled);
    if (folders.length < 2) return false;
    if (folders.some((s) => s.followSymlinks)) return true;
    return folders.some((a, i) => folders.slice(i + 1).some((b) => overlaps(a.path, b.path)));
  }

  /** Writes every decision that needs no send (touched, skipped, removed, moved, failed fetches) in one transaction. */
  #recordDecisions(plans: SourcePlan[]): void {
    this.store.transaction(() => {
      for (const plan of plans) {
        for (const entry of plan.entries) {
          if (entry.send || !entry.dirty) continue;
          if (entry.replaces) this.store.delete(entry.replaces.source, entry.replaces.key);
          if (entry.deleteRow) this.store.delete(entry.source, entry.key);
          else this.store.put({ ...entry.record, updatedAt: this.#now() });
        }
      }
    });
  }

  async #sendAll(entries: PlanEntry[], target: SendTarget, counts: SyncCounts, signal: AbortSignal, abort: AbortController): Promise<void> {
    let done = 0;
    let bytesDone = 0;
    let authError: AuthError | undefined;
    const total = entries.length;
    // Note: the queue is fed a few tasks ahead of its workers, not all at once: 100k queued closures and
    // promises are memory that a first sync of a large tree does not need to hold.
    const backlog = Math.max(16, this.queue.concurrency * 2);
    const tasks = new Set<Promise<void>>();
    for (const entry of entries) {
      if (signal.aborted) break;
      if (this.queue.size >= backlog) await this.queue.onSizeLessThan(backlog);
      const task = this.queue.add(async () => {
        if (signal.aborted) return;
        try {
          const sent = await this.sendEntry(entry, target, signal);
          if (sent) {
            counts.sent++;
            counts.bytesSent += entry.bytes;
            bytesDone += entry.bytes;
          }
        } catch (error) {
          if (error instanceof AuthError) {
            authError ??= error;
            // Note: no queue.clear(): it would leave the promises of cleared tasks unsettled. Queued tasks see
            // the aborted signal when they start and return at once.
            abort.abort(error);
            return;
          }
          if (signal.aborted) return;
          counts.failed++;
        } finally {
          done++;
          this.#onEvent?.({ type: 'progress', done, total, bytesDone, bytesTotal: counts.bytesPlanned });
        }
      });
      tasks.add(task);
      const forget = () => void tasks.delete(task);
      task.then(forget, forget);
    }
    await Promise.all(tasks);
    if (authError) throw authError;
    if (signal.aborted) throw new AbortedError();
  }

  /**
   * Sends one planned document and records the result. The row is written as `pending`, with the transaction ID
   * the send carries, before the send; it becomes `uploaded` only once `/message/send` accepted it.
   * Returns true when sent, false when the file vanished first. Throws on a failure (recorded as `failed`).
   */
  async sendEntry(entry: PlanEntry, target: SendTarget, signal?: AbortSignal): Promise<boolean> {
    const task = entry.send;
    if (!task) throw new Error('sendEntry: the entry has nothing to send');
    const source = this.config.sources.find((s) => s.name === entry.source);
    const record = entry.record;
    const chatbot = source?.chatbotUserId ?? target.chatbot;
    const maxAttempts = this.config.sync.maxAttempts;

    for (let attempt = 1; ; attempt++) {
      const syncId = syncIdOf(entry.source, entry.key, task.hash);
      // Note: the same version keeps its transaction ID across runs, so a send whose answer was lost (a crash,
      // a timeout) and that is made again is dropped by the server instead of adding a second copy.
      if (record.transactionId === null || record.syncId !== syncId || record.status === 'uploaded') record.transactionId = generateTransactionId();
      Object.assign(record, { syncId, hash: task.hash, status: 'pending', updatedAt: this.#now() });
      this.store.put(record);
      const started = performance.now();
      try {
        const ownTitle = task.title === undefined && task.fsPath && task.kind === 'file' ? await readDocumentTitle(task.fsPath, kbExtensionOf(entry.key)) : undefined;
        const title = task.title ?? ownTitle ?? titleFromName(entry.key);
        const metadata = buildMetadata({ source: entry.source, key: entry.key, hash: task.hash, title, link: task.link, extra: source?.metadata ?? {} });
        const sent = await sendDocument(this.client, task, { from: target.from, chatbot }, metadata, record.transactionId as number, signal);
        Object.assign(record, {
          status: 'uploaded',
          uploadedHash: task.hash,
          msgId: sent.msgId ?? null,
          downloadUrl: sent.downloadUrl ?? null,
          uploadedAt: this.#now(),
          attempts: 0,
          lastError: null,
          etag: entry.validators?.etag ?? record.etag,
          lastModified: entry.validators?.lastModified ?? record.lastModified,
          updatedAt: this.#now(),
        });
        this.store.put(record);
        entry.outcome = 'sent';
        if (sent.msgId !== undefined) entry.msgId = sent.msgId;
        this.#onEvent?.({ type: 'sent', entry: toReportEntry(entry), durationMs: performance.now() - started });
        return true;
      } catch (error) {
        if (error instanceof AuthError || error instanceof AbortedError || signal?.aborted) {
          entry.outcome = 'cancelled';
          throw error;
        }
        if (error instanceof LocalFileError && error.changed && task.fsPath !== undefined && task.stat) {
          const again = await this.#rehash(task);
          if (!again) {
            this.#recordVanished(entry);
            return false;
          }
          if (attempt < maxAttempts) continue;
        } else if (isRetryable(error) && attempt < maxAttempts) {
          await sleep(retryDelay(attempt - 1, (error as { retryAfterMs?: number }).retryAfterMs), signal).catch(() => {});
          continue;
        }
        const message = error instanceof Error ? error.message : String(error);
        Object.assign(record, { status: 'failed', attempts: record.attempts + 1, lastError: message, updatedAt: this.#now() });
        this.store.put(record);
        entry.outcome = 'failed';
        entry.error = message;
        this.#onEvent?.({ type: 'failed', entry: toReportEntry(entry), error });
        throw error;
      }
    }
  }

  /** After a file changed under an upload: its new hash and stat, or undefined when it is gone. */
  async #rehash(task: NonNullable<PlanEntry['send']>): Promise<boolean> {
    try {
      const { stat } = await import('node:fs/promises');
      const before = await stat(task.fsPath as string | Buffer);
      const { sha256, size } = await hashFile(task.fsPath as string | Buffer);
      task.hash = sha256;
      task.size = size;
      task.stat = { size: before.size, mtimeMs: before.mtimeMs, ino: before.ino };
      return true;
    } catch {
      return false;
    }
  }

  #recordVanished(entry: PlanEntry): void {
    const record = entry.record;
    if (record.uploadedHash === null) this.store.delete(entry.source, entry.key);
    else this.store.put({ ...record, status: 'removed', updatedAt: this.#now() });
    entry.outcome = 'vanished';
    entry.reason = 'deleted before it could be sent';
  }

  /**
   * Takes a new configuration (a reload): new sources, filters and limits apply to the next operation. Documents
   * keep their state, so unchanged ones are not sent again.
   */
  reconfigure(config: ResolvedConfig, client?: LanyingClient): void {
    this.config = config;
    if (client) this.client = client;
    this.queue.concurrency = config.sync.concurrency;
    this.#filters.clear();
  }

  /** Waits for queued sends to finish. */
  async drain(): Promise<void> {
    await this.queue.onIdle();
  }
}

function toReportEntry(entry: ReportEntry): ReportEntry {
  const out: ReportEntry = { action: entry.action, source: entry.source, key: entry.key, kind: entry.kind, bytes: entry.bytes, reason: entry.reason };
  if (entry.movedFrom !== undefined) out.movedFrom = entry.movedFrom;
  if (entry.outcome !== undefined) out.outcome = entry.outcome;
  if (entry.error !== undefined) out.error = entry.error;
  if (entry.msgId !== undefined) out.msgId = entry.msgId;
  return out;
}

function countsRecord(counts: SyncCounts): Record<string, number> {
  return { ...counts };
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
