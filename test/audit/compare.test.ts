import { describe, expect, it } from 'vitest';
import { compareWithKnowledgeBase, type Finding } from '../../src/audit/compare.js';
import { planPrune } from '../../src/audit/prune-plan.js';
import { type KnowledgeBaseSurvey, parseDocId, type SurveyedDocument, walkIds } from '../../src/audit/survey.js';
import { type DocumentRecord, type KbVersionRecord, newDocumentRecord } from '../../src/state/store.js';
import { syncIdOf } from '../../src/sync/document-metadata.js';

const TARGET = 'app/1/2/kb';

function row(key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return { ...newDocumentRecord('docs', key, 'file', 0), status: 'ingested', hash: `h-${key}`, uploadedHash: `h-${key}`, syncId: `s-${key}`, docId: `u-${key.length}`, target: TARGET, ...fields };
}

function version(key: string, fields: Partial<KbVersionRecord> = {}): KbVersionRecord {
  return { id: 1, target: TARGET, source: 'docs', key, hash: 'old', syncId: `old-${key}`, msgId: null, docId: 'u-90', state: 'delete', reason: 'replaced by document u-1', createdAt: 0, updatedAt: 0, ...fields };
}

const ours = (key: string, syncId: string, source = 'docs') => ({ managed_by: 'lanying-kb', source, path: key, sync_id: syncId });

function survey(docs: SurveyedDocument[], fields: Partial<KnowledgeBaseSurvey> = {}): KnowledgeBaseSurvey {
  return { total: docs.filter((d) => d.state === 'present').length, listed: [], documents: new Map(docs.map((d) => [d.docId, d])), walked: true, ...fields };
}

const present = (docId: string, metadata: Record<string, string>): SurveyedDocument => ({ docId, state: 'present', metadata, listedStatus: undefined });
const gone = (docId: string): SurveyedDocument => ({ docId, state: 'gone' });
const listed = (docId: string, metadata: Record<string, string>, listedStatus: string): SurveyedDocument => ({ docId, state: 'present', metadata, listedStatus });

function compare(records: DocumentRecord[], docs: SurveyedDocument[], versions: KbVersionRecord[] = [], surveyFields: Partial<KnowledgeBaseSurvey> = {}) {
  return compareWithKnowledgeBase({
    target: TARGET,
    records,
    versions,
    survey: survey(docs, surveyFields),
    configuredSources: new Set(['docs', 'web']),
    checkedSources: new Set(['docs']),
  });
}

const kinds = (findings: Finding[]) => findings.map((f) => [f.kind, f.key, f.docId, f.prunable, f.guarded]);

describe('compareWithKnowledgeBase', () => {
  // [case, records, surveyed documents, versions, expected [kind, key, docId, prunable, guarded][], matching, notManaged]
  const cases: [string, DocumentRecord[], SurveyedDocument[], KbVersionRecord[], unknown[][], number, number][] = [
    ['an ingested document in place', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md'))], [], [], 1, 0],
    ['an ingested document gone', [row('a.md', { docId: 'u-1' })], [gone('u-1')], [], [['missing', 'a.md', 'u-1', false, false]], 0, 0],
    ['its document holds another version', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 'other'))], [], [['missing', 'a.md', 'u-1', false, false]], 0, 0],
    ['an unconfirmed document without an ID', [row('a.md', { status: 'unconfirmed', docId: null })], [], [], [['unconfirmed', 'a.md', null, false, false]], 0, 0],
    ['a sent document awaits its confirmation', [row('a.md', { status: 'sent', docId: null })], [], [], [['pending', 'a.md', null, false, false]], 0, 0],
    ['an interrupted send', [row('a.md', { status: 'pending', docId: null })], [], [], [['pending', 'a.md', null, false, false]], 0, 0],
    ['a failed ingestion', [row('a.md', { status: 'ingest-failed', docId: null, lastError: 'exception' })], [], [], [['failed', 'a.md', null, false, false]], 0, 0],
    ['a refused document', [row('a.md', { status: 'refused', docId: null })], [], [], [['failed', 'a.md', null, false, false]], 0, 0],
    ['a failed send', [row('a.md', { status: 'failed', docId: null, uploadedHash: null })], [], [], [['failed', 'a.md', null, false, false]], 0, 0],
    ['a skipped document', [row('a.md', { status: 'skipped', docId: null })], [], [], [], 0, 0],
    ['a removed document still there', [row('a.md', { status: 'removed', docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md'))], [], [['removed', 'a.md', 'u-1', true, true]], 0, 0],
    ['a removed document gone', [row('a.md', { status: 'removed', docId: 'u-1' })], [gone('u-1')], [], [], 0, 0],
    ['a deleted document', [row('a.md', { status: 'deleted', docId: null })], [], [], [], 0, 0],
    ['a version to delete still there', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-90', ours('a.md', 'old-a.md'))], [version('a.md')], [['stale', 'a.md', 'u-90', true, false]], 1, 0],
    ['a version to delete gone', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), gone('u-90')], [version('a.md')], [], 1, 0],
    ['a superseded version waits for its successor', [row('a.md', { status: 'sent', docId: null, prevDocId: 'u-90' })], [present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { state: 'superseded' })], [['pending', 'a.md', null, false, false]], 0, 0],
    ['the replaced version while the new one is on its way', [row('a.md', { status: 'sent', docId: null, prevDocId: 'u-7' })], [present('u-7', ours('a.md', 'older'))], [], [['pending', 'a.md', null, false, false]], 0, 0],
    ['a deleted version', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md'))], [version('a.md', { state: 'deleted' })], [], 1, 0],
    ['another target\'s version', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md'))], [version('a.md', { target: 'x/1/2/kb' })], [], 1, 0],
    ['a row of another target', [row('a.md', { target: 'x/1/2/kb', docId: 'u-1' })], [], [], [['missing', 'a.md', null, false, false]], 0, 0],
    ['a row of another target that left its source', [row('a.md', { target: 'x/1/2/kb', status: 'removed' })], [], [], [], 0, 0],
    ['a document not ours', [], [present('u-5', { title: 'by hand' })], [], [], 0, 1],
    ['a document without metadata', [], [present('u-5', {})], [], [], 0, 1],
    ['a lanying-kb document of a source not configured', [], [present('u-5', ours('x.md', 's', 'gone-source'))], [], [['foreign', 'x.md', 'u-5', false, false]], 0, 0],
    ['a lanying-kb document without a source', [], [present('u-5', { managed_by: 'lanying-kb' })], [], [['foreign', null, 'u-5', false, false]], 0, 0],
    ['a lanying-kb document of a source not checked', [], [present('u-5', ours('x.md', 's', 'web'))], [], [], 0, 0],
    ['an untracked document of a checked source', [], [present('u-5', ours('x.md', 's'))], [], [['extra', 'x.md', 'u-5', true, true]], 0, 0],
    ['a copy of a deleted row', [row('a.md', { status: 'deleted', docId: null })], [present('u-5', ours('a.md', 's-a.md'))], [], [['extra', 'a.md', 'u-5', true, true]], 0, 0],
    ['a copy of a skipped row', [row('a.md', { status: 'skipped', docId: null })], [present('u-5', ours('a.md', 's-a.md'))], [], [['extra', 'a.md', 'u-5', true, true]], 0, 0],
    ['an old version of a removed row', [row('a.md', { status: 'removed', docId: 'u-1' })], [gone('u-1'), present('u-5', ours('a.md', 'older'))], [], [['extra', 'a.md', 'u-5', true, true]], 0, 0],
    ['the unconfirmed current version, found', [row('a.md', { status: 'unconfirmed', docId: null })], [present('u-5', ours('a.md', 's-a.md'))], [], [['unconfirmed', 'a.md', null, false, false], ['adoptable', 'a.md', 'u-5', false, false]], 0, 0],
    // A row keeps the sync ID of the version it sent when its file moves: a copy whose metadata names the old path is
    // the moved row's, found by that sync ID (a file moved while its send was never confirmed).
    ['the unconfirmed version of a moved file, found under its old path', [row('new.md', { status: 'unconfirmed', docId: null, syncId: 's-old.md' })], [present('u-5', ours('old.md', 's-old.md'))], [], [['unconfirmed', 'new.md', null, false, false], ['adoptable', 'new.md', 'u-5', false, false]], 0, 0],
    ['a copy of a moved, ingested file under its old path', [row('new.md', { docId: 'u-1', syncId: 's-old.md' })], [present('u-1', ours('new.md', 's-old.md')), present('u-5', ours('old.md', 's-old.md'))], [], [['duplicate', 'new.md', 'u-5', true, false]], 1, 0],
    // Another source's row with that sync ID is not this document's.
    ['a sync ID another source\'s row holds', [row('new.md', { source: 'web', status: 'unconfirmed', docId: null, syncId: 's-old.md' })], [present('u-5', ours('old.md', 's-old.md'))], [], [['unconfirmed', 'new.md', null, false, false], ['extra', 'old.md', 'u-5', true, true]], 0, 0],
    // The row at the path wins when it holds the sync ID too.
    ['a sync ID held at the path and by a moved row', [row('old.md', { status: 'unconfirmed', docId: null, syncId: 's-old.md' }), row('new.md', { status: 'unconfirmed', docId: null, syncId: 's-old.md' })], [present('u-5', ours('old.md', 's-old.md'))], [], [['unconfirmed', 'old.md', null, false, false], ['unconfirmed', 'new.md', null, false, false], ['adoptable', 'old.md', 'u-5', false, false]], 0, 0],
    // The row that holds the sync ID in the knowledge base's eyes: never a deleted or skipped one (their copies are extra).
    ['a sync ID a moved row and a deleted row hold', [row('new.md', { status: 'unconfirmed', docId: null, syncId: 's-old.md' }), row('zz.md', { status: 'deleted', docId: null, syncId: 's-old.md' })], [present('u-5', ours('old.md', 's-old.md'))], [], [['unconfirmed', 'new.md', null, false, false], ['adoptable', 'new.md', 'u-5', false, false]], 0, 0],
    ['a sync ID a moved row and a skipped row hold', [row('new.md', { status: 'unconfirmed', docId: null, syncId: 's-old.md' }), row('zz.md', { status: 'skipped', docId: null, syncId: 's-old.md' })], [present('u-5', ours('old.md', 's-old.md'))], [], [['unconfirmed', 'new.md', null, false, false], ['adoptable', 'new.md', 'u-5', false, false]], 0, 0],
    // A removed document whose document is known: a second copy of it is a version of a document that left its source.
    ['a copy of a removed document with a document ID', [row('a.md', { status: 'removed', docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-5', ours('a.md', 's-a.md'))], [], [['removed', 'a.md', 'u-1', true, true], ['extra', 'a.md', 'u-5', true, true]], 0, 0],
    // A file that left its source while its send was never confirmed: its copy, once found, is removed like the
    // document (prune deletes it; check --adopt records it for the next sync to delete).
    ['the unconfirmed version of a removed file, found', [row('a.md', { status: 'removed', docId: null })], [present('u-5', ours('a.md', 's-a.md'))], [], [['removed', 'a.md', 'u-5', true, true]], 0, 0],
    ['the unconfirmed version of a removed file, finished', [row('a.md', { status: 'removed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'finish')], [], [['removed', 'a.md', 'u-5', true, true]], 0, 0],
    ['the unconfirmed version of a removed file, failed', [row('a.md', { status: 'removed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'error')], [], [['extra', 'a.md', 'u-5', true, true]], 0, 0],
    ['the unconfirmed version of a removed file, being ingested', [row('a.md', { status: 'removed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'processing')], [], [['pending', 'a.md', 'u-5', false, false]], 0, 0],
    ['an old version of a removed file never confirmed', [row('a.md', { status: 'removed', docId: null })], [present('u-5', ours('a.md', 'older'))], [], [['extra', 'a.md', 'u-5', true, true]], 0, 0],
    // Only a document whose ingestion finished (or that the listing does not show) is adopted.
    ['the unconfirmed current version, failed', [row('a.md', { status: 'unconfirmed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'error')], [], [['unconfirmed', 'a.md', null, false, false], ['failed', 'a.md', 'u-5', false, false]], 0, 0],
    ['the unconfirmed current version, being ingested', [row('a.md', { status: 'unconfirmed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'processing')], [], [['unconfirmed', 'a.md', null, false, false], ['pending', 'a.md', 'u-5', false, false]], 0, 0],
    ['the unconfirmed current version, finished', [row('a.md', { status: 'unconfirmed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'finish')], [], [['unconfirmed', 'a.md', null, false, false], ['adoptable', 'a.md', 'u-5', false, false]], 0, 0],
    ['the current version under another ID than the recorded, gone one', [row('a.md', { docId: 'u-1' })], [gone('u-1'), present('u-5', ours('a.md', 's-a.md'))], [], [['missing', 'a.md', 'u-1', false, false], ['adoptable', 'a.md', 'u-5', false, false]], 0, 0],
    ['a second copy of an ingested document', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-5', ours('a.md', 's-a.md'))], [], [['duplicate', 'a.md', 'u-5', true, false]], 1, 0],
    ['a second copy of an unconfirmed document with an ID', [row('a.md', { status: 'unconfirmed', docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-5', ours('a.md', 's-a.md'))], [], [['duplicate', 'a.md', 'u-5', true, true]], 1, 0],
    ['an old version of an ingested document', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-5', ours('a.md', 'older'))], [], [['stale', 'a.md', 'u-5', true, false]], 1, 0],
    // Not proven replaced by an ingested successor (its recorded document is gone, or holds another version): counted against maxDelete.
    ['an old version of an ingested document whose recorded document is gone', [row('a.md', { docId: 'u-1' })], [gone('u-1'), present('u-5', ours('a.md', 'older'))], [], [['missing', 'a.md', 'u-1', false, false], ['stale', 'a.md', 'u-5', true, true]], 0, 0],
    ['an old version of a failed document', [row('a.md', { status: 'ingest-failed', docId: null, lastError: 'x' })], [present('u-5', ours('a.md', 'older'))], [], [['failed', 'a.md', null, false, false], ['stale', 'a.md', 'u-5', true, true]], 0, 0],
    // A row that names no version sent (a refused or failed first send, a resend whose new send was refused): a copy
    // of its current content is its current version, to adopt, not an old one to prune.
    ['a copy of the current content of a row that names no version', [row('a.md', { status: 'refused', docId: null, uploadedHash: null, syncId: null })], [present('u-5', ours('a.md', syncIdOf('docs', 'a.md', 'h-a.md')))], [], [['failed', 'a.md', null, false, false], ['adoptable', 'a.md', 'u-5', false, false]], 0, 0],
    ['a copy of the current content of an interrupted first send', [row('a.md', { status: 'pending', docId: null, uploadedHash: null, syncId: null })], [present('u-5', ours('a.md', syncIdOf('docs', 'a.md', 'h-a.md')))], [], [['pending', 'a.md', null, false, false], ['adoptable', 'a.md', 'u-5', false, false]], 0, 0],
    ['an old version of a row that names no version', [row('a.md', { status: 'refused', docId: null, uploadedHash: null, syncId: null })], [present('u-5', ours('a.md', syncIdOf('docs', 'a.md', 'older')))], [], [['failed', 'a.md', null, false, false], ['stale', 'a.md', 'u-5', true, true]], 0, 0],
    ['a copy of the current content of a row that names another version (not its current one)', [row('a.md', { status: 'failed', docId: 'u-1', uploadedHash: 'h-old', syncId: 's-a.md' })], [present('u-1', ours('a.md', 's-a.md')), present('u-5', ours('a.md', syncIdOf('docs', 'a.md', 'h-a.md')))], [], [['failed', 'a.md', 'u-1', false, false], ['stale', 'a.md', 'u-5', true, true]], 0, 0],
    // (No content seen: nothing to compute a sync ID from, not even the text "null".)
    ['a row that names no version and has seen no content', [row('a.md', { status: 'refused', docId: null, uploadedHash: null, syncId: null, hash: null })], [present('u-5', ours('a.md', syncIdOf('docs', 'a.md', 'null')))], [], [['failed', 'a.md', null, false, false], ['stale', 'a.md', 'u-5', true, true]], 0, 0],
    ['an old version without a sync ID', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-5', { managed_by: 'lanying-kb', source: 'docs', path: 'a.md' })], [], [['stale', 'a.md', 'u-5', true, false]], 1, 0],
    ['an unreadable recorded document', [row('a.md', { docId: 'u-1' })], [{ docId: 'u-1', state: 'unreadable', reason: 'no permission' }], [], [['unreadable', 'a.md', 'u-1', false, false]], 0, 0],
    // A superseded version waits for a successor that a row no longer tracked (or that left its source) never brings.
    ['a superseded version of a forgotten row', [], [present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { state: 'superseded' })], [['extra', 'a.md', 'u-90', true, true]], 0, 0],
    ['a superseded version of a removed row', [row('a.md', { status: 'removed', docId: null })], [present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { state: 'superseded' })], [['extra', 'a.md', 'u-90', true, true]], 0, 0],
    ['a superseded version of a row waiting to be sent again', [row('a.md', { status: 'pending', docId: null, uploadedHash: null })], [present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { state: 'superseded' })], [['pending', 'a.md', null, false, false]], 0, 0],
    ['an unreadable document no record names (a walk the chatbot would not answer)', [], [{ docId: 'u-5', state: 'unreadable', reason: 'round limit' }], [], [['unreadable', null, 'u-5', false, false]], 0, 0],
    ['a removed document whose document is unreadable', [row('a.md', { status: 'removed', docId: 'u-1' })], [{ docId: 'u-1', state: 'unreadable', reason: 'round limit' }], [], [['unreadable', 'a.md', 'u-1', false, false]], 0, 0],
    ['a version to delete that is unreadable', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), { docId: 'u-90', state: 'unreadable', reason: 'round limit' }], [version('a.md')], [['unreadable', 'a.md', 'u-90', false, false]], 1, 0],
    // Whether the recorded document is still there is unknown: the copy may be the only one.
    [
      'a copy of the current version while the recorded document is unreadable',
      [row('a.md', { docId: 'u-1' })],
      [{ docId: 'u-1', state: 'unreadable', reason: 'round limit' }, present('u-5', ours('a.md', 's-a.md'))],
      [],
      [['unreadable', 'a.md', 'u-1', false, false], ['unreadable', 'a.md', 'u-5', false, false]],
      0,
      0,
    ],
    // The version an unconfirmed one replaces stays until the new one is proven ingested (it may not be there at all).
    ['the replaced version while the new one is unconfirmed', [row('a.md', { status: 'unconfirmed', docId: null, prevDocId: 'u-7' })], [present('u-7', ours('a.md', 'older'))], [], [['unconfirmed', 'a.md', null, false, false]], 0, 0],
  ];

  it.each(cases)('%s', (_name, records, docs, versions, expected, matching, notManaged) => {
    const result = compare(records, docs, versions);
    expect(kinds(result.findings)).toEqual(expected);
    expect(result.matching).toBe(matching);
    expect(result.notManaged).toBe(notManaged);
  });

  it('counts the documents of this configuration\'s checked sources found (the base of maxDelete.percent for prune)', () => {
    const docs = [
      present('u-1', ours('a.md', 's-a.md')),
      present('u-2', ours('x.md', 's')),
      present('u-3', ours('y.md', 's', 'web')),
      present('u-4', ours('z.md', 's', 'gone-source')),
      present('u-5', { title: 'by hand' }),
      present('u-90', {}),
      gone('u-6'),
    ];
    expect(compare([row('a.md', { docId: 'u-1' })], docs, [version('b.md', { docId: 'u-90', reason: 'the chatbot failed to ingest it: exception' })]).ours).toBe(3);
  });

  it('counts the documents no read reached when the knowledge base was not walked', () => {
    const docs = [present('u-1', ours('a.md', 's-a.md'))];
    expect(compare([row('a.md', { docId: 'u-1' })], docs, [], { total: 5, walked: false }).unexamined).toBe(4);
    expect(compare([row('a.md', { docId: 'u-1' })], docs, [], { total: 5, walked: true }).unexamined).toBe(0);
    expect(compare([row('a.md', { docId: 'u-1' })], docs, [], { total: 0, walked: false }).unexamined).toBe(0);
  });
});

describe('planPrune', () => {
  const f = (kind: Finding['kind'], guarded: boolean, docId: string | null = `u-${kind}`): Finding => ({ kind, source: 'docs', key: kind, docId, detail: '', prunable: true, guarded });
  const policy = { onRemove: 'delete' as const, maxDelete: { count: 2, percent: 50 }, inKnowledgeBase: 100 };

  it('deletes every prunable finding with a document ID', () => {
    const findings = [f('stale', false), f('duplicate', false), f('removed', true), f('extra', true), { ...f('failed', false), prunable: false }, f('stale', false, null)];
    expect(planPrune(findings, policy)).toEqual({ delete: findings.slice(0, 4), kept: [], blocked: undefined });
  });

  it('keeps what left its source with onRemove: keep', () => {
    const findings = [f('stale', false), f('removed', true), f('extra', true)];
    expect(planPrune(findings, { ...policy, onRemove: 'keep' })).toEqual({ delete: [findings[0]], kept: findings.slice(1), blocked: undefined });
  });

  it('holds back every guarded deletion over maxDelete.count, and only those', () => {
    const findings = [f('stale', false), f('removed', true), f('extra', true), { ...f('extra', true), docId: 'u-x' }];
    expect(planPrune(findings, policy)).toEqual({ delete: [findings[0]], kept: [], blocked: { count: 3, reason: '3 documents would be pruned, more than sync.maxDelete.count (2)' } });
    expect(planPrune(findings.slice(0, 3), policy).blocked).toBeUndefined();
  });

  it('holds back over maxDelete.percent of the knowledge base (more than 10 deletions)', () => {
    const findings = Array.from({ length: 11 }, (_, i) => ({ ...f('removed', true), docId: `u-${i}` }));
    const wide = { ...policy, maxDelete: { count: 1000, percent: 50 } };
    expect(planPrune(findings, { ...wide, inKnowledgeBase: 22 }).blocked).toBeUndefined();
    expect(planPrune(findings, { ...wide, inKnowledgeBase: 21 }).blocked?.reason).toBe('11 of 21 documents would be pruned (52 %), more than sync.maxDelete.percent (50 %)');
  });
});

describe('document IDs', () => {
  it.each([
    ['abc-1', { uuid: 'abc', seq: 1 }],
    ['0f3a9c-1024', { uuid: '0f3a9c', seq: 1024 }],
    ['a-b-1', undefined],
    ['abc', undefined],
    ['abc-', undefined],
    ['-1', undefined],
    ['abc-1x', undefined],
  ])('parseDocId(%j)', (id, expected) => {
    expect(parseDocId(id)).toEqual(expected);
  });

  it('walks from 1 to the highest sequence of the listing\'s knowledge base', () => {
    const listed = [{ docId: 'kb-7', filename: 'a', status: 'finish', progressFinished: 1, progressTotal: 1 }];
    expect(walkIds(listed, ['kb-3', 'other-99'])).toEqual(['kb-1', 'kb-2', 'kb-3', 'kb-4', 'kb-5', 'kb-6', 'kb-7']);
    expect(walkIds(listed, ['kb-9'])).toHaveLength(9);
  });

  it('without a listing, walks the uuid most known IDs name', () => {
    expect(walkIds([], ['x-2', 'y-1', 'x-1', 'not an id'])).toEqual(['x-1', 'x-2']);
    expect(walkIds([], [])).toEqual([]);
    expect(walkIds([], ['not an id'])).toEqual([]);
  });
});
