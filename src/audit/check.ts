import type { Dispatcher } from 'undici';
import type { LanyingClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { selectSources } from '../config/select-sources.js';
import { UsageError } from '../errors.js';
import { openRuntime } from '../runtime/open-runtime.js';
import type { DocumentRecord, StateStore } from '../state/store.js';
import { type KnowledgeBaseTarget, targetsOf } from '../sync/target.js';
import { auditTarget, openCommands, type TargetAudit } from './audit-target.js';
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
  for (const [key, { target, sources: ofTarget }] of targetsOf(config, knowledgeBase, sources)) {
    const { commands, close } = openCommands(runtime.client, target, config.sync);
    try {
      const audit = await auditTarget(
        {
          config,
          client: runtime.client,
          store: runtime.store,
          key,
          target,
          sources: ofTarget,
          walk: adopt || (options.walk ?? false),
          signal: options.signal,
          onProgress: options.onProgress && ((done, total) => options.onProgress?.({ kbName: target.kbName, done, total })),
        },
        commands,
      );
      const adopted = adopt ? adoptDocuments(audit, runtime.store, now()) : [];
      knowledgeBases.push(summarise(adopted.length > 0 ? recompare(audit, config, adopted) : audit, adopted.length));
    } finally {
      close();
    }
  }
  return { knowledgeBases, differs: knowledgeBases.some((kb) => kb.findings.some((f) => DIFFERENCES.has(f.kind))) };
}

/** The row of a document whose document in the knowledge base was found and proven to be its current version. */
export function adoptedRecord(row: DocumentRecord, docId: string, target: string, now: number): DocumentRecord {
  return { ...row, status: 'ingested', docId, target, ingestedAt: row.ingestedAt ?? now, lastError: null, retryAfter: null, updatedAt: now };
}

/** Records the adoptable documents of an audit; the rows written. */
function adoptDocuments(audit: TargetAudit, store: StateStore, now: number): DocumentRecord[] {
  const rows = new Map(audit.records.map((r) => [`${r.source}\n${r.key}`, r]));
  const adopted: DocumentRecord[] = [];
  store.transaction(() => {
    for (const finding of audit.comparison.findings) {
      if (finding.kind !== 'adoptable' || finding.docId === null) continue;
      const row = rows.get(`${finding.source}\n${finding.key}`);
      // Two copies of one version: the first is adopted, the other is then a duplicate.
      if (!row || adopted.some((a) => a.source === row.source && a.key === row.key)) continue;
      const record = adoptedRecord(row, finding.docId, audit.key, now);
      store.put(record);
      adopted.push(record);
    }
  });
  return adopted;
}

function recompare(audit: TargetAudit, config: Pick<ResolvedConfig, 'sources'>, adopted: readonly DocumentRecord[]): TargetAudit {
  const replaced = new Map(adopted.map((r) => [`${r.source}\n${r.key}`, r]));
  const records = audit.records.map((r) => replaced.get(`${r.source}\n${r.key}`) ?? r);
  const comparison = compareWithKnowledgeBase({
    target: audit.key,
    records,
    versions: audit.versions,
    survey: audit.survey,
    configuredSources: new Set(config.sources.map((s) => s.name)),
    checkedSources: new Set(audit.sources),
  });
  return { ...audit, records, comparison };
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
