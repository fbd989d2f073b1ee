import type { Dispatcher } from 'undici';
import type { CircuitBreakerOptions } from '../api/circuit-breaker.js';
import type { LanyingClient } from '../api/client.js';
import { AbortedError, AuthError } from '../api/errors.js';
import { isRetryable } from '../api/retry.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { ConfigError, SourceError, StateError, UsageError } from '../errors.js';
import { createClient } from '../runtime/create-client.js';
import { openRuntime, type Runtime } from '../runtime/open-runtime.js';
import { adapterFor, type ResolvedSource } from '../sources/registry.js';
import type { SourceAdapter, SourceWatchEvent, WatchFallback } from '../sources/types.js';
import { readStatusSummary } from '../state/status-summary.js';
import { SyncEngine } from '../sync/engine.js';
import type { ReportEntry, SyncReport } from '../sync/report.js';
import { VERSION } from '../version.js';
import { clientSettingsChanged, diffSources, httpSettingsChanged } from './config-diff.js';
import { logCallEvent, logSyncEvent, oneLine } from './event-log.js';
import { type DaemonStatus, type LiveSourceStatus, type LiveStatus, removeDaemonFile, writeDaemonFile } from './live-status.js';
import { type Logger, silentLogger } from './logger.js';
import { createMetrics, type DaemonMetrics } from './metrics.js';
import { NotificationBatcher, sumCounts } from './notification-batcher.js';
import { type OpsServer, startOpsServer } from './ops-server.js';
import { PathBatcher } from './path-batcher.js';
import { RateMeter } from './rate-meter.js';
import { RetryPolicy } from './retry-policy.js';
import { type Job, Scheduler } from './scheduler.js';
import { renderStatusPage } from './status-page.js';
import { WatcherSet } from './watcher-set.js';

/** Options of `startDaemon`. */

/** A confirmation's cleanup waits this long, so that confirmations that come together are cleaned up in one go. */
const CLEANUP_AFTER_CONFIRMATION_MS = 250;
export interface DaemonOptions {
  /** The configuration to run with (`knowledgeBase` is required). */
  config: ResolvedConfig;
  /** Where structured logs go. @default a silent logger */
  logger?: Logger | undefined;
  /**
   * Loads the configuration again, for `reload()` without an argument (the CLI's SIGHUP). The daemon never reads a
   * file or the environment itself.
   */
  reload?: (() => Promise<ResolvedConfig>) | undefined;
  /** The API client; by default one is made from `config.api` (and made anew when a reload changes `api`). */
  client?: LanyingClient | undefined;
  /** For API calls (when no client is given) and URL fetches. */
  dispatcher?: Dispatcher | undefined;
  /**
   * Makes every folder watcher (chokidar-like); tests inject one that fails like a kernel limit.
   * @default see the folder source's `SourceWatcher`
   */
  watcherFactory?: unknown;
  /** The polling interval of folder sources that poll (`usePolling`, or after ENOSPC/EMFILE). @default 2000 */
  pollIntervalMs?: number | undefined;
  /** Due paths of a source that arrive within this window go into one batch. @default 25 */
  coalesceMs?: number | undefined;
  /** Most paths handed to the engine in one batch. @default 1000 */
  maxBatch?: number | undefined;
  /**
   * After an operation with failed documents (or a transient error), its sources are reconciled again after this
   * delay, doubled at each further failure up to `daemon.reconcileInterval`. @default 30000
   */
  retryDelayMs?: number | undefined;
  /** Send the `notify` summary after a reconcile that sent documents. @default true */
  notify?: boolean | undefined;
  /** For the refresh jitter. @default Math.random */
  random?: (() => number) | undefined;
  /**
   * How often the state database's write-ahead log is copied into the database file (besides after every
   * reconcile), so that a lost `-wal` file or a plain copy of `state.db` misses at most this much. @default 300000
   */
  checkpointIntervalMs?: number | undefined;
  /** How often a watcher checks that its folder is still the one it watches (see `WatchOptions`). @default 10000 */
  rootCheckIntervalMs?: number | undefined;
  /**
   * How often a source that is unavailable (an unmounted folder, a missing marker file, a missing list file) is
   * checked again; its watcher is started anew each time, and it is reconciled once it is back. @default 30000
   */
  unavailableRecheckMs?: number | undefined;
  /** How often the knowledge-base upkeep runs while anything waits for it (confirmations, deletions). @default 60000 */
  maintainIntervalMs?: number | undefined;
  /**
   * The API client's circuit breaker (when no client is given). The daemon's waits for the API to come back rather
   * than failing documents (`maxWaitMs: Infinity` unless set). @default the client's defaults
   */
  breaker?: CircuitBreakerOptions | undefined;
}

/** What `reload()` did. */
export interface ReloadResult {
  ok: boolean;
  /** Why the new configuration was not taken (the old one is kept). */
  error?: string | undefined;
  added: string[];
  removed: string[];
  changed: string[];
}

/** A running `lanying-kb watch` daemon. */
export interface Daemon {
  /** Resolves once the first reconcile finished (whatever its outcome), or the daemon stopped before. */
  readonly ready: Promise<void>;
  readonly isReady: boolean;
  /** Resolves when `stop()` finished. */
  readonly stopped: Promise<void>;
  /** The ops server's base URL (`http://127.0.0.1:PORT`), when `daemon.http` is set. */
  readonly opsUrl: string | undefined;
  readonly config: ResolvedConfig;
  readonly metrics: DaemonMetrics;
  /** The daemon's live view (the `daemon` part of `/status`). */
  status(): DaemonStatus;
  /** The whole `/status` answer: the state database's summary plus `status()`. */
  liveStatus(): LiveStatus;
  /**
   * Takes a new configuration (or loads one with `options.reload`): added, removed and changed sources take effect
   * (their watchers start, stop or restart; added and changed ones are reconciled). An invalid configuration is
   * logged (one error line) and the running one kept.
   */
  reload(config?: ResolvedConfig): Promise<ReloadResult>;
  /** Resolves when no change is waiting and the engine is idle (for tests and scripts). */
  whenIdle(): Promise<void>;
  /**
   * Stops: no new work, watchers closed, uploads in flight get `daemon.shutdownTimeoutMs` to finish (queued ones are
   * not started), the rest are aborted (they stay `pending` and are sent again, deduplicated, after a restart); then
   * the state database is closed and the lock released. Safe to call more than once.
   */
  stop(): Promise<void>;
}

/** The last operation of one source, as `/status` shows it. */
interface SourceRuntime {
  lastReconcileAt: number | null;
  lastOutcome: string | null;
  lastError: string | null;
}

/**
 * Starts the daemon: takes the state folder's lock (a `LockError` when another sync or watch holds it), opens the
 * state, starts the ops server (`daemon.http`) and a watcher per enabled source that can watch, then reconciles every
 * source once the watchers are ready. Changes are handled as they come; sources without a watcher are observed again
 * on their schedule (URL sources every `refreshInterval`); everything is reconciled every `daemon.reconcileInterval`.
 *
 * ```ts
 * const daemon = await startDaemon({ config, logger: createLogger({ destination: process.stdout }) });
 * await daemon.ready;
 * process.once('SIGTERM', () => void daemon.stop());
 * ```
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const daemon = new WatchDaemon(options);
  await daemon.start();
  return daemon;
}

/**
 * The daemon's composition: it wires the engine to the watchers (`WatcherSet`), the path debouncer (`PathBatcher`),
 * the job scheduler (`Scheduler`), the retry policy (`RetryPolicy`), the notification summaries
 * (`NotificationBatcher`), the logs and metrics (`event-log.ts`, `metrics.ts`) and the ops server.
 */
class WatchDaemon implements Daemon {
  readonly ready: Promise<void>;
  readonly stopped: Promise<void>;
  #config: ResolvedConfig;
  readonly #options: DaemonOptions;
  readonly #log: Logger;
  readonly #startedAt = Date.now();

  #runtime!: Runtime;
  #client!: LanyingClient;
  #engine!: SyncEngine;
  #metrics!: DaemonMetrics;
  #paths!: PathBatcher;
  #scheduler!: Scheduler;
  #watchers!: WatcherSet;
  #notifications!: NotificationBatcher;
  #retry!: RetryPolicy;
  #ops: OpsServer | undefined;
  readonly #sources = new Map<string, SourceRuntime>();
  /** Sends and failures of the last five minutes, for the status page. */
  readonly #rate = new RateMeter();
  /** Sources whose watcher is made anew before their next reconcile (their rules changed, or they were unavailable). */
  readonly #restartBeforeReconcile = new Set<string>();
  /** Sources that cannot be read now (an unmounted folder, ...), with the reason: `/readyz` says degraded. */
  readonly #unavailable = new Map<string, string>();

  #ready = false;
  #resolveReady!: () => void;
  #resolveStopped!: () => void;
  #stopping: Promise<void> | undefined;
  #currentSince = 0;
  #lastSuccessAt: number | null = null;
  #checkpointTimer: NodeJS.Timeout | undefined;
  #maintenanceTimer: NodeJS.Timeout | undefined;
  /** When the pending maintenance timer fires (ms since the epoch). */
  #maintenanceDue = 0;

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#log = options.logger ?? silentLogger();
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  get isReady(): boolean {
    return this.#ready;
  }

  get opsUrl(): string | undefined {
    return this.#ops?.url;
  }

  get config(): ResolvedConfig {
    return this.#config;
  }

  get metrics(): DaemonMetrics {
    return this.#metrics;
  }

  async start(): Promise<void> {
    const config = this.#config;
    if (!config.knowledgeBase) {
      throw new ConfigError(config.filepath, [{ path: 'knowledgeBase', message: 'required by watch (chatbotUserId, adminUserId, name)' }]);
    }
    this.#client = this.#options.client ?? this.#makeClient(config);
    this.#runtime = openRuntime(config, { command: 'watch', client: this.#client });
    try {
      const store = this.#runtime.store;
      this.#metrics = createMetrics({
        queueDepth: () => this.#engine.stats().queued,
        inFlight: () => this.#engine.stats().inFlight,
        pendingPaths: () => this.#paths.size() + this.#scheduler.pendingPaths(),
        ready: () => this.#ready,
        watcherStates: () => this.#watchers.states(),
        documentStatuses: () => store.statusCounts(),
      });
      this.#engine = new SyncEngine({
        config,
        client: this.#client,
        store,
        background: true,
        dispatcher: this.#options.dispatcher,
        onEvent: (event) => {
          this.#metrics.onSyncEvent(event);
          if (event.type === 'sent') this.#rate.sent(event.entry.bytes);
          else if (event.type === 'failed') this.#rate.failed();
          logSyncEvent(this.#log, event);
          if (event.type === 'confirmed' && event.confirmation.outcome === 'ingest-failed') {
            // Sent again once its retry delay is over (the reconcile decides whether it is due).
            this.#scheduler.requestReconcile(event.confirmation.source, 'retry after a failed ingestion', this.#config.sync.ingestRetryDelayMs);
          }
          if (event.type === 'sent') this.#scheduleMaintenance(this.#config.sync.confirmPollIntervalMs);
          // A confirmation may leave a version to delete (the one an ingested document replaces, a failed copy): soon.
          if (event.type === 'confirmed') this.#scheduleMaintenance(CLEANUP_AFTER_CONFIRMATION_MS);
        },
      });
      this.#paths = new PathBatcher({
        debounceMs: config.daemon.debounceMs,
        coalesceMs: this.#options.coalesceMs,
        onReady: (source, paths) => {
          this.#log.debug({ event: 'paths-due', source, paths: paths.length }, `${paths.length} changed path(s) of ${source} due`);
          this.#scheduler.addPaths(source, paths);
        },
      });
      this.#scheduler = new Scheduler({
        execute: (job, signal) => this.#execute(job, signal),
        onError: (job, error) => this.#onJobError(job, error),
        maxBatch: this.#options.maxBatch,
        random: this.#options.random,
        holdPaths: true,
      });
      this.#watchers = new WatcherSet({
        adapterOf: (source) => this.#adapter(source),
        sessionOf: (source) => this.#engine.session(source),
        excludeDirs: () => [this.#config.sync.stateDir],
        onEvent: (name, event) => this.#onWatchEvent(name, event),
        onFallback: (fallback) => this.#onWatcherFallback(fallback),
        onError: (name, error) => this.#onWatcherError(name, error),
        pollIntervalMs: this.#options.pollIntervalMs,
        rootCheckIntervalMs: this.#options.rootCheckIntervalMs,
        testHooks: this.#options.watcherFactory ? { watcherFactory: this.#options.watcherFactory } : undefined,
      });
      this.#retry = new RetryPolicy({ baseMs: this.#options.retryDelayMs ?? 30_000, capMs: () => this.#config.daemon.reconcileIntervalMs });
      this.#notifications = new NotificationBatcher({ enabled: this.#options.notify !== false, config: () => this.#config, client: () => this.#client, log: this.#log });
      if (config.daemon.http) this.#ops = await this.#startOps(config);
      this.#writeDaemonFile();
      if (this.#runtime.staleRuns > 0) {
        this.#log.warn({ event: 'stale-runs', runs: this.#runtime.staleRuns }, 'an earlier run ended without finishing (a crash or kill -9); its documents are checked again now');
      }
    } catch (error) {
      await this.#ops?.close();
      this.#runtime.close();
      throw error;
    }

    const sources = config.sources.filter((s) => s.enabled);
    this.#log.info(
      { event: 'started', version: VERSION, stateDir: config.sync.stateDir, config: config.filepath ?? null, sources: sources.map((s) => `${s.name} (${s.type})`) },
      `lanying-kb ${VERSION} watching ${sources.length} source(s)`,
    );
    for (const source of sources) this.#watchers.start(source);
    this.#checkpointTimer = setInterval(() => this.#checkpoint(), this.#options.checkpointIntervalMs ?? 300_000);
    this.#checkpointTimer.unref();
    void this.#startup();
  }

  /** Copies the state's write-ahead log into the database file (see `checkpointIntervalMs`). */
  #checkpoint(mode: 'truncate' | 'passive' = 'truncate'): void {
    try {
      this.#runtime.store.checkpoint(mode);
      this.#log.debug({ event: 'checkpoint', mode }, 'state checkpointed');
    } catch (error) {
      this.#log.warn({ event: 'checkpoint-failed', error: oneLine(error) }, `cannot checkpoint the state database: ${oneLine(error)}`);
    }
  }

  async #startup(): Promise<void> {
    // Note: the watchers are ready before the first reconcile starts, so that a change made while it scans is seen
    // by one or the other; events that arrive meanwhile wait until it finished.
    await this.#watchers.ready();
    if (this.#stopping) return;
    this.#scheduler.requestReconcile(null, 'startup');
  }

  /**
   * The knowledge-base upkeep (see `SyncEngine.maintain`), as a task that never overlaps an engine operation: after
   * each operation, and every `maintainIntervalMs` while anything waits for it.
   */
  #scheduleMaintenance(delayMs = 0): void {
    if (this.#stopping) return;
    const due = Date.now() + delayMs;
    // One timer: a sooner request moves it forward, a later one leaves it.
    if (this.#maintenanceTimer !== undefined) {
      if (this.#maintenanceDue <= due) return;
      clearTimeout(this.#maintenanceTimer);
    }
    this.#maintenanceDue = due;
    this.#maintenanceTimer = setTimeout(() => {
      this.#maintenanceTimer = undefined;
      if (this.#stopping) return;
      void this.#scheduler
        .runTask('maintain', async (signal) => {
          const deletions = await this.#engine.maintain({ signal });
          for (const deletion of deletions) this.#log.debug({ event: 'maintained', ...deletion }, `${deletion.result} ${deletion.source}:${deletion.key}`);
        })
        .catch((error: unknown) => {
          if (!this.#stopping) this.#log.warn({ event: 'maintain-failed', error: oneLine(error) }, `knowledge-base upkeep failed: ${oneLine(error)}`);
        })
        .finally(() => {
          if (this.#engine.awaitedConfirmations() > 0 || this.#config.sync.onRemove === 'delete') this.#scheduleMaintenance(this.#options.maintainIntervalMs ?? 60_000);
        });
    }, delayMs);
    this.#maintenanceTimer.unref?.();
  }

  #markReady(): void {
    if (this.#ready || this.#stopping) return;
    this.#ready = true;
    this.#resolveReady();
    this.#scheduleMaintenance();
    this.#scheduler.setReconcileInterval(this.#config.daemon.reconcileIntervalMs);
    this.#scheduler.releasePaths();
    this.#log.info({ event: 'ready' }, 'first reconcile done; handling changes as they come');
  }

  // ---- jobs -------------------------------------------------------------------------------------------------

  async #execute(job: Job, signal: AbortSignal): Promise<void> {
    this.#currentSince = Date.now();
    try {
      if (job.kind === 'reconcile') await this.#runReconcile(job.sources, job.reasons, 'reconcile', signal);
      else if (job.kind === 'refresh') await this.#runReconcile(job.sources, ['refresh interval'], 'refresh', signal);
      else if (job.kind === 'paths') await this.#runPaths(job.source, job.paths, signal);
    } finally {
      // What an operation recorded is in state.db itself once it ended (a lost -wal loses nothing of it); passive:
      // never waits for a reader.
      if (!this.#stopping) this.#checkpoint('passive');
    }
  }

  async #runReconcile(sources: string[] | null, reasons: string[], mode: 'reconcile' | 'refresh', signal: AbortSignal): Promise<void> {
    const enabled = this.#config.sources.filter((s) => s.enabled);
    const names = sources === null ? enabled.map((s) => s.name) : sources.filter((n) => enabled.some((s) => s.name === n));
    const verb = mode === 'refresh' ? 'checking' : 'reconciling';
    try {
      if (names.length === 0) return;
      for (const name of names) {
        const source = this.#source(name);
        if (!source || !this.#watchers.canWatch(source)) continue;
        const watch = this.#watchers.get(name);
        if (this.#restartBeforeReconcile.delete(name) || !watch || watch.state === 'error') await this.#watchers.restart(source);
      }
      this.#log.info({ event: mode === 'refresh' ? 'refresh-started' : 'reconcile-started', sources: names, reasons }, `${verb} ${names.join(', ')} (${reasons.join(', ')})`);
      const failures = new FailureTally();
      const reports = await this.#reconcileSources(names, mode, signal, failures);
      for (const report of reports) this.#afterReport(report, mode, failures);
      const counts = sumCounts(reports.map((r) => r.counts));
      this.#log.info(
        { event: mode === 'refresh' ? 'refresh-finished' : 'reconcile-finished', sources: names, outcome: worstOutcome(reports), ...countsForLog(counts) },
        `${mode === 'refresh' ? 'checked' : 'reconciled'} ${names.join(', ')}: ${counts.sent} sent, ${counts.failed} failed, ${counts.moved} moved, ${counts.removed} removed, ${counts.unchanged} unchanged`,
      );
      this.#notifications.afterReconcile(reports);
    } finally {
      for (const name of names) this.#scheduleNextObservation(name);
      if (sources === null) this.#markReady();
    }
  }

  /** Sources without a watcher are observed again on their schedule (URL sources: `refreshInterval`). */
  #scheduleNextObservation(name: string): void {
    const source = this.#source(name);
    if (!source || this.#watchers.canWatch(source)) return;
    const interval = this.#adapter(source).pollIntervalMs?.(source);
    if (interval !== undefined) this.#scheduler.scheduleRefresh(name, interval);
  }

  /** One reconcile of `names`; when a source cannot be read at all, the others are reconciled one by one. */
  async #reconcileSources(names: string[], mode: string, signal: AbortSignal, failures: FailureTally): Promise<SyncReport[]> {
    // Entries are counted as they settle, never kept: a reconcile of a million documents takes no memory for them.
    const onEntry = (entry: ReportEntry) => failures.add(entry);
    try {
      return [await this.#engine.reconcile({ sources: names, mode, signal, onEntry, wait: false, prune: 'grace' })];
    } catch (error) {
      if (!(error instanceof SourceError) || names.length === 1 || signal.aborted) throw error;
      this.#sourceFailed(error.source, error);
      const reports: SyncReport[] = [];
      for (const name of names.filter((n) => n !== error.source)) {
        try {
          reports.push(await this.#engine.reconcile({ sources: [name], mode, signal, onEntry, wait: false, prune: 'grace' }));
        } catch (inner) {
          if (!(inner instanceof SourceError)) throw inner;
          this.#sourceFailed(name, inner);
        }
      }
      return reports;
    }
  }

  async #runPaths(name: string, paths: string[], signal: AbortSignal): Promise<void> {
    if (!this.#source(name)) return;
    const report = await this.#engine.syncPaths(name, paths, { signal });
    this.#afterReport(report, 'paths', FailureTally.of(report.entries));
    this.#notifications.add(report);
    this.#log.debug({ event: 'batch-finished', source: name, paths: paths.length, ...countsForLog(report.counts) }, `handled ${paths.length} changed path(s) of ${name}`);
  }

  /** Bookkeeping after an engine operation: metrics, per-source state, and a retry when documents failed. */
  #afterReport(report: SyncReport, kind: 'reconcile' | 'refresh' | 'paths', failures: FailureTally): void {
    const now = Date.now();
    if (this.#ready) this.#scheduleMaintenance();
    this.#metrics.onOperation(kind, report.outcome, now);
    if (report.outcome === 'ok' || report.outcome === 'partial') this.#lastSuccessAt = now;
    const failedSources = new Set(report.sources.filter((name) => failures.of(name) > 0));
    if (kind !== 'paths') {
      for (const name of report.sources) {
        const failed = failures.of(name);
        this.#sources.set(name, { lastReconcileAt: now, lastOutcome: report.outcome, lastError: report.error ?? (failed > 0 ? `${failed} document(s) failed` : null) });
      }
    }
    if (failedSources.size > 0) this.#scheduleRetry([...failedSources]);
    if (report.outcome !== 'failed') for (const name of report.sources) this.#sourceAvailable(name);
    for (const name of report.sources) if (!failedSources.has(name) && report.outcome !== 'failed') this.#retry.reset(name);
  }

  #sourceFailed(name: string, error: unknown): void {
    const message = oneLine(error);
    this.#sources.set(name, { lastReconcileAt: Date.now(), lastOutcome: 'failed', lastError: message });
    this.#sourceUnavailable(name, message);
  }

  /**
   * A source that cannot be read at all (a `SourceError`: an unmounted or missing folder, a missing list file): the
   * others go on, `/readyz` says degraded, and it is checked again every `unavailableRecheckMs` with a new watcher.
   */
  #sourceUnavailable(name: string, message: string): void {
    if (!this.#source(name)) return;
    const recheckMs = this.#options.unavailableRecheckMs ?? 30_000;
    if (this.#unavailable.get(name) !== message) {
      this.#log.error(
        { event: 'source-unavailable', source: name, error: message, recheckMs },
        `source ${name} is unavailable, nothing of it is synced or taken for removed: ${message}; the other sources go on; checking again every ${Math.round(recheckMs / 1000)} s`,
      );
    }
    this.#unavailable.set(name, message);
    this.#restartBeforeReconcile.add(name);
    this.#scheduler.requestReconcile(name, 'checking whether the source is back', recheckMs);
  }

  #sourceAvailable(name: string): void {
    if (!this.#unavailable.delete(name)) return;
    this.#log.info({ event: 'source-available', source: name }, `source ${name} is available again`);
  }

  #onJobError(job: Job, error: unknown): void {
    if (this.#stopping && (error instanceof AbortedError || (error as Error)?.name === 'AbortError')) {
      this.#log.debug({ event: 'aborted', kind: job.kind }, `${job.kind} aborted by the shutdown`);
      return;
    }
    const kind = job.kind === 'task' ? 'reconcile' : job.kind;
    this.#metrics.onOperation(kind, 'failed', Date.now());
    const sources = job.kind === 'paths' ? [job.source] : job.kind === 'task' ? [] : (job.sources ?? this.#config.sources.filter((s) => s.enabled).map((s) => s.name));
    const message = oneLine(error);
    if (job.kind !== 'paths') for (const name of sources) this.#sources.set(name, { lastReconcileAt: Date.now(), lastOutcome: 'failed', lastError: message });
    if (error instanceof SourceError) {
      this.#sourceUnavailable(error.source, message);
      return;
    }
    if (error instanceof AuthError) {
      this.#log.error(
        { event: 'auth-failed', kind, sources, error: message },
        `the API refused the access token (${message}); fix api.accessToken (or LANYING_ACCESS_TOKEN) and reload (systemctl reload lanying-kb)`,
      );
    } else {
      this.#log.error({ event: `${kind}-failed`, sources, error: message }, `${kind} of ${sources.join(', ')} failed: ${message}`);
    }
    // A full or read-only state disk passes once someone frees space or fixes the mode: try again later.
    if (isRetryable(error) || error instanceof AuthError || error instanceof StateError || job.kind === 'paths') this.#scheduleRetry(sources);
  }

  /** Reconciles sources with failed documents again later (see `RetryPolicy`). */
  #scheduleRetry(sources: string[]): void {
    for (const source of sources) {
      const delay = this.#retry.next(source);
      this.#scheduler.requestReconcile(source, 'retry after failures', delay);
      this.#log.info({ event: 'retry-scheduled', source, inMs: delay }, `will try ${source} again in ${Math.round(delay / 1000)} s`);
    }
  }

  // ---- watchers ---------------------------------------------------------------------------------------------

  #onWatchEvent(name: string, event: SourceWatchEvent): void {
    if (this.#stopping) return;
    if (event.type === 'file') {
      this.#paths.touch(name, event.path, event.stamp);
      return;
    }
    const debounce = this.#config.daemon.debounceMs;
    if (event.type === 'dir') {
      this.#log.debug({ event: event.gone ? 'folder-removed' : 'folder-added', source: name, path: event.path }, `folder ${event.gone ? 'removed' : 'added'}: ${event.path}`);
      this.#scheduler.requestReconcile(name, event.gone ? 'folder removed' : 'folder added', debounce);
      return;
    }
    const source = this.#source(name);
    if (!source) return;
    this.#engine.session(source).invalidate?.(event.relDir);
    this.#restartBeforeReconcile.add(name);
    this.#log.info({ event: 'kbignore-changed', source: name, path: event.path }, `${event.path} changed; ${name} is reconciled with the new rules`);
    this.#scheduler.requestReconcile(name, '.kbignore changed', debounce);
  }

  #onWatcherFallback(fallback: WatchFallback): void {
    const interval = this.#options.pollIntervalMs ?? 2000;
    this.#metrics.onWatcherFallback(fallback.source, fallback.code);
    this.#log.warn(
      { event: 'watch-fallback', source: fallback.source, code: fallback.code, reason: fallback.reason, fix: fallback.fix, pollIntervalMs: interval },
      `cannot watch source ${fallback.source} (${fallback.code}: ${fallback.reason}); polling every ${interval / 1000} s instead. Fix: ${fallback.fix}`,
    );
    // Changes may have been missed while the watcher failed.
    this.#scheduler.requestReconcile(fallback.source, 'watcher fell back to polling', this.#config.daemon.debounceMs);
  }

  #onWatcherError(name: string, error: unknown): void {
    if (this.#stopping) return;
    const message = oneLine(error);
    this.#log.warn({ event: 'watch-error', source: name, error: message }, `watcher of ${name} failed: ${message}; reconciling everything`);
    this.#scheduler.requestReconcile(null, 'watcher error', Math.max(this.#config.daemon.debounceMs, 1000));
  }

  #source(name: string): ResolvedSource | undefined {
    return this.#config.sources.find((s) => s.name === name && s.enabled);
  }

  #adapter(source: ResolvedSource): SourceAdapter {
    const adapter = adapterFor(source.type);
    if (!adapter) throw new UsageError(`source "${source.name}" has the unknown type "${source.type}"`);
    return adapter;
  }

  // ---- reload -----------------------------------------------------------------------------------------------

  async reload(config?: ResolvedConfig): Promise<ReloadResult> {
    const failed = (error: unknown): ReloadResult => {
      const message = oneLine(error);
      this.#log.error(
        { event: 'reload-failed', file: (error as ConfigError).filepath ?? this.#config.filepath ?? null, error: message },
        `configuration reload failed, keeping the running configuration: ${message}`,
      );
      return { ok: false, error: message, added: [], removed: [], changed: [] };
    };
    if (this.#stopping) return { ok: false, error: 'the daemon is stopping', added: [], removed: [], changed: [] };
    let next: ResolvedConfig;
    try {
      const loaded = config ?? (await this.#options.reload?.());
      if (!loaded) throw new UsageError('no configuration given and no way to load one');
      if (!loaded.knowledgeBase) throw new ConfigError(loaded.filepath, [{ path: 'knowledgeBase', message: 'required by watch (chatbotUserId, adminUserId, name)' }]);
      next = loaded;
    } catch (error) {
      return failed(error);
    }
    let result: ReloadResult = { ok: true, added: [], removed: [], changed: [] };
    try {
      await this.#scheduler.runTask('reload', async () => {
        result = await this.#applyConfig(next);
      });
    } catch (error) {
      if (this.#stopping) return { ok: false, error: 'the daemon is stopping', added: [], removed: [], changed: [] };
      return failed(error);
    }
    return result;
  }

  async #applyConfig(incoming: ResolvedConfig): Promise<ReloadResult> {
    const previous = this.#config;
    let next = incoming;
    if (next.sync.stateDir !== previous.sync.stateDir) {
      this.#log.warn({ event: 'reload-warning', key: 'sync.stateDir' }, `sync.stateDir cannot change while running (still ${previous.sync.stateDir}); restart lanying-kb to use ${next.sync.stateDir}`);
      next = { ...next, sync: { ...next.sync, stateDir: previous.sync.stateDir } };
    }
    const diff = diffSources(previous, next);
    const newClient = !this.#options.client && clientSettingsChanged(previous, next);
    if (newClient) this.#client = this.#makeClient(next);
    this.#engine.reconfigure(next, newClient ? this.#client : undefined);
    this.#config = next;
    this.#paths.setDebounce(next.daemon.debounceMs);

    for (const source of diff.removed) {
      await this.#watchers.stop(source.name);
      this.#paths.drop(source.name);
      this.#scheduler.dropSource(source.name);
      this.#sources.delete(source.name);
      this.#retry.reset(source.name);
    }
    const starting: Promise<void>[] = [];
    for (const source of [...diff.changed, ...diff.added]) {
      this.#paths.drop(source.name);
      this.#scheduler.dropSource(source.name);
      if (this.#watchers.canWatch(source)) starting.push(this.#watchers.restart(source));
      else starting.push(this.#watchers.stop(source.name));
    }
    await Promise.all(starting);

    if (next.daemon.reconcileIntervalMs !== previous.daemon.reconcileIntervalMs && this.#ready) this.#scheduler.setReconcileInterval(next.daemon.reconcileIntervalMs);
    if (httpSettingsChanged(previous, next)) {
      await this.#ops?.close();
      this.#ops = undefined;
      if (next.daemon.http) {
        try {
          this.#ops = await this.#startOps(next);
        } catch (error) {
          this.#log.error({ event: 'ops-failed', error: oneLine(error) }, oneLine(error));
        }
      }
      this.#writeDaemonFile();
    }

    const names = (list: readonly ResolvedSource[]) => list.map((s) => s.name);
    const result: ReloadResult = { ok: true, added: names(diff.added), removed: names(diff.removed), changed: names(diff.changed) };
    this.#log.info({ event: 'reloaded', file: next.filepath ?? null, ...result, ok: undefined }, `configuration reloaded: ${result.added.length} added, ${result.removed.length} removed, ${result.changed.length} changed source(s)`);
    if (newClient) {
      // Failures may have come from the old token or endpoint.
      this.#scheduler.requestReconcile(null, 'api settings changed');
    } else {
      for (const name of [...result.added, ...result.changed]) this.#scheduler.requestReconcile(name, 'configuration reloaded');
    }
    return result;
  }

  // ---- status -----------------------------------------------------------------------------------------------

  status(): DaemonStatus {
    const job = this.#scheduler.current;
    const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
    const sources: LiveSourceStatus[] = this.#config.sources
      .filter((s) => s.enabled)
      .map((s) => {
        const runtime = this.#sources.get(s.name);
        const watch = this.#watchers.get(s.name);
        const watched = this.#watchers.canWatch(s);
        return {
          name: s.name,
          type: s.type,
          state: this.#unavailable.has(s.name) ? 'unavailable' : watched ? (watch?.state ?? 'stopped') : 'scheduled',
          lastReconcileAt: iso(runtime?.lastReconcileAt),
          lastOutcome: runtime?.lastOutcome ?? null,
          lastError: this.#unavailable.get(s.name) ?? runtime?.lastError ?? (watch?.state === 'error' ? (watch.lastError ?? null) : null),
          pendingPaths: this.#paths.size(s.name) + this.#scheduler.pendingPaths(s.name),
          nextRefreshAt: watched ? null : iso(this.#scheduler.nextRefreshAt(s.name)),
        };
      });
    const engine = this.#engine.stats();
    return {
      pid: process.pid,
      version: VERSION,
      startedAt: new Date(this.#startedAt).toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
      stateDir: this.#config.sync.stateDir,
      configFile: this.#config.filepath ?? null,
      ready: this.#ready,
      stopping: this.#stopping !== undefined,
      current: job && job.kind !== 'task'
        ? { kind: job.kind, sources: job.kind === 'paths' ? [job.source] : (job.sources ?? []), ...(job.kind === 'paths' ? { paths: job.paths.length } : {}), since: new Date(this.#currentSince).toISOString() }
        : job
          ? { kind: job.name, sources: [], since: new Date(this.#currentSince).toISOString() }
          : null,
      queue: { waiting: engine.queued, inFlight: engine.inFlight, pendingPaths: this.#paths.size() + this.#scheduler.pendingPaths() },
      rate: this.#rate.snapshot(),
      lastSuccessAt: iso(this.#lastSuccessAt),
      nextReconcileAt: iso(this.#scheduler.nextReconcileAt),
      sources,
    };
  }

  /** Why the daemon is degraded (sources it cannot read), or undefined. */
  #degraded(): string | undefined {
    if (this.#unavailable.size === 0) return undefined;
    return [...this.#unavailable].map(([name, reason]) => `source ${name} is unavailable: ${reason}`).join('; ');
  }

  liveStatus(): LiveStatus {
    const summary = readStatusSummary(this.#runtime.store, 20);
    return { stateFile: this.#runtime.store.filepath, ...summary, daemon: this.status() };
  }

  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.#stopping) return;
      await this.#scheduler.whenIdle();
      if (this.#paths.size() === 0 && this.#scheduler.pendingPaths() === 0 && !this.#scheduler.current && this.#ready) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // ---- stop -------------------------------------------------------------------------------------------------

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const timeoutMs = this.#config.daemon.shutdownTimeoutMs;
    const { queued, inFlight } = this.#engine.stats();
    this.#log.info({ event: 'stopping', inFlight, waiting: queued, timeoutMs }, `stopping: ${inFlight} upload(s) in flight get up to ${timeoutMs / 1000} s to finish`);
    const started = Date.now();
    clearTimeout(this.#maintenanceTimer);
    this.#maintenanceTimer = undefined;
    const current = this.#scheduler.close();
    this.#paths.close();
    await this.#watchers.closeAll();
    // Uploads not started yet stay unstarted (their documents were not marked pending: the next start finds them);
    // those in flight may finish within the timeout.
    const { aborted } = await this.#engine.stop({ graceMs: timeoutMs });
    if (aborted > 0) this.#log.warn({ event: 'shutdown-timeout', aborted }, `shutdown timeout: aborting ${aborted} upload(s); they stay pending and are sent again (deduplicated) after a restart`);
    this.#scheduler.abortCurrent(new AbortedError());
    await current;
    await this.#engine.closeLifecycles();
    await this.#notifications.settled();
    await this.#ops?.close();
    clearInterval(this.#checkpointTimer);
    removeDaemonFile(this.#config.sync.stateDir, process.pid);
    this.#runtime.close();
    this.#resolveReady();
    this.#log.info({ event: 'stopped', durationMs: Date.now() - started, aborted }, 'stopped');
    this.#resolveStopped();
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  #makeClient(config: ResolvedConfig): LanyingClient {
    return createClient(config, {
      dispatcher: this.#options.dispatcher,
      // A daemon waits for the API to come back (one probe at a time) rather than failing every document.
      breaker: { maxWaitMs: Number.POSITIVE_INFINITY, ...this.#options.breaker },
      onCall: (event) => {
        this.#metrics?.onCall(event);
        logCallEvent(this.#log, event);
      },
    });
  }

  #writeDaemonFile(): void {
    writeDaemonFile(this.#config.sync.stateDir, {
      pid: process.pid,
      startedAt: new Date(this.#startedAt).toISOString(),
      http: this.#ops ? { host: this.#ops.host, port: this.#ops.port } : undefined,
    });
  }

  async #startOps(config: ResolvedConfig): Promise<OpsServer> {
    const http = config.daemon.http as NonNullable<ResolvedConfig['daemon']['http']>;
    let server: OpsServer;
    try {
      server = await startOpsServer({
        host: http.host,
        port: http.port,
        token: http.token,
        allowedHosts: http.allowedHosts,
        onWarning: (message) => this.#log.warn({ event: 'ops-exposed' }, message),
        handlers: {
          ready: () => this.#ready,
          degraded: () => this.#degraded(),
          metrics: () => this.#metrics.render(),
          status: () => this.liveStatus(),
          page: () => renderStatusPage(this.liveStatus()),
        },
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? oneLine(error);
      throw new ConfigError(config.filepath, [{ path: 'daemon.http', message: `cannot listen on ${http.host}:${http.port} (${code})` }], { cause: error });
    }
    this.#log.info({ event: 'ops-listening', url: server.url, host: server.host, port: server.port }, `ops server on ${server.url} (status page at /; /healthz, /readyz, /metrics, /status)`);
    return server;
  }
}

function worstOutcome(reports: readonly SyncReport[]): SyncReport['outcome'] {
  const order: SyncReport['outcome'][] = ['ok', 'partial', 'aborted', 'failed'];
  return reports.reduce<SyncReport['outcome']>((worst, r) => (order.indexOf(r.outcome) > order.indexOf(worst) ? r.outcome : worst), 'ok');
}

function countsForLog(counts: SyncReport['counts']): Record<string, number> {
  return { sent: counts.sent, failed: counts.failed, moved: counts.moved, removed: counts.removed, skipped: counts.skipped, unchanged: counts.unchanged, bytesSent: counts.bytesSent };
}

/** Documents that failed (their send, or their observation), by source: counted from a report's entries. */
class FailureTally {
  readonly #bySource = new Map<string, number>();

  static of(entries: readonly ReportEntry[]): FailureTally {
    const tally = new FailureTally();
    for (const entry of entries) tally.add(entry);
    return tally;
  }

  add(entry: ReportEntry): void {
    if (entry.outcome === 'failed' || entry.action === 'failed') this.#bySource.set(entry.source, this.of(entry.source) + 1);
  }

  of(source: string): number {
    return this.#bySource.get(source) ?? 0;
  }
}
