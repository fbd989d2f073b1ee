/**
 * How a document's state row changes: after a decision, when its send starts, succeeds or fails, when the chatbot
 * confirms or fails it, when its document is deleted. Every write of the sync to a document row is computed here,
 * without I/O.
 *
 *   (none) ─new─▶ pending ─sent─▶ sent ─confirmed─▶ ingested ─changed─▶ pending ─▶ sent ─▶ …
 *                    │             ├─failed to ingest─▶ ingest-failed ─(later, up to maxIngestAttempts)─▶ pending
 *                    │             ├─refused─▶ refused ─(next run)─▶ pending
 *                    │             └─no confirmation─▶ unconfirmed (never sent again blindly)
 *                    ├─send failed─▶ failed ─(next run)─▶ pending
 *                    └─vanished─▶ (forgotten, or back as it was once it had reached the knowledge base)
 *   ingested/unconfirmed ─left the source─▶ removed ─(grace period, guards)─▶ deleted
 *   removed ─back, same content─▶ ingested/unconfirmed
 *   any ─skipped─▶ skipped (a document in the knowledge base keeps its status)
 *
 * While a new version is `sent`, the version it replaces stays recorded in `prevHash`/`prevDocId`/`prevSyncId`: it
 * is in the knowledge base until the new one is ingested (then it is deleted, with `onChange: replace`), and back in
 * place when the new one fails. Versions that are to go are `KbVersionRecord`s.
 *
 * `syncId` always names the version in `uploadedHash` (the metadata its document carries): a send that starts does
 * not change it, only one that `/message/send` accepted. A moved document keeps the sync ID of the path it was sent
 * from, so a version's sync ID is carried along, never computed again from the current path.
 */

import type { ObservedItem } from '../sources/types.js';
import { type DocumentKind, type DocumentRecord, type KbVersionRecord, newDocumentRecord } from '../state/store.js';
import { syncIdOf } from './document-metadata.js';
import type { MoveDecision } from './moves.js';

/** What a decision writes: a whole row, a row to forget (and, for a move, the old row to forget too). */
export type RowWrite = { type: 'put'; record: DocumentRecord; forget?: { source: string; key: string } | undefined } | { type: 'forget'; source: string; key: string };

/** A version to record as one that is to go from the knowledge base. */
export type RetiredVersion = Omit<KbVersionRecord, 'id'>;

export interface TransitionContext {
  now: number;
  runId: number | undefined;
  /** The knowledge base sends go to (`targetKey`). */
  target: string;
  /** How long a document that left its source stays in the knowledge base before it may be deleted. */
  deleteAfterMs: number;
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

/** The status of a document whose version is in the knowledge base and not on its way any more. */
export function settledStatus(record: Pick<DocumentRecord, 'docId'>): 'ingested' | 'unconfirmed' {
  return record.docId !== null ? 'ingested' : 'unconfirmed';
}

/**
 * The write a decision needs before anything is sent, or undefined when it needs none. Documents to send are
 * written when their send starts (`pendingRecord`), not here.
 */
export function writeForDecision(source: string, decision: MoveDecision, ctx: TransitionContext): RowWrite | undefined {
  switch (decision.action) {
    // Stryker disable ConditionalExpression,StringLiteral: explicit for the reader; a decision no case names writes nothing either
    case 'new':
    case 'changed':
      return undefined;
    // Stryker restore ConditionalExpression,StringLiteral
    case 'unchanged': {
      if (!decision.write) return undefined;
      const previous = decision.previous;
      const record = withObservation(base(source, decision.key, previous.kind, previous, ctx), decision.item);
      record.hash = decision.hash;
      // Still on its way, or (back in its source, or after a send of another content failed) settled again.
      record.status = previous.status === 'sent' ? 'sent' : settledStatus(previous);
      record.skipReason = null;
      record.deleteAfter = null;
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
      return { type: 'put', record: { ...decision.previous, status: 'removed', deleteAfter: ctx.now + ctx.deleteAfterMs, updatedAt: ctx.now } };
    case 'moved': {
      const old = decision.from;
      const record = withObservation(base(source, decision.key, 'file', undefined, ctx), decision.item);
      Object.assign(record, {
        hash: decision.hash,
        status: old.status === 'sent' ? 'sent' : settledStatus(old),
        uploadedHash: old.uploadedHash,
        msgId: old.msgId,
        downloadUrl: old.downloadUrl,
        docId: old.docId,
        uploadedAt: old.uploadedAt,
        ingestedAt: old.ingestedAt,
        // The document in the knowledge base keeps the sync ID it was sent with (its metadata says so).
        syncId: old.syncId,
        transactionId: old.transactionId,
        target: old.target,
        prevHash: old.prevHash,
        prevDocId: old.prevDocId,
        prevSyncId: old.prevSyncId,
        movedFrom: `${old.source}:${old.key}`,
        // Its document's path and link follow once a run sets them (see the engine's metadata updates).
        metadataPendingSince: ctx.now,
      });
      return { type: 'put', record, forget: { source: old.source, key: old.key } };
    }
  }
}

/**
 * The row of a document whose send starts: `pending`, with the transaction ID the send carries. The same version
 * keeps its transaction ID across runs, so that a send whose answer was lost (a crash, a timeout) and that is made
 * again is dropped by the server instead of adding a second copy; a new version gets a new one. The send columns
 * (`uploadedHash`, `docId`, `syncId`) still describe the version in the knowledge base.
 */
export function pendingRecord(
  source: string,
  key: string,
  item: ObservedItem & { hash: string },
  previous: DocumentRecord | undefined,
  send: { newTransactionId: () => number },
  ctx: TransitionContext,
): DocumentRecord {
  // A row of another knowledge base starts afresh there: none of its send columns apply.
  const own = previous !== undefined && (previous.target === null || previous.target === ctx.target) ? previous : undefined;
  const startFrom = previous !== undefined && own === undefined ? { ...previous, ...sendColumnsCleared() } : own;
  const record = withObservation(base(source, key, item.kind, startFrom, ctx), item);
  // An interrupted send (`pending`) or a failed one the server may have taken (`failed` with its ID kept).
  const sameVersion = own !== undefined && own.transactionId !== null && own.hash === item.hash && (own.status === 'pending' || own.status === 'failed');
  record.transactionId = sameVersion ? own.transactionId : send.newTransactionId();
  if (own?.hash !== item.hash) record.ingestAttempts = 0;
  record.hash = item.hash;
  record.status = 'pending';
  record.skipReason = null;
  record.target = ctx.target;
  return record;
}

function sendColumnsCleared(): Pick<
  DocumentRecord,
  | 'transactionId'
  | 'syncId'
  | 'uploadedHash'
  | 'msgId'
  | 'downloadUrl'
  | 'docId'
  | 'uploadedAt'
  | 'ingestedAt'
  | 'prevHash'
  | 'prevDocId'
  | 'prevSyncId'
  | 'metadataPendingSince'
  | 'ingestAttempts'
  | 'retryAfter'
  | 'deleteAfter'
> {
  return {
    transactionId: null,
    syncId: null,
    uploadedHash: null,
    msgId: null,
    downloadUrl: null,
    docId: null,
    uploadedAt: null,
    ingestedAt: null,
    prevHash: null,
    prevDocId: null,
    prevSyncId: null,
    metadataPendingSince: null,
    ingestAttempts: 0,
    retryAfter: null,
    deleteAfter: null,
  };
}

/**
 * The row once `/message/send` accepted the version, and the versions it retires: the version it replaces becomes
 * `prevHash`/`prevDocId` (deleted once this one is ingested); an older one still recorded there is to go as well.
 * With `replace: false` (`onChange: append`) older versions stay in the knowledge base and nothing is retired.
 */
export function sentRecord(
  pending: DocumentRecord,
  sent: { msgId: string | undefined; downloadUrl: string | undefined; syncId: string },
  item: ObservedItem,
  now: number,
  options: { replace: boolean },
): { record: DocumentRecord; retire: RetiredVersion[] } {
  const retire: RetiredVersion[] = [];
  let prevHash: string | null = null;
  let prevDocId: string | null = null;
  let prevSyncId: string | null = null;
  if (options.replace) {
    if (pending.prevHash !== null) retire.push(retired(pending, pending.prevHash, pending.prevDocId, pending.prevSyncId, 'superseded', 'replaced by a newer version', now));
    if (pending.uploadedHash !== null && pending.uploadedHash !== pending.hash) {
      prevHash = pending.uploadedHash;
      prevDocId = pending.docId;
      prevSyncId = pending.syncId;
    }
  }
  const record: DocumentRecord = {
    ...pending,
    syncId: sent.syncId,
    status: 'sent',
    uploadedHash: pending.hash,
    msgId: sent.msgId ?? null,
    downloadUrl: sent.downloadUrl ?? null,
    docId: null,
    uploadedAt: now,
    ingestedAt: null,
    attempts: 0,
    lastError: null,
    retryAfter: null,
    deleteAfter: null,
    prevHash,
    prevDocId,
    prevSyncId,
    etag: item.validators ? (item.validators.etag ?? null) : pending.etag,
    lastModified: item.validators ? (item.validators.lastModified ?? null) : pending.lastModified,
    updatedAt: now,
  };
  return { record, retire };
}

/** A version that is to go. `syncId`: the one it was sent with (unknown for rows written before it was recorded). */
function retired(row: DocumentRecord, hash: string, docId: string | null, syncId: string | null, state: KbVersionRecord['state'], reason: string, now: number): RetiredVersion {
  return { target: row.target, source: row.source, key: row.key, hash, syncId: syncId ?? syncIdOf(row.source, row.key, hash), msgId: null, docId, state, reason, createdAt: now, updatedAt: now };
}

/**
 * The row of a document whose send failed. `mayHaveReached`: the server may have taken the send (its answer was lost:
 * a timeout, a reset connection, a 5xx, or the send carried an interrupted send's transaction ID); the row then keeps
 * the transaction ID, and the next send of the same version carries it again, so that the server drops it as a repeat
 * instead of adding a second copy. Otherwise the ID is cleared and the next send gets a new one.
 */
export function failedRecord(pending: DocumentRecord, message: string, now: number, mayHaveReached: boolean): DocumentRecord {
  return { ...pending, status: 'failed', attempts: pending.attempts + 1, lastError: message, updatedAt: now, transactionId: mayHaveReached ? pending.transactionId : null };
}

/**
 * The write for a document whose file vanished before it could be sent: forgotten when it never reached the
 * knowledge base, else its row as it was before this send (`previous`). Whether it left its source is for the next
 * observation of the source to say, behind the source's checks: a file that vanished with its whole folder (a disk
 * unmounted under the upload) did not leave it.
 */
export function vanishedWrite(pending: DocumentRecord, previous: DocumentRecord | undefined): RowWrite {
  if (pending.uploadedHash === null || previous === undefined) return { type: 'forget', source: pending.source, key: pending.key };
  return { type: 'put', record: previous };
}

/** The chatbot confirmed the version on its way: `docId` is its document. The version it replaced is to go. */
export function ingestedRecord(row: DocumentRecord, docId: string, now: number): { record: DocumentRecord; retire: RetiredVersion[] } {
  // A document that left its source keeps the version it replaced: its removal deletes both, as `sync.onRemove` says.
  if (row.status === 'removed') return { record: { ...row, docId, ingestedAt: now, ingestAttempts: 0, retryAfter: null, lastError: null, updatedAt: now }, retire: [] };
  const retire: RetiredVersion[] = [];
  if (row.prevHash !== null) retire.push(retired(row, row.prevHash, row.prevDocId, row.prevSyncId, 'delete', `replaced by document ${docId}`, now));
  const status = row.status === 'deleted' ? row.status : 'ingested';
  return {
    record: { ...row, status, docId, ingestedAt: now, ingestAttempts: 0, retryAfter: null, lastError: null, prevHash: null, prevDocId: null, prevSyncId: null, updatedAt: now },
    retire,
  };
}

/**
 * The chatbot could not ingest the version on its way (`docId`: its failed document, which is to go). The version
 * it replaced is back in place; the content is sent again after `retryDelayMs` (doubling with each failure).
 */
export function ingestFailedRecord(
  row: DocumentRecord,
  failure: { reason: string; docId: string | undefined },
  now: number,
  retryDelayMs: number,
): { record: DocumentRecord; retire: RetiredVersion[] } {
  const attempts = row.ingestAttempts + 1;
  const retire: RetiredVersion[] = [];
  if (failure.docId !== undefined && row.uploadedHash !== null) {
    retire.push({ ...retired(row, row.uploadedHash, failure.docId, row.syncId, 'delete', `the chatbot failed to ingest it: ${failure.reason}`, now), msgId: row.msgId });
  }
  return {
    record: {
      ...row,
      status: 'ingest-failed',
      lastError: failure.reason,
      ingestAttempts: attempts,
      retryAfter: now + retryDelayMs * 2 ** Math.min(attempts - 1, 10),
      ...versionBack(row),
      updatedAt: now,
    },
    retire,
  };
}

/** The send columns once the version on its way came to nothing: the version it replaced is the one in place. */
function versionBack(row: DocumentRecord): Pick<DocumentRecord, 'uploadedHash' | 'docId' | 'syncId' | 'prevHash' | 'prevDocId' | 'prevSyncId'> {
  return { uploadedHash: row.prevHash, docId: row.prevDocId, syncId: prevSyncIdOf(row), prevHash: null, prevDocId: null, prevSyncId: null };
}

/**
 * The sync ID the version a send replaces (`prevHash`) was sent under: recorded in `prevSyncId` (a document that moved
 * since was sent under its old path), or else computed from the path (rows written before it was recorded).
 */
export function prevSyncIdOf(row: Pick<DocumentRecord, 'source' | 'key' | 'prevHash' | 'prevSyncId'>): string | null {
  return row.prevHash === null ? null : (row.prevSyncId ?? syncIdOf(row.source, row.key, row.prevHash));
}

/** The chatbot refused the message: nothing was ingested; the version it replaced is back in place. */
export function refusedRecord(row: DocumentRecord, reason: string, now: number): DocumentRecord {
  return { ...row, status: 'refused', lastError: reason, ...versionBack(row), updatedAt: now };
}

/** No confirmation in time (or none that could be tied to this document): it may be in the knowledge base. */
export function unconfirmedRecord(row: DocumentRecord, reason: string, now: number): DocumentRecord {
  return { ...row, status: 'unconfirmed', lastError: reason, updatedAt: now };
}

/** The version it replaced was deleted from the knowledge base (it left its source before its last send was confirmed). */
export function replacedVersionDeleted(row: DocumentRecord, now: number): DocumentRecord {
  return { ...row, prevHash: null, prevDocId: null, prevSyncId: null, updatedAt: now };
}

/** Its document was deleted from the knowledge base (it had left its source). */
export function deletedRecord(row: DocumentRecord, now: number): DocumentRecord {
  return { ...row, status: 'deleted', uploadedHash: null, docId: null, msgId: null, deleteAfter: null, prevHash: null, prevDocId: null, prevSyncId: null, metadataPendingSince: null, updatedAt: now };
}
