/**
 * The planner's rules, in one place and without I/O: what a source's observation means for each document, given
 * what the state knows of it. rclone's sync names the same three cases (source only, destination only, both); here
 * they are: new, gone from the source, and seen again (unchanged, changed, touched, skipped, failed).
 *
 * `contentNeeded` says which items must be read (hashed) before `decide` can tell; `decide` then turns one batch of
 * the observation into decisions. Moves and copies across the whole run are a later step (`moves.ts`).
 */

import type { ObservationBatch, ObservedItem } from '../sources/types.js';
import type { DocumentRecord } from '../state/store.js';

/** What the planner decided for one document. */
export type PlanAction = 'new' | 'changed' | 'moved' | 'unchanged' | 'removed' | 'skipped' | 'failed';

/** One decision: what to do about one document, and why. */
export type Decision =
  /** Send the content: never sent (`new`) or changed since the version the chatbot has (`changed`). */
  | { action: 'new' | 'changed'; key: string; item: ObservedItem & { hash: string }; previous: DocumentRecord | undefined; reason: string }
  /**
   * Nothing to send. `write`: the state must learn something (a new stat, new validators, a document back in its
   * source); otherwise nothing changes.
   */
  | { action: 'unchanged'; key: string; item: ObservedItem; hash: string; previous: DocumentRecord; reason: string; write: boolean; back: boolean }
  /**
   * Reported, not sent. `repeated`: the state recorded the same reason before (nothing to write). `record` false for
   * things that are no document (a folder reported instead of entered).
   */
  | { action: 'skipped'; key: string; item: ObservedItem; previous: DocumentRecord | undefined; reason: string; repeated: boolean; record: boolean }
  /** Observing the document failed (a fetch error): counted as a failure; never taken for removed. */
  | { action: 'failed'; key: string; item: ObservedItem; previous: DocumentRecord | undefined; reason: string }
  /**
   * The document left its source. `reachedKb`: it was sent (or a send was tried), so the state keeps it as
   * `removed`; otherwise its row is forgotten.
   */
  | { action: 'removed'; key: string; previous: DocumentRecord; reason: string; reachedKb: boolean };

/** Why a file whose size, time and inode are what the state recorded is unchanged (its content was not read). */
export const UNCHANGED_BY_STAT = 'size, time and inode unchanged';

/** Whether `item` must be read (hashed) before `decide` can tell whether it changed. */
export function contentNeeded(item: ObservedItem, previous: DocumentRecord | undefined, options: { checksum: boolean }): boolean {
  if (item.isFolder || item.skip || item.failure !== undefined || item.hash !== undefined || item.notModified) return false;
  if (options.checksum || !previous || previous.hash === null || !item.stat) return true;
  return !(previous.size === item.stat.size && previous.mtimeMs === item.stat.mtimeMs && previous.inode === item.stat.ino);
}

/**
 * The content hash to decide with: the item's own, or (for an item whose stat is what the state recorded, or that
 * the source said is not modified) the one the state knows.
 */
function contentOf(item: ObservedItem, previous: DocumentRecord | undefined): string | undefined {
  return item.hash ?? (previous?.hash ?? undefined);
}

/** What `decide` needs besides the batch and the state. */
export interface DecideOptions {
  /** The knowledge base documents go to (`targetKey`): send columns recorded for another one do not count. */
  target: string;
  now: number;
  /** Failed ingestions of one content before it is quarantined (until it changes). */
  maxIngestAttempts: number;
}

/**
 * Decides one batch. `known` holds what the state knows of the documents in the batch's scope (and of any key of
 * the batch): every known document of the scope that the batch does not hold left its source, but only when the
 * batch is complete. Items must carry a `hash` unless `contentNeeded` said they need none.
 */
export function decide(batch: ObservationBatch, known: ReadonlyMap<string, DocumentRecord>, options: DecideOptions): Decision[] {
  const decisions: Decision[] = [];
  const seen = new Set<string>();
  for (const item of batch.items) {
    seen.add(item.key);
    decisions.push(decideItem(item, known.get(item.key), options));
  }
  if (batch.complete) {
    for (const [key, previous] of known) {
      if (seen.has(key) || previous.status === 'removed' || previous.status === 'deleted') continue;
      if (batch.scope.kind === 'keys' && !batch.scope.keys.includes(key)) continue;
      decisions.push(removed(key, previous));
    }
  }
  return decisions;
}

/** Whether the row's send columns refer to another knowledge base than `target`. */
export function isForeignTarget(previous: DocumentRecord | undefined, target: string): boolean {
  return previous !== undefined && previous.target !== null && previous.target !== target;
}

function decideItem(item: ObservedItem, known: DocumentRecord | undefined, options: DecideOptions): Decision {
  const key = item.key;
  // A row of another knowledge base is a document this one has never had.
  const foreign = isForeignTarget(known, options.target);
  const previous = foreign ? undefined : known;
  if (item.isFolder) {
    return { action: 'skipped', key, item, previous: undefined, reason: item.skip?.reason ?? 'folder left out', repeated: false, record: false };
  }
  if (item.failure !== undefined) return { action: 'failed', key, item, previous, reason: item.failure };
  if (item.skip) {
    const reason = item.skip.reason;
    // A document already in the knowledge base keeps its status; it is only reported as skipped now.
    const status = previous?.uploadedHash != null ? previous.status : 'skipped';
    const repeated = previous !== undefined && previous.skipReason === reason && previous.status === status;
    return { action: 'skipped', key, item, previous, reason, repeated, record: true };
  }
  const hash = contentOf(item, known);
  if (hash === undefined) throw new Error(`decide: ${key} has no content hash (contentNeeded was not honoured)`);
  if (item.notModified && previous) {
    return { action: 'unchanged', key, item, hash, previous, reason: 'not modified (conditional GET)', write: false, back: false };
  }
  const inKb = previous !== undefined && previous.uploadedHash !== null && previous.status !== 'deleted';
  if (inKb && previous.uploadedHash === hash) {
    const back = previous.status === 'removed';
    const settled = previous.status === 'sent' || previous.status === 'ingested' || previous.status === 'unconfirmed';
    const statChanged = item.stat !== undefined && (previous.size !== item.stat.size || previous.mtimeMs !== item.stat.mtimeMs || previous.inode !== item.stat.ino);
    const validatorsChanged = item.validators !== undefined && ((item.validators.etag ?? null) !== previous.etag || (item.validators.lastModified ?? null) !== previous.lastModified);
    const reason = back
      ? 'back in the source with the content already sent'
      : statChanged
        ? 'touched, content unchanged'
        : item.hash === undefined && item.stat
          ? UNCHANGED_BY_STAT
          : 'content unchanged';
    return { action: 'unchanged', key, item, hash, previous, reason, write: !settled || statChanged || validatorsChanged || previous.hash !== hash, back };
  }
  // Never two versions of one document on their way: a change waits until the chatbot confirmed the last one.
  if (previous?.status === 'sent') {
    return { action: 'skipped', key, item, previous, reason: 'changed while its last version awaits the chatbot\'s confirmation: sent once that is known', repeated: false, record: false };
  }
  if (previous?.status === 'ingest-failed' && previous.hash === hash) {
    const why = previous.lastError ?? 'unknown reason';
    if (previous.ingestAttempts >= options.maxIngestAttempts) {
      return { action: 'skipped', key, item, previous, reason: `quarantined: the chatbot failed to ingest it ${previous.ingestAttempts} times (${why}); sent again once it changes`, repeated: false, record: false };
    }
    if (previous.retryAfter !== null && options.now < previous.retryAfter) {
      return { action: 'skipped', key, item, previous, reason: `the chatbot failed to ingest it (${why}); sent again after ${new Date(previous.retryAfter).toISOString()}`, repeated: false, record: false };
    }
  }
  const action = inKb ? 'changed' : 'new';
  const reason = foreign ? 'not yet in this knowledge base (the configuration points at another one than the state records)' : action === 'changed' ? changedReason(previous as DocumentRecord) : newReason(previous);
  return { action, key, item: { ...item, hash }, previous, reason };
}

function changedReason(previous: DocumentRecord): string {
  if (previous.status === 'ingest-failed') return `the chatbot failed to ingest the last version (${previous.lastError ?? 'unknown reason'}); sending again`;
  return 'content changed';
}

function newReason(previous: DocumentRecord | undefined): string {
  if (previous?.status === 'failed') return `not sent yet (last error: ${previous.lastError ?? 'unknown'})`;
  if (previous?.status === 'refused') return `refused by the chatbot before (${previous.lastError ?? 'unknown'}); sending again`;
  if (previous?.status === 'ingest-failed') return `the chatbot failed to ingest it (${previous.lastError ?? 'unknown reason'}); sending again`;
  // `lanying-kb resend` leaves a row pending without a transaction ID; an interrupted send keeps its own.
  if (previous?.status === 'pending') return previous.transactionId === null ? 'to be sent again (lanying-kb resend)' : 'send was interrupted';
  if (previous?.status === 'deleted') return 'back in the source after its document was deleted';
  return 'first seen';
}

function removed(key: string, previous: DocumentRecord): Decision {
  const reachedKb = previous.uploadedHash !== null || previous.transactionId !== null;
  return {
    action: 'removed',
    key,
    previous,
    reason: reachedKb ? 'no longer in the source' : 'no longer in the source (never sent)',
    reachedKb,
  };
}
