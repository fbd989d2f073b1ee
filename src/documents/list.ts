import type { ResolvedConfig } from '../config/resolve.js';
import { type DocumentKind, type DocumentRecord, type DocumentStatus, StateStore } from '../state/store.js';
import { type DocumentSelection, selectDocuments } from './select.js';

/** A tracked document as `lanying-kb documents` shows it. */
export interface DocumentView {
  source: string;
  key: string;
  kind: DocumentKind;
  status: DocumentStatus;
  /** The chatbot's document ID, once confirmed. */
  docId: string | null;
  size: number | null;
  /** When the current version was sent (ms since the epoch). */
  sentAt: number | null;
  /** When the chatbot confirmed it. */
  ingestedAt: number | null;
  /** Why it is in its status: the last error, the refusal or failure reason, or why it is skipped. */
  reason: string | null;
  /** Failed sends since the last success. */
  attempts: number;
  /** Failed ingestions of the current content in a row. */
  ingestAttempts: number;
  /** Not sent again before (a failed ingestion) or not deleted before (a removed document): ms since the epoch. */
  notBefore: number | null;
  /** sha256 of the content last seen. */
  hash: string | null;
  /** The ID the current version carries in its metadata (`sync_id`). */
  syncId: string | null;
  /** The knowledge base the send columns refer to (see `targetKey`); null for rows older than targets. */
  target: string | null;
}

export function documentView(r: DocumentRecord): DocumentView {
  return {
    source: r.source,
    key: r.key,
    kind: r.kind,
    status: r.status,
    docId: r.docId,
    size: r.size,
    sentAt: r.uploadedAt,
    ingestedAt: r.ingestedAt,
    reason: r.status === 'skipped' ? r.skipReason : r.lastError,
    attempts: r.attempts,
    ingestAttempts: r.ingestAttempts,
    notBefore: r.status === 'removed' ? r.deleteAfter : r.retryAfter,
    hash: r.hash,
    syncId: r.syncId,
    target: r.target,
  };
}

export interface ListDocumentsOptions extends DocumentSelection {
  config: Pick<ResolvedConfig, 'sync'>;
}

/**
 * `lanying-kb documents`: the tracked documents with their status, document ID, times and reason, read from the
 * state (no lock: it works while the daemon runs).
 */
export function listDocuments(options: ListDocumentsOptions): DocumentView[] {
  const store = StateStore.open(options.config.sync.stateDir, { readonly: true });
  try {
    return store.isEmpty ? [] : selectDocuments(store, options).map(documentView);
  } finally {
    store.close();
  }
}
