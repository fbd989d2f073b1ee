import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallEvent } from '../api/client.js';
import type { SyncEvent } from '../sync/engine.js';

/** What the metrics read from the running daemon at scrape time. */
export interface MetricsProbe {
  /** Documents waiting in the upload queue (not started). */
  queueDepth(): number;
  /** Uploads in flight. */
  inFlight(): number;
  /** Changed paths waiting (debouncing, or waiting for the engine). */
  pendingPaths(): number;
  /** 1 once the first reconcile finished. */
  ready(): boolean;
  /** Each source's watcher state (`watching`, `polling`, `error`, ...). */
  watcherStates(): { source: string; state: string }[];
}

/** Prometheus metrics of one daemon, in a registry of its own (never the global one). */
export interface DaemonMetrics {
  readonly registry: Registry;
  /** Feed every engine event. */
  onSyncEvent(event: SyncEvent): void;
  /** Feed the API client's `onCall`. */
  onCall(event: CallEvent): void;
  /** Records the end of a reconcile, a URL refresh or a watcher batch. */
  onOperation(kind: 'reconcile' | 'refresh' | 'paths', outcome: string, endedAtMs: number): void;
  /** Counts a watcher's fall back to polling. */
  onWatcherFallback(source: string, code: string): void;
  /** The Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** The documents counter's outcomes. */
export type DocumentOutcome = 'sent' | 'failed' | 'skipped' | 'moved' | 'removed' | 'ingested' | 'ingest-failed' | 'refused' | 'unconfirmed' | 'deleted';

/**
 * Creates the daemon's metrics (all named `lanying_kb_*`) plus the default process metrics (`process_*`, `nodejs_*`).
 */
export function createMetrics(probe: MetricsProbe): DaemonMetrics {
  const registry = new Registry();
  // Note: the event-loop delay histogram (`nodejs_eventloop_lag_*`) samples with a timer; prom-client's default of
  // 10 ms wakes an idle daemon 100 times a second (about 300 ms of CPU a minute). Every 100 ms still catches any
  // stall of 100 ms or more and costs a fifth of that.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });

  const documents = new Counter({
    name: 'lanying_kb_documents_total',
    help: 'Document decisions, send results and the chatbot\'s confirmations, by source and outcome (sent, failed, skipped, moved, removed, ingested, ingest-failed, refused, unconfirmed, deleted).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const bytesSent = new Counter({
    name: 'lanying_kb_sent_bytes_total',
    help: 'Bytes of the documents the chatbot accepted.',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const uploadDuration = new Histogram({
    name: 'lanying_kb_upload_duration_seconds',
    help: 'Time to send one document (upload slot, storage upload and message), retries included.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const apiErrors = new Counter({
    name: 'lanying_kb_api_errors_total',
    help: 'Failed API attempts, by code: the business code, http_<status>, or the error name (ConnectionError, TimeoutError).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const operations = new Counter({
    name: 'lanying_kb_operations_total',
    help: 'Engine operations (reconcile, refresh of URL sources, batch of watched paths), by outcome.',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'lanying_kb_last_success_timestamp_seconds',
    help: 'When the last reconcile, refresh or batch that did not fail ended (Unix time).',
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'lanying_kb_watcher_fallbacks_total',
    help: 'Watchers that fell back to polling, by source and error code (ENOSPC: raise fs.inotify.max_user_watches).',
    labelNames: ['source', 'code'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'lanying_kb_queue_depth',
    help: 'Documents waiting in the upload queue.',
    registers: [registry],
    collect() {
      this.set(probe.queueDepth());
    },
  });
  new Gauge({
    name: 'lanying_kb_uploads_in_flight',
    help: 'Documents being sent now.',
    registers: [registry],
    collect() {
      this.set(probe.inFlight());
    },
  });
  new Gauge({
    name: 'lanying_kb_pending_paths',
    help: 'Changed paths waiting to be handled (debouncing, or waiting for the engine).',
    registers: [registry],
    collect() {
      this.set(probe.pendingPaths());
    },
  });
  new Gauge({
    name: 'lanying_kb_ready',
    help: '1 once the first reconcile finished.',
    registers: [registry],
    collect() {
      this.set(probe.ready() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lanying_kb_watcher_state',
    help: '1 for the current watcher state of each folder source (watching, polling, starting, error, stopped).',
    labelNames: ['source', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { source, state } of probe.watcherStates()) this.set({ source, state }, 1);
    },
  });

  const count = (source: string, outcome: DocumentOutcome) => documents.inc({ source, outcome });

  return {
    registry,
    onSyncEvent(event) {
      if (event.type === 'decision') {
        const { action, source } = event.entry;
        if (action === 'skipped' || action === 'moved' || action === 'removed' || action === 'failed') count(source, action);
      } else if (event.type === 'sent') {
        count(event.entry.source, 'sent');
        bytesSent.inc({ source: event.entry.source }, event.entry.bytes);
        uploadDuration.observe(event.durationMs / 1000);
      } else if (event.type === 'failed') {
        count(event.entry.source, 'failed');
      } else if (event.type === 'confirmed') {
        count(event.confirmation.source, event.confirmation.outcome);
      } else if (event.type === 'deleted' && (event.deletion.result === 'deleted' || event.deletion.result === 'already-gone')) {
        count(event.deletion.source, 'deleted');
      }
    },
    onCall(event) {
      if (event.error === undefined && (event.status === undefined || (event.status >= 200 && event.status < 300))) return;
      const code = event.code !== undefined ? String(event.code) : event.status !== undefined ? `http_${event.status}` : (event.error ?? 'unknown');
      apiErrors.inc({ code });
    },
    onOperation(kind, outcome, endedAtMs) {
      operations.inc({ kind, outcome });
      if (outcome === 'ok' || outcome === 'partial') lastSuccess.set(endedAtMs / 1000);
    },
    onWatcherFallback(source, code) {
      fallbacks.inc({ source, code });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
