import type { NotifyResult } from '../admin/notify.js';
import type { DocumentKind } from './state-store.js';

/** What the plan decided for one document. */
export type PlanAction = 'new' | 'changed' | 'moved' | 'unchanged' | 'removed' | 'skipped' | 'failed';

/** What happened to a document the plan said to send. */
export type SendOutcome = 'sent' | 'failed' | 'vanished' | 'cancelled';

/** One line of a sync report. */
export interface ReportEntry {
  action: PlanAction;
  source: string;
  key: string;
  kind: DocumentKind;
  bytes: number;
  /** Why the plan decided this: "content changed", "unsupported type .exe", "same content as docs/a.md", ... */
  reason: string;
  /** For a move: where the document was before (`source:key`). */
  movedFrom?: string;
  /** For a document to send: what happened when it was sent (absent in a dry run). */
  outcome?: SendOutcome;
  error?: string;
  /** The send's message ID (64-bit, decimal text). */
  msgId?: string;
}

export interface SyncCounts {
  new: number;
  changed: number;
  moved: number;
  unchanged: number;
  removed: number;
  skipped: number;
  failed: number;
  /** Documents the chatbot accepted in this run. */
  sent: number;
  /** Bytes of the documents sent. */
  bytesSent: number;
  /** Bytes of the documents to send (the plan's total). */
  bytesPlanned: number;
}

export type SyncOutcome = 'ok' | 'partial' | 'failed' | 'aborted';

/** The result of a sync run (or of a dry run's plan). */
export interface SyncReport {
  runId: number | undefined;
  dryRun: boolean;
  /** Sources this run covered. */
  sources: string[];
  startedAt: string;
  durationMs: number;
  outcome: SyncOutcome;
  counts: SyncCounts;
  /** Every document except unchanged ones (unless asked for), in plan order. */
  entries: ReportEntry[];
  /** The error that stopped the run, if one did. */
  error?: string;
  /** What the `notify` section sent about this run (`syncOnce` and the daemon; absent when not configured). */
  notify?: NotifyResult;
}

export function emptyCounts(): SyncCounts {
  return { new: 0, changed: 0, moved: 0, unchanged: 0, removed: 0, skipped: 0, failed: 0, sent: 0, bytesSent: 0, bytesPlanned: 0 };
}

/** Whether a run changed the knowledge base (something was sent). */
export function changedKnowledgeBase(report: SyncReport): boolean {
  return report.counts.sent > 0;
}
