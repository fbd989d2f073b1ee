import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import type { LanyingClient } from '../api/client.js';
import { AbortedError } from '../api/errors.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { selectSources } from '../config/select-sources.js';
import { UsageError } from '../errors.js';
import { adapterFor, type ResolvedSource, SOURCE_ADAPTERS } from '../sources/registry.js';
import type { KnownContent, Observation, ObservationBatch, ObserveContext, ObserveProgress, SourceAdapter, SourceMemo, SourceSession } from '../sources/types.js';
import { IN_KNOWLEDGE_BASE, type StateStore } from '../state/store.js';
import { USER_AGENT } from '../version.js';
import { Applier, isRunStopping, type SendResult } from './apply.js';
import type { DeletionOutcome } from './cleanup.js';
import type { ChatbotRefusedError, Confirmation } from './confirm.js';
import { isForeignTarget, UNCHANGED_BY_STAT } from './decide.js';
import { folderDigest } from './folder-digest.js';
import { withSendHistory } from './history-events.js';
import { KnowledgeBaseLifecycle, type MetadataUpdate } from './lifecycle.js';
import type { MoveDecision, MoveLookups } from './moves.js';
import { planBatch } from './plan.js';
import { ReportBuilder, type ReportEntry, type SyncOutcome, type SyncReport } from './report.js';
import { type KnowledgeBaseTarget, targetKey, targetOf } from './target.js';
import { followAbort } from '../util/abort.js';

/** What the engine tells its caller while it works: for progress bars, logs and metrics. */
export type SyncEvent =
  /** Every source was observed and every decision made: `toSend` documents of `bytes` in all. */
  | { type: 'planned'; sources: string[]; toSend: number; bytes: number }
  /** `repeated`: the same decision as the state records from before (a file skipped again for the same reason). */
  | { type: 'decision'; entry: ReportEntry; repeated: boolean }
  | { type: 'sent'; entry: ReportEntry; durationMs: number }
  | { type: 'failed'; entry: ReportEntry; error: unknown }
  /** A source's observation advanced (see `ObserveProgress`): entries a scan listed, URLs fetched. */
  | ({ type: 'observed' } & ObserveProgress)
  /** `items` observed documents of `source` were checked: hashed where needed, and decided. */
  | { type: 'checked'; source: string; items: number }
  /** Sends done so far of those decided so far (`total` grows while sources are still observed). */
  | { type: 'progress'; done: number; total: number; bytesDone: number; bytesTotal: number }
  /** What the chatbot said (or did not say in time) of a document that was sent. */
  | { type: 'confirmed'; confirmation: Confirmation }
  /** A document deleted from the knowledge base (or found gone, or kept because it is not lanying-kb's). */
  | { type: 'deleted'; deletion: DeletionOutcome }
  /** Something worth a warning (the chatbot runs no commands; deletions blocked by sync.maxDelete; ...). */
  | { type: 'warning'; message: string };

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
  /**
   * Follow the chatbot's confirmations between runs too (the daemon); otherwise only a run that waits for them
   * follows them. @default false
   */
  background?: boolean | undefined;
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
  /**
   * Stream the report's entries instead of collecting them: each is handed over once settled (its send ended and,
   * when the run waits, the chatbot answered or the run ended), so a report of any size takes bounded memory. The
   * report's `entries` stays empty. Unchanged documents only with `listUnchanged`.
   */
  onEntry?: ((entry: ReportEntry) => void) | undefined;
  /** Recorded in the runs table. @default 'sync' */
  mode?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Wait for the chatbot to confirm the documents sent (up to `sync.confirmTimeout`) before the run ends, and delete
   * the versions their confirmed successors replace. @default true
   */
  wait?: boolean | undefined;
  /**
   * Which documents that left their sources are deleted from the knowledge base by this run: `all` of them
   * (`sync --prune`), those past their grace period (`grace`, the daemon), or `none` (a one-shot sync without
   * `--prune`). @default 'none'
   */
  prune?: 'all' | 'grace' | 'none' | undefined;
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
  onEntry?: ((entry: ReportEntry) => void) | undefined;
  signal: AbortSignal | undefined;
  wait: boolean;
  prune: 'all' | 'grace' | 'none';
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
  #client: LanyingClient;
  readonly #background: boolean;
  /** The knowledge-base lifecycle of each target (confirmations, deletions), for the engine's lifetime. */
  readonly #lifecycles = new Map<string, KnowledgeBaseLifecycle>();
  /** The runs in progress, told of confirmations of their documents. */
  readonly #activeReports = new Set<{ startedAt: number; report: ReportBuilder; entries: Map<string, ReportEntry> | undefined }>();

  constructor(options: SyncEngineOptions) {
    this.config = options.config;
    this.store = options.store;
    this.#dispatcher = options.dispatcher;
    this.#now = options.now ?? Date.now;
    this.#onEvent = withSendHistory(options.store, options.onEvent, this.#now);
    this.#adapters = options.adapters ?? (SOURCE_ADAPTERS as unknown as readonly SourceAdapter[]);
    this.#client = options.client;
    this.#background = options.background ?? false;
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
      collectEntries: options.onEntry === undefined && (options.collectEntries ?? true),
      onEntry: options.onEntry,
      signal: options.signal,
      wait: options.wait ?? true,
      prune: options.prune ?? 'none',
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
      wait: false,
      prune: 'none',
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
    if (client) this.#client = client;
    this.#applier.reconfigure({ client, concurrency: config.sync.concurrency, maxAttempts: config.sync.maxAttempts });
    this.#sessions.clear();
    // Targets may have changed: lifecycles are made anew on first use (confirmations pick up from the state).
    const old = [...this.#lifecycles.values()];
    this.#lifecycles.clear();
    for (const lifecycle of old) void lifecycle.close();
  }

  /**
   * The daemon's upkeep between operations: documents awaiting a confirmation for too long become unconfirmed, the
   * conversation is followed while any are awaited, and what is to go is deleted (documents that left their source
   * once their grace period is over). Resolves with what was deleted.
   */
  async maintain(options: { signal?: AbortSignal | undefined } = {}): Promise<DeletionOutcome[]> {
    const knowledgeBase = this.config.knowledgeBase;
    if (!knowledgeBase) return [];
    const outcomes: DeletionOutcome[] = [];
    for (const lifecycle of this.#lifecyclesOf(this.config.sources.filter((s) => s.enabled), knowledgeBase).values()) {
      lifecycle.expire();
      lifecycle.start();
      const result = await lifecycle.cleanup({ removedDue: 'grace', metadata: [], signal: options.signal });
      outcomes.push(...result.outcomes);
    }
    return outcomes;
  }

  /** Documents on their way to the knowledge base (their confirmation awaited). */
  awaitedConfirmations(): number {
    let total = 0;
    for (const lifecycle of this.#lifecycles.values()) total += lifecycle.awaitedCount();
    return total;
  }

  /** Stops following the conversations with the chatbots (the end of a run, `stop` of a daemon). */
  async closeLifecycles(): Promise<void> {
    const all = [...this.#lifecycles.values()];
    this.#lifecycles.clear();
    await Promise.all(all.map((lifecycle) => lifecycle.close()));
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
    const runId = run.recordRun ? this.store.startRun(run.mode, started) : undefined;
    const downloadDir = mkdtempSync(path.join(tmpdir(), 'lanying-kb-'));
    const abort = new AbortController();
    this.#runs.add(abort);
    // Not `AbortSignal.any`: a daemon's signal outlives all its runs (src/util/abort.ts).
    const { signal, release: releaseSignal } = followAbort([run.signal, abort.signal]);
    const report = new ReportBuilder({ collect: run.collectEntries, listUnchanged: run.listUnchanged, onEntry: run.onEntry });
    const sends = new SendTracker(this.#onEvent, report);
    const active = { startedAt: started, report, entries: run.collectEntries || report.streams ? new Map<string, ReportEntry>() : undefined };
    if (!run.dryRun) this.#activeReports.add(active);
    const warnings: string[] = [];
    const metadataUpdates = new Map<string, MetadataUpdate[]>();
    const budget = { left: this.config.sync.maxSendsPerRun ?? Number.POSITIVE_INFINITY };
    let deleteBlocked: string | undefined;
    let stopError: unknown;
    const observations: Observation[] = [];
    const runMoves: RunMoveLookups[] = [];

    try {
      const lifecycles = run.dryRun ? [] : this.#lifecyclesOf(run.sources, knowledgeBase);
      for (const message of this.#retargetWarnings(run.sources, knowledgeBase)) {
        warnings.push(message);
        this.#onEvent?.({ type: 'warning', message });
      }
      // What the chatbot said about earlier runs' documents since (refused, failed, ingested late) is recorded before
      // this run decides: a refused document is then sent again now.
      for (const [, lifecycle] of lifecycles) await lifecycle.catchUp(signal);
      const ctx = this.#observeContext(signal, downloadDir);
      // Every source is opened before anything is sent: a missing folder stops the run before it starts.
      await this.#prepareRun(run.sources, ctx);
      const opened: [ResolvedSource, SourceAdapter, Observation][] = [];
      for (const source of run.sources) {
        const adapter = this.#adapter(source);
        const key = targetKey(targetOf(this.config, knowledgeBase, source));
        const observation = await run.observe(source, adapter, { ...ctx, known: (k) => knownContent(this.store, source.name, k, key), memo: this.#memo(source.name, run.dryRun) });
        observations.push(observation);
        opened.push([source, adapter, observation]);
      }
      const folders = new Map<string, FolderTrack>();
      for (const [source, adapter, observation] of opened) {
        const target = targetOf(this.config, knowledgeBase, source);
        const env: BatchEnv = {
          run,
          source,
          adapter,
          target,
          targetKey: targetKey(target),
          settings: digestSettings(source, target),
          moves: this.#moveLookups(targetKey(target)),
          folders,
          report,
          sends,
          active,
          budget,
          metadataUpdates,
          runId,
          signal,
          abort,
        };
        runMoves.push(env.moves);
        for await (const batch of observation) {
          signal.throwIfAborted();
          await this.#handleBatch(batch, env);
          this.#onEvent?.({ type: 'checked', source: source.name, items: batch.items.length });
        }
      }
      this.#onEvent?.({ type: 'planned', sources: run.sources.map((s) => s.name), toSend: sends.total, bytes: report.counts.bytesPlanned });
      await sends.settled();
      if (isRunStopping(abort.signal.reason)) throw abort.signal.reason;
      signal.throwIfAborted();
      // The knowledge-base lifecycle: the chatbot's confirmations, then what is to go.
      for (const [key, lifecycle] of lifecycles) {
        if (run.wait) await lifecycle.settle({ deadline: this.#now() + this.config.sync.confirmTimeoutMs, signal });
        if (isRunStopping(abort.signal.reason)) throw abort.signal.reason;
        if (!run.wait && run.prune === 'none' && !metadataUpdates.has(key)) continue;
        const cleanup = await lifecycle.cleanup({ removedDue: run.prune, metadata: metadataUpdates.get(key) ?? [], signal });
        if (cleanup.blocked) {
          deleteBlocked = cleanup.blocked.reason;
          report.counts.deleteBlocked += cleanup.blocked.removals;
        }
      }
    } catch (error) {
      stopError = error;
      await sends.settled();
      if (isRunStopping(abort.signal.reason)) stopError = abort.signal.reason;
    } finally {
      for (const observation of observations) observation.close();
      for (const moves of runMoves) moves.end();
      rmSync(downloadDir, { recursive: true, force: true });
      this.#runs.delete(abort);
      this.#activeReports.delete(active);
      releaseSignal();
    }

    report.flush();
    const counts = report.counts;
    const notIngested = counts.failed + counts.ingestFailed + counts.refused + counts.unconfirmed;
    const aborted = run.signal?.aborted || stopError instanceof AbortedError || (stopError as Error | undefined)?.name === 'AbortError';
    const outcome: SyncOutcome = stopError ? (aborted ? 'aborted' : 'failed') : notIngested > 0 || deleteBlocked !== undefined ? 'partial' : 'ok';
    const result: SyncReport = {
      runId,
      dryRun: run.dryRun,
      sources: run.sources.map((s) => s.name),
      startedAt: new Date(started).toISOString(),
      durationMs: this.#now() - started,
      outcome,
      counts,
      entries: report.entries,
      ...(stopError ? { error: stopError instanceof Error ? stopError.message : String(stopError) } : {}),
      ...(deleteBlocked !== undefined ? { deleteBlocked } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    if (runId !== undefined) this.store.finishRun(runId, outcome, { ...counts }, result.error, this.#now());
    if (stopError) {
      if (aborted && !(stopError instanceof AbortedError) && !isRunStopping(stopError)) stopError = new AbortedError();
      (stopError as { report?: SyncReport }).report = result;
      throw stopError;
    }
    return result;
  }

  /** The lifecycles of the sources' targets, made on first use (one per chatbot the sources send to). */
  #lifecyclesOf(sources: readonly ResolvedSource[], knowledgeBase: NonNullable<ResolvedConfig['knowledgeBase']>): Map<string, KnowledgeBaseLifecycle> {
    const out = new Map<string, KnowledgeBaseLifecycle>();
    for (const source of sources) {
      const target = targetOf(this.config, knowledgeBase, source);
      const key = targetKey(target);
      let lifecycle = this.#lifecycles.get(key);
      if (!lifecycle) {
        lifecycle = this.#makeLifecycle(target, key);
        this.#lifecycles.set(key, lifecycle);
      }
      out.set(key, lifecycle);
    }
    return out;
  }

  #makeLifecycle(target: KnowledgeBaseTarget, key: string): KnowledgeBaseLifecycle {
    return new KnowledgeBaseLifecycle({
      client: this.#client,
      store: this.store,
      target,
      targetKey: key,
      sync: this.config.sync,
      now: this.#now,
      onConfirmation: (confirmation) => this.#onConfirmation(confirmation),
      onDeletion: (deletion) => {
        if (deletion.result === 'deleted' || deletion.result === 'already-gone') for (const active of this.#activeReports) active.report.counts.deleted++;
        this.#onEvent?.({ type: 'deleted', deletion });
      },
      onWarning: (message) => this.#onEvent?.({ type: 'warning', message }),
      onStop: (error: ChatbotRefusedError) => {
        for (const run of this.#runs) run.abort(error);
      },
    });
  }

  /** A confirmation: counted by the runs that sent the document (and put on its entry), and told to the caller. */
  #onConfirmation(confirmation: Confirmation): void {
    const row = this.store.get(confirmation.source, confirmation.key);
    // A refusal read late is of a send made before this run (the document is sent again): no run's outcome.
    const late = confirmation.outcome === 'refused' && confirmation.late === true;
    for (const active of late ? [] : this.#activeReports) {
      if (row?.uploadedAt == null || row.uploadedAt < active.startedAt) continue;
      const id = `${confirmation.source}\n${confirmation.key}`;
      const entry = active.entries?.get(id);
      active.report.confirmed(confirmation.outcome, entry, 'reason' in confirmation ? confirmation.reason : undefined);
      // A streamed entry was handed over: its run keeps nothing of it.
      if (active.report.streams) active.entries?.delete(id);
    }
    this.#onEvent?.({ type: 'confirmed', confirmation });
  }

  /** One warning per source whose state records sends to another knowledge base than the configured one. */
  #retargetWarnings(sources: readonly ResolvedSource[], knowledgeBase: NonNullable<ResolvedConfig['knowledgeBase']>): string[] {
    const warnings: string[] = [];
    for (const source of sources) {
      const key = targetKey(targetOf(this.config, knowledgeBase, source));
      const elsewhere = this.store.countElsewhere(source.name, key);
      if (elsewhere > 0) {
        warnings.push(
          `source ${source.name}: the state records ${elsewhere} document(s) sent to another knowledge base than ${key} (app/chatbot/admin/name): they are sent again to this one, the other one keeps its copies`,
        );
      }
    }
    return warnings;
  }

  /** Plans one batch of an observation and hands its actions to the apply stage. */
  async #handleBatch(batch: ObservationBatch, env: BatchEnv): Promise<void> {
    const { run, source, adapter, report, sends } = env;
    for (const problem of batch.problems ?? []) {
      const entry: ReportEntry = { action: problem.failed ? 'failed' : 'skipped', source: source.name, key: problem.where, kind: 'page', bytes: 0, reason: problem.reason };
      report.countDecision(entry);
      report.settledEntry(entry);
      this.#onEvent?.({ type: 'decision', entry, repeated: false });
    }
    const scope = batch.scope;
    // Note: with a send budget a folder may be left half sent: its digest is neither trusted nor recorded.
    const track = scope.kind === 'folder' && !run.checksum && env.budget.left === Number.POSITIVE_INFINITY ? this.#folderTrack(scope, env) : undefined;
    const digest = track?.addPart(batch, env.settings);
    if (track && digest !== undefined && track.recorded(scope.kind === 'folder' ? scope.part?.index : undefined) === digest) {
      this.#reportUnchangedFolder(batch, env);
      this.#folderSettled(track, env);
      return;
    }
    const planned = await planBatch(
      batch,
      {
        store: this.store,
        adapter,
        source,
        checksum: run.checksum,
        signal: env.signal,
        moves: env.moves,
        now: this.#now(),
        runId: env.runId,
        target: env.targetKey,
        deleteAfterMs: this.config.sync.deleteAfterMs,
        maxIngestAttempts: this.config.sync.maxIngestAttempts,
        sendBudget: env.budget,
      },
      (decision) => {
        const entry = report.decided(source.name, decision);
        // Unchanged documents only when they are to be listed: a report that streams its entries gets them from here.
        if (entry.action !== 'unchanged' || run.listUnchanged) this.#onEvent?.({ type: 'decision', entry, repeated: decision.action === 'skipped' && decision.repeated });
        return entry;
      },
    );
    env.moves.flush();
    if (report.streams) report.batchPlanned(new Set(run.dryRun ? [] : planned.actions.flatMap((a) => (a.type === 'send' ? [a.entry] : []))));
    if (run.dryRun) {
      if (track) env.folders.delete(track.id);
      return;
    }
    this.#applier.writeAll(planned.actions);
    const metadataPending = this.#noteMetadataUpdates(planned.decisions, env);
    // The folder's digest is recorded once every document in it is settled (its metadata too): now, or when its last
    // send succeeded.
    if (track && (metadataPending || planned.vanished.length > 0 || !planned.decisions.every(settlesFolder))) track.settled = false;
    for (const action of planned.actions) {
      if (action.type !== 'send') continue;
      sends.planned(action.entry);
      if (track) track.sending++;
      const { settled: done } = await this.#applier.enqueue({
        action,
        source,
        adapter,
        target: { from: env.target.adminUserId, chatbot: env.target.chatbotUserId },
        transition: { now: this.#now(), runId: env.runId, target: env.targetKey, deleteAfterMs: this.config.sync.deleteAfterMs },
        replace: this.config.sync.onChange === 'replace',
        signal: env.signal,
        refusedBefore: async (msgId) => (await this.#lifecycles.get(env.targetKey)?.refusedBefore(msgId, env.signal)) ?? false,
        done: (result, entry) => {
          if (result.outcome === 'cancelled' && isRunStopping(result.error)) env.abort.abort(result.error);
          if (result.outcome === 'sent' && result.msgId !== undefined && (run.wait || this.#background)) {
            env.active.entries?.set(`${source.name}\n${entry.key}`, entry);
            report.awaitConfirmation(entry);
            this.#lifecycles.get(env.targetKey)?.expect(result.msgId);
          }
          sends.finished(result, entry);
          if (track) {
            track.sending--;
            if (result.outcome !== 'sent') track.settled = false;
            this.#folderSettled(track, env);
          }
        },
      });
      sends.track(done);
    }
    if (track) this.#folderSettled(track, env);
  }

  /** The digest record of the folder a batch belongs to (its parts share one). */
  #folderTrack(scope: Extract<ObservationBatch['scope'], { kind: 'folder' }>, env: BatchEnv): FolderTrack {
    const id = `${env.source.name}\0${scope.dir}`;
    let track = env.folders.get(id);
    if (track === undefined || (scope.part?.index ?? 0) === 0) {
      track = new FolderTrack(id, env.source.name, scope.dir, this.store.folderDigest(env.source.name, scope.dir), scope.part !== undefined);
      env.folders.set(id, track);
    }
    if (scope.part === undefined || scope.part.last) track.complete = true;
    return track;
  }

  /** Records a folder's digest once all of it was seen and every document in it is settled. */
  #folderSettled(track: FolderTrack, env: BatchEnv): void {
    if (!track.complete || track.sending > 0) return;
    if (env.folders.get(track.id) === track) env.folders.delete(track.id);
    const digest = track.settled ? track.digest() : undefined;
    if (digest !== undefined && digest !== track.stored && !env.run.dryRun && !track.done) {
      // After the rows of the folder's sends (each clears the folder's digest when written).
      env.sends.track(this.#applier.afterRowWrites(() => this.store.setFolderDigest(track.source, track.dir, digest)));
    }
    track.done = true;
  }

  /**
   * A document that moved keeps its document in the knowledge base: its `path` and `link` metadata follow it. Until
   * they did (`metadataPendingSince` is cleared then), every run that sees the file asks again: a command refused or lost, a
   * run stopped before its cleanup, or a document not confirmed yet when it moved. Returns whether any is pending.
   */
  #noteMetadataUpdates(decisions: readonly MoveDecision[], env: BatchEnv): boolean {
    let pending = false;
    for (const decision of decisions) {
      if (decision.action !== 'moved' && decision.action !== 'unchanged') continue;
      const moved = decision.action === 'moved' ? decision.from : decision.previous.metadataPendingSince !== null ? decision.previous : undefined;
      if (moved === undefined) continue;
      pending = true;
      if (moved.docId === null) continue;
      const fields: Record<string, string> = { path: decision.key };
      const link = decision.item.payload?.link;
      if (link !== undefined) fields.link = link;
      const list = env.metadataUpdates.get(env.targetKey) ?? [];
      list.push({ source: env.source.name, key: decision.key, docId: moved.docId, fields });
      env.metadataUpdates.set(env.targetKey, list);
    }
    return pending;
  }

  /** Reports a folder that looks exactly as when all its documents were settled: nothing to read, decide or write. */
  #reportUnchangedFolder(batch: ObservationBatch, env: BatchEnv): void {
    for (const item of batch.items) {
      const action = item.skip || item.isFolder ? 'skipped' : 'unchanged';
      // An unchanged document is counted; it is an entry only when unchanged documents are listed.
      if (action === 'unchanged' && !env.run.listUnchanged) {
        env.report.countDecision({ action, bytes: item.size });
        continue;
      }
      const entry: ReportEntry = { action, source: env.source.name, key: item.key, kind: item.kind, bytes: item.size, reason: item.skip?.reason ?? UNCHANGED_BY_STAT };
      env.report.countDecision(entry);
      env.report.settledEntry(entry);
      this.#onEvent?.({ type: 'decision', entry, repeated: true });
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
      onProgress: (progress) => this.#onEvent?.({ type: 'observed', ...progress }),
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

  #moveLookups(target: string): RunMoveLookups {
    // Note: on a first sync nothing has reached the knowledge base yet: no query per new file.
    const anyUploaded = this.store.hasUploaded();
    // The content this run sends first: the last batch's in memory, the rest in the state's temporary table (a run of
    // a million new documents must not keep a million hashes in the heap).
    const runContent = this.store.startRunContent();
    const recent = new Map<string, string>();
    return {
      sameContent: (hash) => (anyUploaded ? this.store.findByUploadedHash(hash).filter((r) => !isForeignTarget(r, target)) : []),
      exists: (record) => {
        const source = this.config.sources.find((s) => s.name === record.source);
        return source ? (this.session(source).exists?.(record.key) ?? true) : true;
      },
      firstInRun: (hash) => recent.get(hash) ?? this.store.firstWithContent(runContent, hash),
      registerFirst: (hash, sourceKey) => void recent.set(hash, sourceKey),
      flush: () => {
        // In memory up to a few thousand (a transaction per batch of 100 costs more than the rows it writes).
        if (recent.size < RECENT_CONTENT) return;
        this.store.recordFirstContent(runContent, recent);
        recent.clear();
      },
      end: () => this.store.endRunContent(runContent),
    };
  }

  #adapter(source: ResolvedSource): SourceAdapter {
    const adapter = adapterFor(source.type, this.#adapters);
    if (!adapter) throw new UsageError(`source "${source.name}" has the unknown type "${source.type}"`);
    return adapter;
  }

  #selectSources(names: string[] | undefined): ResolvedSource[] {
    return selectSources(this.config, names);
  }

}

/** The move rules' lookups for one run, with the run's record of content sent first (`flush` after each batch). */
interface RunMoveLookups extends MoveLookups {
  flush(): void;
  end(): void;
}

/**
 * What the engine knows of one folder while its batches (one, or its parts) are handled and its sends settle: the
 * digests of what was seen, against the one recorded when the folder was last settled.
 */
class FolderTrack {
  /** Every part's batch was handled. */
  complete = false;
  /** No decision failed and every send succeeded. */
  settled = true;
  sending = 0;
  /** The digest was recorded (or could not be). */
  done = false;
  readonly #digests: (string | undefined)[] = [];
  #recordedParts: string[] | undefined;

  constructor(
    readonly id: string,
    readonly source: string,
    readonly dir: string,
    /** The digest recorded for the folder (cleared by any write to its documents since). */
    readonly stored: string | undefined,
    readonly parted: boolean,
  ) {}

  /** The digest of one batch of the folder (undefined when it must be looked at in any case). */
  addPart(batch: ObservationBatch, settings: string): string | undefined {
    const part = batch.scope.kind === 'folder' ? batch.scope.part : undefined;
    // A part's digest covers its range too: a part whose range moved is not the part that was recorded.
    const digest = batch.complete ? folderDigest(batch.items, part ? `${settings}\0${part.index}\0${part.last}\0${part.from ?? ''}\0${part.to ?? ''}` : settings) : undefined;
    this.#digests.push(digest);
    return digest;
  }

  /** The digest recorded for part `index` (or for the whole folder). */
  recorded(index: number | undefined): string | undefined {
    if (index === undefined) return this.parted ? undefined : this.stored;
    this.#recordedParts ??= this.stored?.startsWith(PARTS_PREFIX) ? this.stored.slice(PARTS_PREFIX.length).split(' ') : [];
    return this.#recordedParts[index];
  }

  /** What to record for the folder: its digest, or its parts' digests in order. */
  digest(): string | undefined {
    if (this.#digests.some((d) => d === undefined)) return undefined;
    return this.parted ? PARTS_PREFIX + this.#digests.join(' ') : this.#digests[0];
  }
}

/** Contents a run sends first that are kept in memory before they are written to the state's temporary table. */
const RECENT_CONTENT = 4096;

/** Marks a recorded digest that lists a folder's parts' digests. */
const PARTS_PREFIX = 'parts:';

/** What one batch is handled with. */
interface BatchEnv {
  run: RunSpec;
  source: ResolvedSource;
  adapter: SourceAdapter;
  target: KnowledgeBaseTarget;
  targetKey: string;
  /** What besides the folder's content a folder digest depends on (see `digestSettings`). */
  settings: string;
  moves: RunMoveLookups;
  /** The folders whose batches were handled and whose sends are not all settled. */
  folders: Map<string, FolderTrack>;
  report: ReportBuilder;
  sends: SendTracker;
  active: { entries: Map<string, ReportEntry> | undefined };
  /** Sends this run may still make (`sync.maxSendsPerRun`). */
  budget: { left: number };
  metadataUpdates: Map<string, MetadataUpdate[]>;
  runId: number | undefined;
  signal: AbortSignal;
  abort: AbortController;
}

/** The source's configuration and the target: a folder digest recorded under other settings is not trusted. */
function digestSettings(source: ResolvedSource, target: KnowledgeBaseTarget): string {
  return JSON.stringify({ source, target });
}

/**
 * Whether a decision leaves its document settled (so that its folder may be skipped while it looks the same): not
 * a failure, not a change held back (awaiting a confirmation, quarantined, over the send budget). A send settles it
 * once it is sent.
 */
function settlesFolder(decision: MoveDecision): boolean {
  if (decision.action === 'failed') return false;
  if (decision.action === 'skipped') return decision.record || decision.item.isFolder === true;
  return true;
}

/** What the state knows of a document's content, for a source's conditional requests. */
function knownContent(store: StateStore, source: string, key: string, target: string): KnownContent | undefined {
  const record = store.get(source, key);
  if (!record) return undefined;
  return {
    hash: record.hash,
    current: !isForeignTarget(record, target) && IN_KNOWLEDGE_BASE.has(record.status) && record.uploadedHash !== null && record.uploadedHash === record.hash,
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
