import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import type { LanyingClient } from '../api/client.js';
import { AbortedError } from '../api/errors.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { adapterFor, type ResolvedSource, SOURCE_ADAPTERS } from '../sources/registry.js';
import type { KnownContent, Observation, ObservationBatch, ObserveContext, SourceAdapter, SourceMemo, SourceSession } from '../sources/types.js';
import type { StateStore } from '../state/store.js';
import { USER_AGENT } from '../version.js';
import { Applier, isRunStopping, type SendResult } from './apply.js';
import { UNCHANGED_BY_STAT } from './decide.js';
import { folderDigest } from './folder-digest.js';
import type { MoveLookups } from './moves.js';
import { planBatch } from './plan.js';
import { ReportBuilder, type ReportEntry, type SyncOutcome, type SyncReport } from './report.js';
import type { SendTarget } from './send-document.js';

/** What the engine tells its caller while it works: for progress bars, logs and metrics. */
export type SyncEvent =
  /** Every source was observed and every decision made: `toSend` documents of `bytes` in all. */
  | { type: 'planned'; sources: string[]; toSend: number; bytes: number }
  /** `repeated`: the same decision as the state records from before (a file skipped again for the same reason). */
  | { type: 'decision'; entry: ReportEntry; repeated: boolean }
  | { type: 'sent'; entry: ReportEntry; durationMs: number }
  | { type: 'failed'; entry: ReportEntry; error: unknown }
  /** Sends done so far of those decided so far (`total` grows while sources are still observed). */
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
  /** The source types (tests add their own). @default the registry's */
  adapters?: readonly SourceAdapter[] | undefined;
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
  /** Keep every entry in the report (otherwise they only go to `onEvent`). @default true */
  collectEntries?: boolean | undefined;
  /** Recorded in the runs table. @default 'sync' */
  mode?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** What the engine is doing, for status pages and metrics. */
export interface EngineStats {
  /** Sends waiting in the queue. */
  queued: number;
  /** Sends in flight. */
  inFlight: number;
}

interface RunSpec {
  sources: ResolvedSource[];
  dryRun: boolean;
  mode: string;
  recordRun: boolean;
  checksum: boolean;
  listUnchanged: boolean;
  collectEntries: boolean;
  signal: AbortSignal | undefined;
  /** Observes one source for this run (a full observation, or a watcher's paths). */
  observe: (source: ResolvedSource, adapter: SourceAdapter, ctx: ObserveContext) => Promise<Observation>;
}

/**
 * Runs the sync: observes sources through their adapters, plans each batch (`plan.ts`: the rules are in
 * `decide.ts` and `moves.ts`), and applies the actions (`apply.ts`), recording outcomes in the state and folding
 * them into the report. `syncOnce` uses it for one run; the daemon keeps one for its lifetime.
 */
export class SyncEngine {
  config: ResolvedConfig;
  readonly store: StateStore;
  readonly #applier: Applier;
  readonly #onEvent: ((event: SyncEvent) => void) | undefined;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #now: () => number;
  readonly #adapters: readonly SourceAdapter[];
  readonly #sessions = new Map<string, { source: ResolvedSource; session: SourceSession }>();
  /** Aborts the runs in progress (`stop`). */
  readonly #runs = new Set<AbortController>();

  constructor(options: SyncEngineOptions) {
    this.config = options.config;
    this.store = options.store;
    this.#onEvent = options.onEvent;
    this.#dispatcher = options.dispatcher;
    this.#now = options.now ?? Date.now;
    this.#adapters = options.adapters ?? (SOURCE_ADAPTERS as unknown as readonly SourceAdapter[]);
    this.#applier = new Applier({
      store: options.store,
      client: options.client,
      concurrency: options.config.sync.concurrency,
      maxAttempts: options.config.sync.maxAttempts,
      now: this.#now,
    });
  }

  /** One full pass over the selected sources: observe, plan and (unless a dry run) send and record. */
  async reconcile(options: ReconcileOptions = {}): Promise<SyncReport> {
    const dryRun = options.dryRun ?? false;
    return this.#run({
      sources: this.#selectSources(options.sources),
      dryRun,
      mode: options.mode ?? 'sync',
      recordRun: !dryRun,
      checksum: options.checksum ?? false,
      listUnchanged: options.listUnchanged ?? false,
      collectEntries: options.collectEntries ?? true,
      signal: options.signal,
      observe: (source, adapter, ctx) => adapter.open(source, ctx),
    });
  }

  /**
   * Handles changed paths of one source (its watcher's events): each path is looked at again; what exists is
   * planned like in a full observation, what is gone (or now left out by the rules) is removed. Not recorded as a run.
   */
  async syncPaths(sourceName: string, absPaths: readonly (string | Buffer)[], options: { signal?: AbortSignal } = {}): Promise<SyncReport> {
    const source = this.config.sources.find((s) => s.name === sourceName);
    const session = source ? this.session(source) : undefined;
    if (!source || !session?.observePaths) throw new UsageError(`no source named "${sourceName}" that can be watched`);
    return this.#run({
      sources: [source],
      dryRun: false,
      mode: 'watch',
      recordRun: false,
      checksum: false,
      listUnchanged: false,
      collectEntries: true,
      signal: options.signal,
      observe: async (_source, _adapter, ctx) => {
        const batch = await (session.observePaths as NonNullable<SourceSession['observePaths']>)(absPaths, ctx);
        return { [Symbol.asyncIterator]: async function* () { yield batch; }, close: () => {} };
      },
    });
  }

  /** The engine's lasting view of a source (its rules and their caches), for watchers and watched paths. */
  session(source: ResolvedSource): SourceSession {
    const kept = this.#sessions.get(source.name);
    if (kept && kept.source === source) return kept.session;
    const adapter = this.#adapter(source);
    const session = adapter.session?.(source, { excludeDirs: [this.config.sync.stateDir] }) ?? {};
    this.#sessions.set(source.name, { source, session });
    return session;
  }

  /**
   * Takes a new configuration (a reload): new sources, rules and limits apply to the next operation. Documents
   * keep their state, so unchanged ones are not sent again.
   */
  reconfigure(config: ResolvedConfig, client?: LanyingClient): void {
    this.config = config;
    this.#applier.reconfigure({ client, concurrency: config.sync.concurrency, maxAttempts: config.sync.maxAttempts });
    this.#sessions.clear();
  }

  stats(): EngineStats {
    const { queued, inFlight } = this.#applier.stats();
    return { queued, inFlight };
  }

  /** Resolves when no send is queued or in flight. */
  async drain(): Promise<void> {
    await this.#applier.drain();
  }

  /**
   * Stops: no send starts any more; sends in flight get `graceMs` to finish, then every run in progress is aborted
   * (its unfinished documents stay `pending` and are sent again, deduplicated by their transaction ID, later).
   * Resolves with how many sends were aborted.
   */
  async stop(options: { graceMs: number }): Promise<{ aborted: number }> {
    const { inFlight } = await this.#applier.stop(options);
    for (const run of this.#runs) run.abort(new AbortedError());
    this.#applier.resume();
    return { aborted: inFlight };
  }

  async #run(run: RunSpec): Promise<SyncReport> {
    const started = this.#now();
    const knowledgeBase = this.config.knowledgeBase;
    if (!knowledgeBase) throw new UsageError('the configuration has no "knowledgeBase" section, which sync needs (chatbotUserId, adminUserId, name)');
    const target: SendTarget = { from: knowledgeBase.adminUserId, chatbot: knowledgeBase.chatbotUserId };
    const runId = run.recordRun ? this.store.startRun(run.mode, started) : undefined;
    const downloadDir = mkdtempSync(path.join(tmpdir(), 'lanying-kb-'));
    const abort = new AbortController();
    this.#runs.add(abort);
    const signal = run.signal ? AbortSignal.any([run.signal, abort.signal]) : abort.signal;
    const report = new ReportBuilder({ collect: run.collectEntries, listUnchanged: run.listUnchanged });
    const sends = new SendTracker(this.#onEvent, report);
    let stopError: unknown;
    const observations: Observation[] = [];

    try {
      const ctx = this.#observeContext(signal, downloadDir);
      // Every source is opened before anything is sent: a missing folder stops the run before it starts.
      await this.#prepareRun(run.sources, ctx);
      const opened: [ResolvedSource, SourceAdapter, Observation][] = [];
      for (const source of run.sources) {
        const adapter = this.#adapter(source);
        const observation = await run.observe(source, adapter, { ...ctx, known: (key) => knownContent(this.store, source.name, key), memo: this.#memo(source.name, run.dryRun) });
        observations.push(observation);
        opened.push([source, adapter, observation]);
      }
      const moves = this.#moveLookups();
      for (const [source, adapter, observation] of opened) {
        const settings = digestSettings(source, target, knowledgeBase.name);
        for await (const batch of observation) {
          signal.throwIfAborted();
          await this.#handleBatch(batch, { run, source, adapter, settings, moves, report, sends, target, runId, signal, abort });
        }
      }
      this.#onEvent?.({ type: 'planned', sources: run.sources.map((s) => s.name), toSend: sends.total, bytes: report.counts.bytesPlanned });
      await sends.settled();
      if (isRunStopping(abort.signal.reason)) throw abort.signal.reason;
      signal.throwIfAborted();
    } catch (error) {
      stopError = error;
      await sends.settled();
      if (isRunStopping(abort.signal.reason)) stopError = abort.signal.reason;
    } finally {
      for (const observation of observations) observation.close();
      rmSync(downloadDir, { recursive: true, force: true });
      this.#runs.delete(abort);
    }

    const aborted = run.signal?.aborted || stopError instanceof AbortedError || (stopError as Error | undefined)?.name === 'AbortError';
    const outcome: SyncOutcome = stopError ? (aborted ? 'aborted' : 'failed') : report.counts.failed > 0 ? 'partial' : 'ok';
    const result: SyncReport = {
      runId,
      dryRun: run.dryRun,
      sources: run.sources.map((s) => s.name),
      startedAt: new Date(started).toISOString(),
      durationMs: this.#now() - started,
      outcome,
      counts: report.counts,
      entries: report.entries,
      ...(stopError ? { error: stopError instanceof Error ? stopError.message : String(stopError) } : {}),
    };
    if (runId !== undefined) this.store.finishRun(runId, outcome, { ...report.counts }, result.error, this.#now());
    if (stopError) {
      if (aborted && !(stopError instanceof AbortedError) && !isRunStopping(stopError)) stopError = new AbortedError();
      (stopError as { report?: SyncReport }).report = result;
      throw stopError;
    }
    return result;
  }

  /** Plans one batch of an observation and hands its actions to the apply stage. */
  async #handleBatch(batch: ObservationBatch, env: BatchEnv): Promise<void> {
    const { run, source, adapter, report, sends } = env;
    for (const problem of batch.problems ?? []) {
      const entry: ReportEntry = { action: problem.failed ? 'failed' : 'skipped', source: source.name, key: problem.where, kind: 'page', bytes: 0, reason: problem.reason };
      report.countDecision(entry);
      if (run.collectEntries) report.entries.push(entry);
      this.#onEvent?.({ type: 'decision', entry, repeated: false });
    }
    const dir = batch.scope.kind === 'folder' ? batch.scope.dir : undefined;
    const digest = dir !== undefined && !run.checksum ? folderDigest(batch.items, env.settings) : undefined;
    if (digest !== undefined && this.store.folderDigest(source.name, dir as string) === digest) {
      this.#reportUnchangedFolder(batch, env);
      return;
    }
    const planned = await planBatch(
      batch,
      { store: this.store, adapter, source, checksum: run.checksum, signal: env.signal, moves: env.moves, now: this.#now(), runId: env.runId },
      (decision) => {
        const entry = report.decided(source.name, decision);
        if (entry.action !== 'unchanged') this.#onEvent?.({ type: 'decision', entry, repeated: decision.action === 'skipped' && decision.repeated });
        return entry;
      },
    );
    if (run.dryRun) return;
    this.#applier.writeAll(planned.actions);
    // The folder's digest is recorded once every document in it is settled: now, or when its last send succeeded.
    let settled = digest !== undefined && !planned.decisions.some((d) => d.action === 'failed');
    let sending = 0;
    const recordDigest = () => {
      if (settled && sending === 0) this.store.setFolderDigest(source.name, dir as string, digest as string);
    };
    for (const action of planned.actions) {
      if (action.type !== 'send') continue;
      sends.planned(action.entry);
      sending++;
      const { settled: done } = await this.#applier.enqueue({
        action,
        source,
        adapter,
        target: env.target,
        runId: env.runId,
        signal: env.signal,
        done: (result, entry) => {
          if (result.outcome === 'cancelled' && isRunStopping(result.error)) env.abort.abort(result.error);
          sends.finished(result, entry);
          sending--;
          if (result.outcome !== 'sent') settled = false;
          recordDigest();
        },
      });
      sends.track(done);
    }
    recordDigest();
  }

  /** Reports a folder that looks exactly as when all its documents were settled: nothing to read, decide or write. */
  #reportUnchangedFolder(batch: ObservationBatch, env: BatchEnv): void {
    for (const item of batch.items) {
      const action = item.skip || item.isFolder ? 'skipped' : 'unchanged';
      const entry: ReportEntry = { action, source: env.source.name, key: item.key, kind: item.kind, bytes: item.size, reason: item.skip?.reason ?? UNCHANGED_BY_STAT };
      env.report.countDecision(entry);
      if (env.run.collectEntries && (action === 'skipped' || env.run.listUnchanged)) env.report.entries.push(entry);
      if (action === 'skipped') this.#onEvent?.({ type: 'decision', entry, repeated: true });
    }
  }

  /** The facts a source keeps in the state (`ObserveContext.memo`); a dry run writes none. */
  #memo(source: string, dryRun: boolean): SourceMemo {
    return {
      get: (name) => this.store.sourceMemo(source, name),
      set: (name, value) => {
        if (!dryRun && this.store.sourceMemo(source, name) !== value) this.store.setSourceMemo(source, name, value, this.#now());
      },
    };
  }

  #observeContext(signal: AbortSignal, downloadDir: string): ObserveContext {
    return {
      signal,
      excludeDirs: [this.config.sync.stateDir],
      downloadDir,
      dispatcher: this.#dispatcher,
      userAgent: USER_AGENT,
      known: () => undefined,
      runState: new Map(),
    };
  }

  async #prepareRun(selected: readonly ResolvedSource[], ctx: ObserveContext): Promise<void> {
    const enabled = this.config.sources.filter((s) => s.enabled);
    for (const adapter of this.#adapters) {
      if (!adapter.prepareRun) continue;
      const ofType = (list: readonly ResolvedSource[]) => list.filter((s) => s.type === adapter.type);
      await adapter.prepareRun(ofType(enabled), ofType(selected), ctx);
    }
  }

  #moveLookups(): MoveLookups {
    // Note: on a first sync nothing has reached the knowledge base yet: no query per new file.
    const anyUploaded = this.store.hasUploaded();
    const firstInRun = new Map<string, string>();
    return {
      sameContent: (hash) => (anyUploaded ? this.store.findByUploadedHash(hash) : []),
      exists: (record) => {
        const source = this.config.sources.find((s) => s.name === record.source);
        return source ? (this.session(source).exists?.(record.key) ?? true) : true;
      },
      firstInRun: (hash) => firstInRun.get(hash),
      registerFirst: (hash, sourceKey) => void firstInRun.set(hash, sourceKey),
    };
  }

  #adapter(source: ResolvedSource): SourceAdapter {
    const adapter = adapterFor(source.type, this.#adapters);
    if (!adapter) throw new UsageError(`source "${source.name}" has the unknown type "${source.type}"`);
    return adapter;
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
}

/** What one batch is handled with. */
interface BatchEnv {
  run: RunSpec;
  source: ResolvedSource;
  adapter: SourceAdapter;
  /** What besides the folder's content a folder digest depends on (see `digestSettings`). */
  settings: string;
  moves: MoveLookups;
  report: ReportBuilder;
  sends: SendTracker;
  target: SendTarget;
  runId: number | undefined;
  signal: AbortSignal;
  abort: AbortController;
}

/** The source's configuration and the target: a folder digest recorded under other settings is not trusted. */
function digestSettings(source: ResolvedSource, target: SendTarget, knowledgeBase: string): string {
  return JSON.stringify({ source, target, knowledgeBase });
}

/** What the state knows of a document's content, for a source's conditional requests. */
function knownContent(store: StateStore, source: string, key: string): KnownContent | undefined {
  const record = store.get(source, key);
  if (!record) return undefined;
  return {
    hash: record.hash,
    current: record.status === 'uploaded' && record.uploadedHash !== null && record.uploadedHash === record.hash,
    validators: { etag: record.etag ?? undefined, lastModified: record.lastModified ?? undefined },
  };
}

/** Follows the sends of one run: their outcomes into the report and events, and when they are all settled. */
class SendTracker {
  total = 0;
  #done = 0;
  #bytesDone = 0;
  #bytesTotal = 0;
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly onEvent: ((event: SyncEvent) => void) | undefined,
    private readonly report: ReportBuilder,
  ) {}

  planned(entry: ReportEntry): void {
    this.total++;
    this.#bytesTotal += entry.bytes;
  }

  track(settled: Promise<void>): void {
    this.#pending.add(settled);
    const forget = () => void this.#pending.delete(settled);
    settled.then(forget, forget);
  }

  finished(result: SendResult, entry: ReportEntry): void {
    switch (result.outcome) {
      case 'sent':
        this.report.sendFinished(entry, 'sent', { bytes: result.bytes, msgId: result.msgId });
        this.#bytesDone += result.bytes;
        this.onEvent?.({ type: 'sent', entry: { ...entry }, durationMs: result.durationMs });
        break;
      case 'failed':
        this.report.sendFinished(entry, 'failed', { error: result.message });
        this.onEvent?.({ type: 'failed', entry: { ...entry }, error: result.error });
        break;
      case 'vanished':
        entry.reason = 'deleted before it could be sent';
        this.report.sendFinished(entry, 'vanished');
        break;
      case 'cancelled':
        this.report.sendFinished(entry, 'cancelled');
        break;
    }
    this.#done++;
    this.onEvent?.({ type: 'progress', done: this.#done, total: this.total, bytesDone: this.#bytesDone, bytesTotal: this.#bytesTotal });
  }

  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
