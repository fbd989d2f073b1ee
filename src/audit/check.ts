import type { Dispatcher } from 'undici';
import type { LanyingClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { selectSources } from '../config/select-sources.js';
import { UsageError } from '../errors.js';
import { openRuntime } from '../runtime/open-runtime.js';
import type { DocumentRecord, StateStore } from '../state/store.js';
import type { KnowledgeBaseTarget } from '../sync/target.js';
import { ingestedRecord, type RetiredVersion } from '../sync/transitions.js';
import { auditEach, type TargetAudit } from './audit-target.js';
import { compareWithKnowledgeBase, DIFFERENCES, type Finding, type FindingKind } from './compare.js';

export interface CheckOptions {
  config: ResolvedConfig;
  /** Only these sources. @default every enabled one */
  sources?: readonly string[] | undefined;
  /** Read every document ID of the knowledge base (one command each), not only the recorded and the listed ones. */
  walk?: boolean | undefined;
  /**
   * Record the documents proven to be a tracked document's current version (its metadata names its source, path
   * and sync ID) that the state had not tied to one: documents sent before confirmations were followed, or whose
   * confirmation was lost. Implies `walk`.
   */
  adopt?: boolean | undefined;
  /** An API client to use. @default one made from the configuration */
  client?: LanyingClient | undefined;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
  /** Progress of each knowledge base's survey. */
  onProgress?: ((progress: { kbName: string; done: number; total: number }) => void) | undefined;
  now?: (() => number) | undefined;
}

/** The check of one knowledge base. */
export interface KnowledgeBaseCheck {
  target: KnowledgeBaseTarget;
  /** The sources checked that send to it. */
  sources: string[];
  /** Its document count, as `/bluevector status` gives it. */
  total: number;
  /** Tracked documents whose recorded document holds their current version. */
  matching: number;
  /** Documents that are not lanying-kb's (or without metadata). */
  notManaged: number;
  /** Documents counted by the knowledge base that were not read (without `walk`). */
  unexamined: number;
  walked: boolean;
  /** How many of each kind of finding. */
  counts: Record<FindingKind, number>;
  findings: Finding[];
  /** Documents recorded by `adopt`. */
  adopted: number;
}

export interface CheckReport {
  knowledgeBases: KnowledgeBaseCheck[];
  /** Whether the state and a knowledge base differ (`check` exits 3). */
  differs: boolean;
}

/**
 * `lanying-kb check`: every tracked document against the knowledge base (`metadata get` per recorded document ID,
 * the status listing, and with `walk` every document ID): missing documents, extra and stale managed ones, failed
 * and unconfirmed ones. Changes nothing, unless `adopt` records documents it proved to be ours.
 *
 * ```ts
 * const report = await checkKnowledgeBase({ config });
 * if (report.differs) console.log(report.knowledgeBases[0]?.findings);
 * ```
 */
export async function checkKnowledgeBase(options: CheckOptions): Promise<CheckReport> {
  const { config } = options;
  const knowledgeBase = config.knowledgeBase;
  if (!knowledgeBase) throw new UsageError('the configuration has no "knowledgeBase" section, which check needs (chatbotUserId, adminUserId, name)');
  const sources = selectSources(config, options.sources);
  const adopt = options.adopt ?? false;
  const now = options.now ?? Date.now;
  await using runtime = openRuntime(config, { command: adopt ? 'check --adopt' : 'check', readonly: !adopt, client: options.client, dispatcher: options.dispatcher });
  const knowledgeBases: KnowledgeBaseCheck[] = [];
  await auditEach(runtime, { ...config, knowledgeBase }, sources, { walk: adopt || (options.walk ?? false), signal: options.signal, onProgress: options.onProgress }, (audit) => {
    const adopted = adopt ? adoptDocuments(audit, runtime.store, { now: now(), replace: config.sync.onChange === 'replace' }) : [];
    knowledgeBases.push(summarise(adopted.length > 0 ? recompare(audit, config, runtime.store, adopted) : audit, adopted.length));
  });
  return { knowledgeBases, differs: knowledgeBases.some((kb) => kb.findings.some((f) => DIFFERENCES.has(f.kind))) };
}

/**
 * The row of a document whose document in the knowledge base was found and proven to be its current version, as a
 * confirmation of it would leave it: `uploadedHash` the content of that version (`uploadedHash`, its metadata's
 * `sha256`: a row whose send was interrupted has none yet), and the version it replaced to retire (`prevDocId`, or
 * for an interrupted send the document the row still names).
 */
export function adoptedRecord(row: DocumentRecord, docId: string, uploadedHash: string | null, target: string, now: number): { record: DocumentRecord; retire: RetiredVersion[] } {
  // A send interrupted before it was recorded as sent left the version it replaces as the row's document, not as prev.
  const replaced =
    row.prevDocId === null && row.docId !== null && row.docId !== docId && row.uploadedHash !== null && row.uploadedHash !== uploadedHash ? { prevHash: row.uploadedHash, prevDocId: row.docId } : {};
  const next = ingestedRecord({ ...row, ...replaced, target, uploadedHash }, docId, now);
  return { record: { ...next.record, ingestedAt: row.ingestedAt ?? now }, retire: next.retire };
}

/** Records the adoptable documents of an audit; the rows written. */
function adoptDocuments(audit: TargetAudit, store: StateStore, options: { now: number; replace: boolean }): DocumentRecord[] {
  const { now, replace } = options;
  const rows = new Map(audit.records.map((r) => [`${r.source}\n${r.key}`, r]));
  const adopted: DocumentRecord[] = [];
  store.transaction(() => {
    for (const finding of audit.comparison.findings) {
      const row = finding.docId === null ? undefined : rows.get(`${finding.source}\n${finding.key}`);
      // A copy of a document that left its source before its send was confirmed is recorded too (`removed`, found by
      // its sync ID): the next sync deletes it with the document.
      const copyOfRemoved = finding.kind === 'removed' && row?.status === 'removed' && row.docId === null;
      if ((finding.kind !== 'adoptable' && !copyOfRemoved) || finding.docId === null) continue;
      // Two copies of one version: the first is adopted, the other is then a duplicate.
      if (!row || adopted.some((a) => a.source === row.source && a.key === row.key)) continue;
      const seen = audit.survey.documents.get(finding.docId);
      const metadata = seen?.state === 'present' ? seen.metadata : undefined;
      const hash = metadata?.sha256 ?? row.uploadedHash ?? row.hash;
      // The version adopted names the row's sync ID from now on (a row that named none: its current content's).
      const syncId = metadata?.sync_id ?? row.syncId;
      const { record, retire } = adoptedRecord({ ...row, syncId }, finding.docId, hash, audit.key, now);
      store.put(record);
      // As when the chatbot confirms it (`Confirmer`): the version it replaced, and those waiting for it, go now.
      if (replace) {
        for (const version of retire) store.addKbVersion(version);
        for (const old of store.kbVersions({ states: ['superseded'], source: row.source, key: row.key })) store.setKbVersionState(old.id, 'delete', now);
      }
      adopted.push(record);
    }
  });
  return adopted;
}

function recompare(audit: TargetAudit, config: Pick<ResolvedConfig, 'sources'>, store: StateStore, adopted: readonly DocumentRecord[]): TargetAudit {
  const replaced = new Map(adopted.map((r) => [`${r.source}\n${r.key}`, r]));
  const records = audit.records.map((r) => replaced.get(`${r.source}\n${r.key}`) ?? r);
  const versions = audit.sources.flatMap((source) => store.kbVersions({ states: ['superseded', 'delete'], source }));
  const comparison = compareWithKnowledgeBase({
    target: audit.key,
    records,
    versions,
    survey: audit.survey,
    configuredSources: new Set(config.sources.map((s) => s.name)),
    checkedSources: new Set(audit.sources),
  });
  return { ...audit, records, versions, comparison };
}

export function summarise(audit: TargetAudit, adopted: number): KnowledgeBaseCheck {
  const counts = Object.fromEntries([...DIFFERENCES, 'foreign'].map((k) => [k, 0])) as Record<FindingKind, number>;
  for (const f of audit.comparison.findings) counts[f.kind]++;
  return {
    target: audit.target,
    sources: audit.sources,
    total: audit.survey.total,
    matching: audit.comparison.matching,
    notManaged: audit.comparison.notManaged,
    unexamined: audit.comparison.unexamined,
    walked: audit.survey.walked,
    counts,
    findings: audit.comparison.findings,
    adopted,
  };
}
