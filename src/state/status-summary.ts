import type { SendHour } from './send-history.js';
import type { RunOutcome, StateStore } from './store.js';

/** One failed document, as `status` and the daemon's `/status` list it. */
export interface FailedDocumentSummary {
  /** `failed` (the send), `ingest-failed` or `refused` (the chatbot). */
  status: string;
  source: string;
  key: string;
  attempts: number;
  size: number | null;
  lastError: string | null;
  /** When its record last changed (its last attempt), ISO 8601. */
  updatedAt: string;
}

/** One run (a `sync`, a dry run, a daemon's reconcile), as `status` and `/status` list it. Times are ISO 8601. */
export interface RunSummary {
  id: number;
  mode: string;
  startedAt: string;
  endedAt: string | null;
  /** Null while it runs. */
  durationMs: number | null;
  outcome: RunOutcome;
  counts: Record<string, number> | null;
  error: string | null;
}

/** What the state holds, in short: shared by `lanying-kb status`, the daemon's `/status` and its status page. */
export interface StatusSummary {
  /** Documents per source, per status. */
  sources: Record<string, Record<string, number>>;
  /** The last runs, newest first. */
  runs: RunSummary[];
  failed: FailedDocumentSummary[];
  /** Documents sent and failed in each of the last 24 hours, oldest first. */
  sendHistory: SendHour[];
}

/**
 * The state's summary: counts per source and status, the last five runs, up to `failedLimit` failed documents and
 * the last 24 hours of sends.
 */
export function readStatusSummary(store: StateStore, failedLimit = 20, now: number = Date.now()): StatusSummary {
  const sources: Record<string, Record<string, number>> = {};
  for (const row of store.statusCounts()) (sources[row.source] ??= {})[row.status] = row.count;
  const runs = store.recentRuns(5).map((r) => ({
    id: r.id,
    mode: r.mode,
    startedAt: iso(r.startedAt),
    endedAt: r.endedAt === null ? null : iso(r.endedAt),
    durationMs: r.endedAt === null ? null : r.endedAt - r.startedAt,
    outcome: r.outcome,
    counts: r.counts,
    error: r.error,
  }));
  // Failures of every kind that carry a reason: the send failed, the chatbot could not ingest it, or refused it.
  const failed = store.list({ status: ['failed', 'ingest-failed', 'refused'], limit: failedLimit }).map((r) => ({
    status: r.status,
    source: r.source,
    key: r.key,
    attempts: r.attempts,
    size: r.size,
    lastError: r.lastError,
    updatedAt: iso(r.updatedAt),
  }));
  return { sources, runs, failed, sendHistory: store.sendHistory.lastHours(24, now) };
}

/**
 * The order documents' states are shown in: today's (`uploaded`) and those of the knowledge-base lifecycle (issue 11)
 * alike, so that a page or a listing reads the same before and after the change. States not listed come last, by name.
 */
export const STATE_ORDER: readonly string[] = [
  'pending',
  'sent',
  'uploaded',
  'ingested',
  'unconfirmed',
  'ingest-failed',
  'refused',
  'failed',
  'skipped',
  'removed',
  'deleted',
];

/** `states` in `STATE_ORDER`, unknown ones last (by name). */
export function orderStates(states: Iterable<string>): string[] {
  const rank = (s: string) => {
    const i = STATE_ORDER.indexOf(s);
    return i < 0 ? STATE_ORDER.length : i;
  };
  return [...new Set(states)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
