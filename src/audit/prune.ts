import type { Dispatcher } from 'undici';
import type { LanyingClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { selectSources } from '../config/select-sources.js';
import { UsageError } from '../errors.js';
import { commandsInFlight, type KbCommands } from '../kb/commands.js';
import { openRuntime } from '../runtime/open-runtime.js';
import type { DocumentRecord, StateStore } from '../state/store.js';
import { deleteDocument } from '../sync/cleanup.js';
import type { KnowledgeBaseTarget } from '../sync/target.js';
import { deletedRecord, replacedVersionDeleted } from '../sync/transitions.js';
import { auditEach, type TargetAudit } from './audit-target.js';
import type { Finding } from './compare.js';
import { planPrune, type PrunePlan } from './prune-plan.js';

export interface PruneOptions {
  config: ResolvedConfig;
  /** Only these sources. @default every enabled one */
  sources?: readonly string[] | undefined;
  /** Print the plan; delete nothing. */
  dryRun?: boolean | undefined;
  /** Read every document ID of the knowledge base (finds managed documents the state never recorded). */
  walk?: boolean | undefined;
  client?: LanyingClient | undefined;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: { kbName: string; done: number; total: number }) => void) | undefined;
  /** Each deletion as it happens. */
  onOutcome?: ((outcome: PruneOutcome) => void) | undefined;
  now?: (() => number) | undefined;
}

/** What happened to one document `prune` meant to delete. */
export interface PruneOutcome {
  finding: Finding;
  result: 'deleted' | 'already-gone' | 'not-ours' | 'failed';
  reason?: string | undefined;
}

export interface KnowledgeBasePrune {
  target: KnowledgeBaseTarget;
  sources: string[];
  plan: PrunePlan;
  /** Empty for a dry run. */
  outcomes: PruneOutcome[];
}

export interface PruneReport {
  dryRun: boolean;
  knowledgeBases: KnowledgeBasePrune[];
  /** Documents deleted (or found gone already). */
  deleted: number;
  /** Deletions that failed, or that the document's metadata forbade. */
  failed: number;
  /** Whether `sync.maxDelete` held any deletion back. */
  blocked: boolean;
}

/**
 * `lanying-kb prune`: deletes from the knowledge base the managed documents that must go: versions replaced by an
 * ingested successor, second copies, documents that left their sources (without waiting for `sync.deleteAfter`),
 * and lanying-kb documents of this configuration's sources that the state does not track. With the guards of the
 * sync: only documents whose metadata (read again just before) says `managed_by: lanying-kb` and names the version
 * seen; never another configuration's; `sync.onRemove: keep` keeps what left its source; `sync.maxDelete` holds back
 * every guarded deletion when there are too many.
 */
export async function pruneKnowledgeBase(options: PruneOptions): Promise<PruneReport> {
  const { config } = options;
  const knowledgeBase = config.knowledgeBase;
  if (!knowledgeBase) throw new UsageError('the configuration has no "knowledgeBase" section, which prune needs (chatbotUserId, adminUserId, name)');
  const sources = selectSources(config, options.sources);
  const dryRun = options.dryRun ?? false;
  const now = options.now ?? Date.now;
  await using runtime = openRuntime(config, { command: 'prune', readonly: dryRun, client: options.client, dispatcher: options.dispatcher });
  const report: PruneReport = { dryRun, knowledgeBases: [], deleted: 0, failed: 0, blocked: false };
  await auditEach(runtime, { ...config, knowledgeBase }, sources, { walk: options.walk ?? false, signal: options.signal, onProgress: options.onProgress }, async (audit, commands) => {
    const plan = planPrune(audit.comparison.findings, { onRemove: config.sync.onRemove, maxDelete: config.sync.maxDelete, inKnowledgeBase: audit.comparison.ours });
    const outcomes = dryRun ? [] : await carryOut(plan, audit, { store: runtime.store, commands, now, signal: options.signal, onOutcome: options.onOutcome });
    if (!dryRun) settleGone(audit, runtime.store, now());
    report.knowledgeBases.push({ target: audit.target, sources: audit.sources, plan, outcomes });
    report.blocked ||= plan.blocked !== undefined;
    for (const o of outcomes) {
      if (o.result === 'deleted' || o.result === 'already-gone') report.deleted++;
      else report.failed++;
    }
  });
  return report;
}

async function carryOut(
  plan: PrunePlan,
  audit: TargetAudit,
  deps: { store: StateStore; commands: KbCommands; now: () => number; signal?: AbortSignal | undefined; onOutcome?: ((outcome: PruneOutcome) => void) | undefined },
): Promise<PruneOutcome[]> {
  const versions = new Map(audit.versions.map((v) => [v.docId, v]));
  const outcomes: PruneOutcome[] = [];
  const deleteOne = async (finding: Finding) => {
    const docId = finding.docId as string;
    const version = versions.get(docId);
    const seen = audit.survey.documents.get(docId);
    const expected = version
      ? { syncId: version.syncId, failedIngestion: version.reason.startsWith('the chatbot failed to ingest') }
      : { syncId: seen?.state === 'present' ? (seen.metadata.sync_id ?? null) : null, failedIngestion: false };
    const result = await deleteDocument(deps.commands, docId, expected, deps.signal);
    const outcome: PruneOutcome = { finding, result: result.result, reason: 'reason' in result ? result.reason : undefined };
    if (result.result === 'deleted' || result.result === 'already-gone') recordDeleted(audit, deps.store, docId, deps.now());
    outcomes.push(outcome);
    deps.onOutcome?.(outcome);
  };
  await commandsInFlight(plan.delete.map((finding) => () => deleteOne(finding)), deps.signal);
  return outcomes;
}

/** The state after document `docId` left the knowledge base: its version retired, or its removed row deleted. */
function recordDeleted(audit: TargetAudit, store: StateStore, docId: string, at: number): void {
  const seen = audit.survey.documents.get(docId);
  const syncId = seen?.state === 'present' ? seen.metadata.sync_id : undefined;
  store.transaction(() => {
    for (const v of audit.versions) if (v.docId === docId) store.setKbVersionState(v.id, 'deleted', at);
    for (const r of audit.records) {
      if (r.status !== 'removed') continue;
      // Read again: another deletion of this prune (the row's other version) may have written it meanwhile.
      const row = store.get(r.source, r.key);
      if (row?.status !== 'removed') continue;
      if (row.docId === docId) store.put(deletedRecord(row, at));
      else if (row.docId === null) {
        const copy = syncId !== undefined && syncId === row.syncId;
        if (copy || row.prevDocId === docId) store.put(removedRowAfter(row, copy ? 'copy' : 'replaced', docId, at));
      }
    }
  });
}

/**
 * A removed row that never learned its document ID (its last send was unconfirmed) after one of its two documents
 * left the knowledge base: the version it replaced, or the copy its unconfirmed send made. It is deleted once neither
 * is left; a copy deleted first is recorded as its document, which the next cleanup finds gone while it deletes the
 * replaced version the usual way.
 */
function removedRowAfter(row: DocumentRecord, which: 'replaced' | 'copy', docId: string, at: number): DocumentRecord {
  if (which === 'replaced') return replacedVersionDeleted(row, at);
  return row.prevDocId === null ? deletedRecord(row, at) : { ...row, docId, updatedAt: at };
}

/** Versions to retire and removed rows whose documents the survey found gone are recorded as deleted. */
function settleGone(audit: TargetAudit, store: StateStore, at: number): void {
  const gone = (docId: string | null) => docId !== null && audit.survey.documents.get(docId)?.state === 'gone';
  store.transaction(() => {
    for (const v of audit.versions) if (v.state === 'delete' && gone(v.docId)) store.setKbVersionState(v.id, 'deleted', at);
    for (const r of audit.records) {
      if (r.status !== 'removed' || (r.target !== null && r.target !== audit.key)) continue;
      if (gone(r.docId)) store.put(deletedRecord(r, at));
      else if (r.docId === null && gone(r.prevDocId)) store.put(removedRowAfter(r, 'replaced', r.prevDocId as string, at));
    }
  });
}
