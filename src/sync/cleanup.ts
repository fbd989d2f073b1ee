/**
 * Deleting from the knowledge base: the dangerous verb, behind guards that each hold on their own.
 * - Only documents lanying-kb made: a document ID the state recorded from a proven confirmation, whose metadata (read
 *   again just before) says `managed_by: lanying-kb` and the sync ID lanying-kb sent it with. A failed document the
 *   chatbot kept no metadata for is deleted only because its failure notice was proven to be ours.
 * - Nothing from a source whose observation was incomplete: such a source never decides `removed` (see `decide`).
 * - A grace period (`sync.deleteAfter`) for documents that left their source: a file back in time is not sent again.
 * - `sync.maxDelete`: more removals in one run than its count, or than its share of the knowledge base, and none is
 *   deleted: a loud warning, and the run ends with exit 3.
 * Versions replaced by a newer one that the chatbot ingested, and failed documents, are deleted without those two
 * limits: their successor is confirmed, or they never were of use.
 */

import { CommandTimeoutError } from '../kb/channel.js';
import { CommandNotRunError, commandsInFlight, type KbCommands } from '../kb/commands.js';
import type { DocumentRecord, KbVersionRecord, StateStore } from '../state/store.js';
import { MANAGED_BY } from './document-metadata.js';
import { deletedRecord, prevSyncIdOf, replacedVersionDeleted } from './transitions.js';

export interface DeletionPolicy {
  /** Delete documents that left their source (`onRemove: delete`). */
  deleteRemoved: boolean;
  /** Which removed documents are due: those past their grace period, or all of them (`sync --prune`). */
  removedDue: 'grace' | 'all';
  maxDelete: { count: number; percent: number };
  now: number;
}

/** `maxDelete.percent` applies to runs that would delete more documents than this. */
export const PERCENT_APPLIES_ABOVE = 10;

/** What a cleanup is about to delete, or why it deletes none of the removed documents. */
export interface DeletionPlan {
  /** Old versions and failed documents to delete. */
  versions: KbVersionRecord[];
  /** Documents that left their source and are due. */
  removed: DocumentRecord[];
  /** Set when the removals are over `maxDelete`: none of them is deleted. */
  blocked: { removals: number; total: number; reason: string } | undefined;
}

/**
 * Plans a cleanup from what the state holds (pure). `inKnowledgeBase` is how many documents of the target the
 * knowledge base holds (the base of `maxDelete.percent`).
 */
export function planDeletions(
  candidates: { versions: readonly KbVersionRecord[]; removed: readonly DocumentRecord[]; inKnowledgeBase: number },
  policy: DeletionPolicy,
): DeletionPlan {
  const versions = candidates.versions.filter((v) => v.state === 'delete' && v.docId !== null);
  if (!policy.deleteRemoved) return { versions, removed: [], blocked: undefined };
  // A document whose last send was never confirmed (no document ID) still has the version it replaced to delete.
  const removed = candidates.removed.filter(
    (r) => r.status === 'removed' && (r.docId !== null || r.prevDocId !== null) && (policy.removedDue === 'all' || (r.deleteAfter !== null && r.deleteAfter <= policy.now)),
  );
  const reason = maxDeleteExceeded(removed.length, candidates.inKnowledgeBase, policy.maxDelete, 'left their sources');
  if (reason !== undefined) return { versions, removed: [], blocked: { removals: removed.length, total: candidates.inKnowledgeBase, reason } };
  return { versions, removed, blocked: undefined };
}

/**
 * Why deleting `count` documents of a knowledge base of `total` is over `maxDelete` (`what` says what they did:
 * "left their sources"); undefined when it is not. The share applies only to more than `PERCENT_APPLIES_ABOVE`
 * deletions: it guards against a source read as (nearly) empty, and a small knowledge base may lose its last files.
 */
export function maxDeleteExceeded(count: number, total: number, maxDelete: { count: number; percent: number }, what: string): string | undefined {
  if (count > maxDelete.count) return `${count} documents ${what}, more than sync.maxDelete.count (${maxDelete.count})`;
  const base = Math.max(total, 1);
  if (count > PERCENT_APPLIES_ABOVE && count * 100 > maxDelete.percent * base) {
    // More deletions than the documents counted (a survey that saw fewer): no share to print, the block stands.
    if (count > total) return `${count} documents ${what}, more than the ${total} the knowledge base was counted to hold: over sync.maxDelete.percent (${maxDelete.percent} %)`;
    return `${count} of ${total} documents ${what} (${((count / base) * 100).toFixed(0)} %), more than sync.maxDelete.percent (${maxDelete.percent} %)`;
  }
  return undefined;
}

/** What happened to one deletion. */
export type DeletionOutcome =
  | { what: 'version' | 'removed'; source: string; key: string; docId: string; result: 'deleted' | 'already-gone' }
  | { what: 'version' | 'removed'; source: string; key: string; docId: string; result: 'not-ours' | 'failed'; reason: string };

/** Why a document must not be deleted, from its metadata as the chatbot reads it; undefined when it may be. */
export function notOursReason(metadata: Readonly<Record<string, string>>, expected: { syncId: string | null; failedIngestion: boolean }): string | undefined {
  if (expected.failedIngestion && Object.keys(metadata).length === 0) return undefined;
  if (metadata.managed_by !== MANAGED_BY) return `its metadata does not say managed_by: ${MANAGED_BY}`;
  if (expected.syncId !== null && metadata.sync_id !== expected.syncId) return `its metadata names another version (sync_id ${metadata.sync_id ?? 'none'})`;
  return undefined;
}

/**
 * Carries out a deletion plan through the chatbot's commands. Stops at the first sign that the chatbot runs no
 * commands (a `CommandTimeoutError` or `CommandNotRunError` is thrown to the caller).
 */
export async function runDeletions(
  plan: DeletionPlan,
  deps: { store: StateStore; commands: KbCommands; now: () => number; signal?: AbortSignal | undefined; onOutcome?: (outcome: DeletionOutcome) => void },
): Promise<DeletionOutcome[]> {
  const outcomes: DeletionOutcome[] = [];
  const report = (outcome: DeletionOutcome) => {
    outcomes.push(outcome);
    deps.onOutcome?.(outcome);
  };
  const deleteVersion = async (version: KbVersionRecord) => {
    const docId = version.docId as string;
    const result = await deleteDocument(deps.commands, docId, { syncId: version.syncId, failedIngestion: version.reason.startsWith('the chatbot failed to ingest') }, deps.signal);
    if (result.result === 'deleted' || result.result === 'already-gone') deps.store.setKbVersionState(version.id, 'deleted', deps.now());
    report({ what: 'version', source: version.source, key: version.key, docId, ...result } as DeletionOutcome);
  };
  const deleteRemoved = async (row: DocumentRecord) => {
    if (row.docId === null) return deleteReplaced(row);
    const docId = row.docId;
    const result = await deleteDocument(deps.commands, docId, { syncId: row.syncId, failedIngestion: false }, deps.signal);
    if (result.result === 'deleted' || result.result === 'already-gone') {
      const at = deps.now();
      deps.store.transaction(() => {
        // A version still replaced by this one goes with it.
        if (row.prevDocId !== null) {
          deps.store.addKbVersion({ target: row.target, source: row.source, key: row.key, hash: row.prevHash, syncId: row.prevSyncId, msgId: null, docId: row.prevDocId, state: 'delete', reason: 'its document left the source', createdAt: at, updatedAt: at });
        }
        deps.store.put(deletedRecord(row, at));
      });
    }
    report({ what: 'removed', source: row.source, key: row.key, docId, ...result } as DeletionOutcome);
  };
  // The version an unconfirmed send replaced goes; the row stays removed, so that the copy that send may have made is
  // still tied by a late notice or by check --adopt, and then deleted the same way.
  const deleteReplaced = async (row: DocumentRecord) => {
    const docId = row.prevDocId as string;
    const result = await deleteDocument(deps.commands, docId, { syncId: prevSyncIdOf(row), failedIngestion: false }, deps.signal);
    if (result.result === 'deleted' || result.result === 'already-gone') deps.store.put(replacedVersionDeleted(row, deps.now()));
    report({ what: 'version', source: row.source, key: row.key, docId, ...result } as DeletionOutcome);
  };
  await commandsInFlight([...plan.versions.map((v) => () => deleteVersion(v)), ...plan.removed.map((r) => () => deleteRemoved(r))], deps.signal);
  return outcomes;
}

/**
 * Deletes one document after reading its metadata again: nothing is deleted that is not lanying-kb's or that holds
 * another version than `expected.syncId` (when given).
 */
export async function deleteDocument(
  commands: KbCommands,
  docId: string,
  expected: { syncId: string | null; failedIngestion: boolean },
  signal: AbortSignal | undefined,
): Promise<{ result: 'deleted' | 'already-gone' } | { result: 'not-ours' | 'failed'; reason: string }> {
  const metadata = await commands.metadataGet(docId, signal);
  if (!metadata.ok) {
    if (metadata.reason === 'document_not_found' || metadata.reason === 'doc_id_not_exist') return { result: 'already-gone' };
    return { result: 'failed', reason: metadata.text };
  }
  const notOurs = notOursReason(metadata.metadata, expected);
  if (notOurs !== undefined) return { result: 'not-ours', reason: notOurs };
  const reply = await commands.delete(docId, signal);
  if (reply.ok) return { result: 'deleted' };
  if (reply.reason === 'doc_not_found') return { result: 'already-gone' };
  return { result: 'failed', reason: reply.text };
}

/** Whether an error means the chatbot runs no commands. */
export function isCommandsUnavailable(error: unknown): boolean {
  return error instanceof CommandTimeoutError || error instanceof CommandNotRunError;
}
