import type { ResolvedConfig } from '../config/resolve.js';
import { selectSources } from '../config/select-sources.js';
import { UsageError } from '../errors.js';
import { openRuntime } from '../runtime/open-runtime.js';
import type { DocumentRecord, KbVersionRecord } from '../state/store.js';
import type { SyncReport } from '../sync/report.js';
import { type SyncOnceOptions, syncOnce } from '../sync/sync-once.js';
import { prevSyncIdOf } from '../sync/transitions.js';
import { documentView, type DocumentView } from './list.js';
import { type DocumentSelection, selectDocuments } from './select.js';

export interface ResendOptions extends Omit<SyncOnceOptions, 'sources' | 'dryRun' | 'prune' | 'checksum'> {
  config: ResolvedConfig;
  /** Only documents of these sources. */
  sources?: DocumentSelection['sources'];
  /** Only these keys. */
  keys?: DocumentSelection['keys'];
  /** Every tracked document (required when neither sources nor keys are given). */
  all?: boolean | undefined;
  /** Say what would be sent again; change nothing, send nothing. */
  dryRun?: boolean | undefined;
}

export interface ResendResult {
  /** The documents marked to be sent again. */
  marked: DocumentView[];
  /** The documents selected that are not sent again, and why. */
  left: { document: DocumentView; reason: string }[];
  /** The sync that sent them (absent for a dry run, or when nothing was marked). */
  report?: SyncReport | undefined;
}

/** Why a tracked document cannot be sent again now; undefined when it can. */
export function resendRefusal(row: DocumentRecord, configured: ReadonlySet<string>): string | undefined {
  if (!configured.has(row.source)) return `its source "${row.source}" is not an enabled source of the configuration`;
  if (row.status === 'skipped') return `skipped: ${row.skipReason ?? 'by a rule'}`;
  if (row.status === 'removed' || row.status === 'deleted') return 'it left its source';
  if (row.status === 'sent') return 'its last version awaits the chatbot\'s confirmation';
  // A new transaction ID could make a second copy of a send that reached the server before it was interrupted.
  if (row.status === 'pending' && row.transactionId !== null) return 'its send was interrupted: the next sync sends it (with the same transaction ID)';
  return undefined;
}

/**
 * The row of a document to send again (pure), and the versions it retires: its document in the knowledge base, and
 * the version an unconfirmed one replaced (`prevDocId`), are replaced once the new copy is ingested (`replace`, as
 * `sync.onChange: replace` does), or left (`append`). The new copy gets a new transaction ID (the server would drop a
 * repeated one), and conditional requests are not made. The replaced version is named by the sync ID it was sent
 * under (`prevSyncIdOf`).
 */
export function resendRecord(row: DocumentRecord, options: { replace: boolean; now: number }): { record: DocumentRecord; retire: Omit<KbVersionRecord, 'id'>[] } {
  const retire: Omit<KbVersionRecord, 'id'>[] = [];
  const version = { target: row.target, source: row.source, key: row.key, state: 'superseded' as const, reason: 'sent again (lanying-kb resend)', createdAt: options.now, updatedAt: options.now };
  if (options.replace && row.docId !== null && row.uploadedHash !== null) retire.push({ ...version, hash: row.uploadedHash, syncId: row.syncId, msgId: row.msgId, docId: row.docId });
  if (options.replace && row.prevDocId !== null && row.prevHash !== null) retire.push({ ...version, hash: row.prevHash, syncId: prevSyncIdOf(row), msgId: null, docId: row.prevDocId });
  const record: DocumentRecord = {
    ...row,
    status: 'pending',
    transactionId: null,
    uploadedHash: null,
    msgId: null,
    downloadUrl: null,
    docId: null,
    uploadedAt: null,
    ingestedAt: null,
    attempts: 0,
    lastError: null,
    ingestAttempts: 0,
    retryAfter: null,
    deleteAfter: null,
    prevHash: null,
    prevDocId: null,
    etag: null,
    lastModified: null,
    updatedAt: options.now,
  };
  return { record, retire };
}

/**
 * `lanying-kb resend`: sends tracked documents again (a knowledge base that was wiped, or a re-seed): marks them,
 * then syncs their sources. A copy still in the knowledge base is replaced once the new one is ingested (with
 * `sync.onChange: replace`); a quarantined document gets a fresh count of attempts.
 */
export async function resendDocuments(options: ResendOptions): Promise<ResendResult> {
  const { config } = options;
  const { sources, keys, all, dryRun, ...syncOptions } = options;
  if (!all && !sources?.length && !keys?.length) throw new UsageError('name the documents to send again: --source S, KEY..., or --all for every tracked document');
  if (sources?.length) selectSources(config, sources);
  const configured = new Set(config.sources.filter((s) => s.enabled).map((s) => s.name));
  const result: ResendResult = { marked: [], left: [] };
  {
    await using runtime = openRuntime(config, { command: 'resend', readonly: dryRun ?? false });
    const { store } = runtime;
    const rows = store.isEmpty ? [] : selectDocuments(store, { sources, keys });
    const now = Date.now();
    const write = () => {
      for (const row of rows) {
        const refusal = resendRefusal(row, configured);
        if (refusal !== undefined) {
          result.left.push({ document: documentView(row), reason: refusal });
          continue;
        }
        const { record, retire } = resendRecord(row, { replace: config.sync.onChange === 'replace', now });
        if (!dryRun) {
          for (const version of retire) store.addKbVersion(version);
          store.put(record);
        }
        result.marked.push(documentView(dryRun ? row : record));
      }
    };
    if (dryRun) write();
    else store.transaction(write);
  }
  if (dryRun || result.marked.length === 0) return result;
  const names = [...new Set(result.marked.map((d) => d.source))];
  result.report = await syncOnce({ ...syncOptions, config, sources: names });
  return result;
}
