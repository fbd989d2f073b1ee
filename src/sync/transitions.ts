/**
 * How a document's state row changes: after a decision, when its send starts, succeeds or fails, when its file
 * vanished before it could be sent. Every write of the sync to a document row is computed here, without I/O.
 *
 *   (none) ─new─▶ pending ─sent─▶ uploaded ─changed─▶ pending ─▶ …
 *                    │  └─failed─▶ failed ─(next run)─▶ pending
 *                    └─vanished─▶ (forgotten, or removed once it had reached the knowledge base)
 *   uploaded ─left the source─▶ removed ─back, same content─▶ uploaded
 *   any ─skipped─▶ skipped (a document in the knowledge base keeps its status)
 */

import type { ObservedItem } from '../sources/types.js';
import { type DocumentKind, type DocumentRecord, newDocumentRecord } from '../state/store.js';
import type { MoveDecision } from './moves.js';

/** What a decision writes: a whole row, a row to forget (and, for a move, the old row to forget too). */
export type RowWrite = { type: 'put'; record: DocumentRecord; forget?: { source: string; key: string } | undefined } | { type: 'forget'; source: string; key: string };

export interface TransitionContext {
  now: number;
  runId: number | undefined;
}

function base(source: string, key: string, kind: DocumentKind, previous: DocumentRecord | undefined, ctx: TransitionContext): DocumentRecord {
  const record: DocumentRecord = previous ? { ...previous, kind } : newDocumentRecord(source, key, kind, ctx.now);
  if (record.firstSeenRun === null) record.firstSeenRun = ctx.runId ?? null;
  record.updatedAt = ctx.now;
  return record;
}

function withObservation(record: DocumentRecord, item: ObservedItem): DocumentRecord {
  record.size = item.size;
  if (item.stat) {
    record.mtimeMs = item.stat.mtimeMs;
    record.inode = item.stat.ino;
  }
  return record;
}

/**
 * The write a decision needs before anything is sent, or undefined when it needs none. Documents to send are
 * written when their send starts (`pendingRecord`), not here.
 */
export function writeForDecision(source: string, decision: MoveDecision, ctx: TransitionContext): RowWrite | undefined {
  switch (decision.action) {
    // Stryker disable next-line ConditionalExpression,StringLiteral: explicit for the reader; a decision no case names writes nothing either
    case 'new':
    // Stryker disable next-line ConditionalExpression,StringLiteral: as above
    case 'changed':
      return undefined;
    case 'unchanged': {
      if (!decision.write) return undefined;
      const record = withObservation(base(source, decision.key, decision.previous.kind, decision.previous, ctx), decision.item);
      record.hash = decision.hash;
      record.status = 'uploaded';
      record.skipReason = null;
      if (decision.item.validators) {
        record.etag = decision.item.validators.etag ?? null;
        record.lastModified = decision.item.validators.lastModified ?? null;
      }
      return { type: 'put', record };
    }
    case 'skipped': {
      if (!decision.record || decision.repeated) return undefined;
      const record = withObservation(base(source, decision.key, decision.item.kind, decision.previous, ctx), decision.item);
      // A document already in the knowledge base keeps its status: it is only reported as skipped now.
      if (decision.previous?.uploadedHash == null) record.status = 'skipped';
      record.skipReason = decision.reason;
      if (decision.item.hash !== undefined) record.hash = decision.item.hash;
      return { type: 'put', record };
    }
    case 'failed': {
      const record = base(source, decision.key, decision.previous?.kind ?? decision.item.kind, decision.previous, ctx);
      // One failed observation never removes a document, and never undoes that it was sent.
      if (!record.uploadedHash) record.status = 'failed';
      record.attempts += 1;
      record.lastError = decision.reason;
      return { type: 'put', record };
    }
    case 'removed':
      if (!decision.reachedKb) return { type: 'forget', source, key: decision.key };
      return { type: 'put', record: { ...decision.previous, status: 'removed', updatedAt: ctx.now } };
    case 'moved': {
      const old = decision.from;
      const record = withObservation(base(source, decision.key, 'file', undefined, ctx), decision.item);
      Object.assign(record, {
        hash: decision.hash,
        status: 'uploaded',
        uploadedHash: old.uploadedHash,
        msgId: old.msgId,
        downloadUrl: old.downloadUrl,
        docId: old.docId,
        uploadedAt: old.uploadedAt,
        syncId: old.syncId,
        transactionId: old.transactionId,
        movedFrom: `${old.source}:${old.key}`,
      });
      return { type: 'put', record, forget: { source: old.source, key: old.key } };
    }
  }
}

/**
 * The row of a document whose send starts: `pending`, with the transaction ID the send carries. The same version
 * keeps its transaction ID across runs, so that a send whose answer was lost (a crash, a timeout) and that is made
 * again is dropped by the server instead of adding a second copy; a new version gets a new one.
 */
export function pendingRecord(
  source: string,
  key: string,
  item: ObservedItem & { hash: string },
  previous: DocumentRecord | undefined,
  send: { syncId: string; newTransactionId: () => number },
  ctx: TransitionContext,
): DocumentRecord {
  const record = withObservation(base(source, key, item.kind, previous, ctx), item);
  const sameVersion = previous !== undefined && previous.transactionId !== null && previous.syncId === send.syncId && previous.status !== 'uploaded';
  record.transactionId = sameVersion ? previous.transactionId : send.newTransactionId();
  record.syncId = send.syncId;
  record.hash = item.hash;
  record.status = 'pending';
  record.skipReason = null;
  return record;
}

/** The row once the chatbot accepted the send. */
export function sentRecord(
  pending: DocumentRecord,
  sent: { msgId: string | undefined; downloadUrl: string | undefined },
  item: ObservedItem,
  now: number,
): DocumentRecord {
  return {
    ...pending,
    status: 'uploaded',
    uploadedHash: pending.hash,
    msgId: sent.msgId ?? null,
    downloadUrl: sent.downloadUrl ?? null,
    uploadedAt: now,
    attempts: 0,
    lastError: null,
    etag: item.validators ? (item.validators.etag ?? null) : pending.etag,
    lastModified: item.validators ? (item.validators.lastModified ?? null) : pending.lastModified,
    updatedAt: now,
  };
}

/** The row after a send failed for good (in this run). */
export function failedRecord(pending: DocumentRecord, message: string, now: number): DocumentRecord {
  return { ...pending, status: 'failed', attempts: pending.attempts + 1, lastError: message, updatedAt: now };
}

/**
 * The write for a document whose file vanished before it could be sent: forgotten when it never reached the
 * knowledge base, else kept as removed.
 */
export function vanishedWrite(pending: DocumentRecord, now: number): RowWrite {
  if (pending.uploadedHash === null) return { type: 'forget', source: pending.source, key: pending.key };
  return { type: 'put', record: { ...pending, status: 'removed', updatedAt: now } };
}
