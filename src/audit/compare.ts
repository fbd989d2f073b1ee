/**
 * The state held against the knowledge base (pure): what the state says each document of a target should be, what a
 * survey of the knowledge base found, and every difference between the two. `check` prints the differences,
 * `check --adopt` records the documents it could prove to be ours, `prune` deletes the ones that must go.
 *
 * A document of the knowledge base is lanying-kb's when its metadata says `managed_by: lanying-kb`; it belongs to
 * this configuration when its `source` is a configured source (another configuration's documents are `foreign` and
 * never touched); it is a tracked document's version when its `source` and `path` name a row of the state, and that
 * version when its `sync_id` is the row's.
 */

import type { DocumentRecord, KbVersionRecord } from '../state/store.js';
import { MANAGED_BY, syncIdOf } from '../sync/document-metadata.js';
import type { KnowledgeBaseSurvey, SurveyedDocument } from './survey.js';

/** The kinds of difference. */
export type FindingKind =
  /** The state records a document in the knowledge base that it does not hold (or holds in another version). */
  | 'missing'
  /** A version of a tracked document that is not its current one (replaced, failed, or sent before). */
  | 'stale'
  /** A second copy of a document's current version. */
  | 'duplicate'
  /** A document that left its source, still in the knowledge base (deleted after the grace period, or by prune). */
  | 'removed'
  /** A document of a configured source that the state does not track. */
  | 'extra'
  /** The document never reached the knowledge base: its send or its ingestion failed, or it was refused. */
  | 'failed'
  /** Sent, and the chatbot's confirmation was never tied to a document: in the knowledge base or not, unknown. */
  | 'unconfirmed'
  /** Sent (or about to be), the chatbot's confirmation is awaited. */
  | 'pending'
  /** A document of the knowledge base proven to be a tracked document's current version that the state had not tied to it. */
  | 'adoptable'
  /** The chatbot would not say whether the document is there. */
  | 'unreadable'
  /** A lanying-kb document of a source this configuration does not have: another configuration's, left alone. */
  | 'foreign';

export interface Finding {
  kind: FindingKind;
  /** The document's source and key (for a document of the knowledge base: what its metadata names). */
  source: string | null;
  key: string | null;
  docId: string | null;
  detail: string;
  /** `prune` deletes it. */
  prunable: boolean;
  /**
   * Whether its deletion counts against `sync.maxDelete`: a version proven replaced by an ingested successor (or a
   * copy of one) does not; a document deleted because it left its source, or that only a survey found, does.
   */
  guarded: boolean;
}

/** The kinds that make the state and the knowledge base differ (`check` exits 3). */
export const DIFFERENCES: ReadonlySet<FindingKind> = new Set(['missing', 'stale', 'duplicate', 'removed', 'extra', 'failed', 'unconfirmed', 'pending', 'adoptable', 'unreadable']);

export interface Comparison {
  findings: Finding[];
  /** Tracked documents whose recorded document holds their current version. */
  matching: number;
  /** Documents of the knowledge base that are not lanying-kb's (or whose metadata the chatbot kept none of). */
  notManaged: number;
  /** Documents the knowledge base counts that no read reached (a survey without `walk`). */
  unexamined: number;
  /**
   * Documents found in the knowledge base that are this configuration's, of the sources checked: recorded by the
   * state, or lanying-kb's with such a source. The base of `sync.maxDelete.percent` for `prune`: documents it can
   * never delete (another configuration's, not lanying-kb's) must not make a deletion of all of these look small.
   */
  ours: number;
}

export interface CompareInput {
  /** The knowledge base's target key (`targetKey`): rows recorded for another one were never sent here. */
  target: string;
  /** The state's documents of the sources being checked. */
  records: readonly DocumentRecord[];
  /** The state's versions to retire, of the same sources. */
  versions: readonly KbVersionRecord[];
  survey: KnowledgeBaseSurvey;
  /** Every source of the configuration (a document of another is `foreign`). */
  configuredSources: ReadonlySet<string>;
  /** The sources being checked (documents of the others are left out). */
  checkedSources: ReadonlySet<string>;
}

/**
 * Whether a copy with `syncId` is the row's current version: the version the row sent, or, for a row that names none
 * (a first send that failed, was refused or interrupted; a document `resend` marked whose new send was refused), its
 * current content as a send of it carries it.
 */
function isCurrentVersion(r: DocumentRecord, syncId: string | undefined): boolean {
  if (syncId === r.syncId) return true;
  return r.syncId === null && r.hash !== null && syncId === syncIdOf(r.source, r.key, r.hash);
}

/** Compares the state with the survey. */
export function compareWithKnowledgeBase(input: CompareInput): Comparison {
  const { survey } = input;
  const findings: Finding[] = [];
  const claimed = new Set<string>();
  
  let matching = 0;
  const view = (docId: string | null): SurveyedDocument | undefined => (docId === null ? undefined : survey.documents.get(docId));
  const add = (f: Omit<Finding, 'prunable' | 'guarded'> & Partial<Pick<Finding, 'prunable' | 'guarded'>>) => findings.push({ prunable: false, guarded: false, ...f });

  const records = input.records.filter((r) => r.target === null || r.target === input.target);
  const byPath = new Map(records.map((r) => [`${r.source}\n${r.key}`, r]));
  // A sync ID names the version a row sent (`syncIdOf` its source, key and content). A row keeps it when its file
  // moves, so a copy whose metadata still names the old path is found by it (a move of a document never confirmed).
  const bySyncId = new Map(records.filter((r) => r.syncId !== null && r.status !== 'deleted' && r.status !== 'skipped').map((r) => [r.syncId as string, r]));
  const rowOf = (source: string, key: string | null, syncId: string | undefined): DocumentRecord | undefined => {
    const atPath = key === null ? undefined : byPath.get(`${source}\n${key}`);
    if (syncId === undefined || atPath?.syncId === syncId) return atPath;
    const moved = bySyncId.get(syncId);
    return moved?.source === source ? moved : atPath;
  };
  // Documents already reported as unreadable (the survey loop reports the others).
  const unreadable = new Set<string>();
  const addUnreadable = (doc: SurveyedDocument & { state: 'unreadable' }, at: Pick<Finding, 'source' | 'key'>) => {
    unreadable.add(doc.docId);
    add({ kind: 'unreadable', ...at, docId: doc.docId, detail: `document ${doc.docId}: ${doc.reason}` });
  };
  for (const r of input.records) {
    if (r.target === null || r.target === input.target || r.status === 'skipped' || r.status === 'removed' || r.status === 'deleted') continue;
    add({ kind: 'missing', source: r.source, key: r.key, docId: null, detail: `recorded for another knowledge base (${r.target}) only: the next sync sends it here` });
  }
  for (const r of records) {
    const doc = view(r.docId);
    if (r.docId !== null) claimed.add(r.docId);
    // While a new version is on its way (or unconfirmed: maybe not in the knowledge base at all), the one it replaces
    // stays until the new one is proven ingested.
    if (r.prevDocId !== null && (r.status === 'sent' || r.status === 'unconfirmed')) claimed.add(r.prevDocId);
    const at = { source: r.source, key: r.key, docId: r.docId };
    switch (r.status) {
      case 'ingested':
      case 'unconfirmed':
      case 'sent': {
        if (r.docId === null) {
          if (r.status === 'sent') add({ kind: 'pending', ...at, detail: 'sent; the chatbot\'s confirmation is awaited' });
          else add({ kind: 'unconfirmed', ...at, detail: 'sent, but no confirmation was tied to a document (check --adopt looks for it)' });
          break;
        }
        if (doc?.state === 'gone') add({ kind: 'missing', ...at, detail: `recorded as document ${r.docId}, which the knowledge base does not hold (resend sends it again)` });
        else if (doc?.state === 'unreadable') addUnreadable(doc, at);
        else if (doc?.state === 'present' && doc.metadata.sync_id !== r.syncId) {
          add({ kind: 'missing', ...at, detail: `recorded as document ${r.docId}, which holds another version (sync_id ${doc.metadata.sync_id ?? 'none'})` });
        } else if (doc?.state === 'present') matching++;
        break;
      }
      case 'removed':
        if (r.docId !== null && doc?.state === 'present') add({ kind: 'removed', ...at, detail: 'left its source; deleted after sync.deleteAfter, or by prune', prunable: true, guarded: true });
        else if (doc?.state === 'unreadable') addUnreadable(doc, at);
        break;
      case 'ingest-failed':
      case 'refused':
      case 'failed':
        add({ kind: 'failed', ...at, detail: `${r.status}: ${r.lastError ?? 'unknown reason'}` });
        break;
      case 'pending':
        add({ kind: 'pending', ...at, detail: 'its send was interrupted; the next sync sends it' });
        break;
      default:
        break;
    }
  }

  for (const v of input.versions) {
    if (v.docId === null || v.state === 'deleted' || (v.target !== null && v.target !== input.target)) continue;
    // A superseded version waits for its document's next version to be ingested: only while that document is tracked
    // and in its source (one forgotten, skipped or gone from its source brings no successor).
    const row = byPath.get(`${v.source}\n${v.key}`);
    if (v.state === 'superseded' && (row === undefined || row.status === 'removed' || row.status === 'deleted' || row.status === 'skipped')) continue;
    claimed.add(v.docId);
    const doc = view(v.docId);
    if (v.state === 'delete' && doc?.state === 'present') {
      add({ kind: 'stale', source: v.source, key: v.key, docId: v.docId, detail: `to delete: ${v.reason}`, prunable: true, guarded: false });
    } else if (doc?.state === 'unreadable' && !unreadable.has(v.docId)) addUnreadable(doc, { source: v.source, key: v.key });
  }

  let notManaged = 0;
  let present = 0;
  let ours = 0;
  for (const doc of survey.documents.values()) {
    // The chatbot would not say (a walk that ran into the round limit, ...): never silently taken for nothing there.
    if (doc.state === 'unreadable' && !unreadable.has(doc.docId)) addUnreadable(doc, { source: null, key: null });
    if (doc.state !== 'present') continue;
    present++;
    if (claimed.has(doc.docId)) {
      ours++;
      continue;
    }
    const m = doc.metadata;
    if (m.managed_by !== MANAGED_BY) {
      notManaged++;
      continue;
    }
    const source = m.source ?? null;
    const key = m.path ?? null;
    const at = { source, key, docId: doc.docId };
    if (source === null || !input.configuredSources.has(source)) {
      add({ kind: 'foreign', ...at, detail: `a lanying-kb document of source "${source ?? 'none'}", which this configuration does not have: left alone` });
      continue;
    }
    if (!input.checkedSources.has(source)) continue;
    ours++;
    const r = rowOf(source, key, m.sync_id);
    // A copy of the version a row sent is that row's, at the row's path (the metadata may name the path it left).
    const of = r !== undefined && isCurrentVersion(r, m.sync_id) ? { source: r.source, key: r.key, docId: doc.docId } : at;
    // The copy of a document that left its source before its send was confirmed: recorded, it is deleted with it.
    const unconfirmedRemoved = r?.status === 'removed' && r.docId === null && of !== at;
    if (r === undefined || r.status === 'deleted' || r.status === 'skipped') {
      add({ kind: 'extra', ...at, detail: 'a lanying-kb document that the state does not track', prunable: true, guarded: true });
    } else if (r.status === 'removed' && !unconfirmedRemoved) {
      add({ kind: 'extra', ...at, detail: 'a version of a document that left its source', prunable: true, guarded: true });
    } else if (of !== at) {
      const recorded = view(r.docId);
      const what = unconfirmedRemoved ? 'the version of a document that left its source, never confirmed' : 'the current version';
      if (r.docId === null || recorded?.state === 'gone' || (recorded?.state === 'present' && recorded.metadata.sync_id !== r.syncId)) {
        // The listing says how its ingestion went (the last 20 documents only): only a finished one is adopted.
        if (doc.listedStatus === 'error') {
          if (unconfirmedRemoved) add({ kind: 'extra', ...of, detail: `${what}, whose ingestion failed (status error in the listing)`, prunable: true, guarded: true });
          else add({ kind: 'failed', ...of, detail: `${what}, whose ingestion failed (status error in the listing): resend sends it again` });
        } else if (doc.listedStatus !== undefined && doc.listedStatus !== 'finish') {
          add({ kind: 'pending', ...of, detail: `${what}, being ingested (status ${doc.listedStatus}): check --adopt records it once finished` });
        } else if (unconfirmedRemoved) {
          // Deleted by prune as the document it stands for would be; check --adopt records it, and the next sync deletes it.
          add({ kind: 'removed', ...of, detail: `${what} (sync_id ${m.sync_id}): deleted by prune, or recorded by check --adopt and deleted by the next sync --prune`, prunable: true, guarded: true });
        } else add({ kind: 'adoptable', ...of, detail: `${what} (sync_id ${m.sync_id}), not tied to its document yet (check --adopt records it)` });
      } else if (recorded?.state === 'unreadable') {
        // Maybe the only copy: nothing says the recorded document is still there.
        add({ kind: 'unreadable', ...of, detail: `a copy of the current version, kept while document ${r.docId} cannot be read` });
      } else {
        add({ kind: 'duplicate', ...of, detail: `a second copy of document ${r.docId}`, prunable: true, guarded: r.status !== 'ingested' });
      }
    } else {
      // Proven replaced only when the row's own document was read and holds the current version.
      const recorded = view(r.docId);
      const replaced = r.status === 'ingested' && recorded?.state === 'present' && recorded.metadata.sync_id === r.syncId;
      add({ kind: 'stale', ...at, detail: `an old version (sync_id ${m.sync_id ?? 'none'}; the current one is ${r.syncId ?? 'unsent'})`, prunable: true, guarded: !replaced });
    }
  }
  const unexamined = survey.walked ? 0 : Math.max(0, survey.total - present);
  return { findings, matching, notManaged, unexamined, ours };
}
