import type { RunRecord, StateStore } from './store.js';

/** One failed document, as `status` and the daemon's `/status` list it. */
export interface FailedDocumentSummary {
  source: string;
  key: string;
  attempts: number;
  size: number | null;
  lastError: string | null;
  updatedAt: number;
}

/** What the state holds, in short: shared by `lanying-kb status` and the daemon's `/status`. */
export interface StatusSummary {
  /** Documents per source, per status. */
  sources: Record<string, Record<string, number>>;
  /** The last runs, newest first. */
  runs: RunRecord[];
  failed: FailedDocumentSummary[];
}

/** The state's summary: counts per source and status, the last five runs, and up to `failedLimit` failed documents. */
export function readStatusSummary(store: StateStore, failedLimit = 20): StatusSummary {
  const sources: Record<string, Record<string, number>> = {};
  for (const row of store.statusCounts()) (sources[row.source] ??= {})[row.status] = row.count;
  const runs = store.recentRuns(5);
  const failed = store.list({ status: ['failed'], limit: failedLimit }).map((r) => ({
    source: r.source,
    key: r.key,
    attempts: r.attempts,
    size: r.size,
    lastError: r.lastError,
    updatedAt: r.updatedAt,
  }));
  return { sources, runs, failed };
}
