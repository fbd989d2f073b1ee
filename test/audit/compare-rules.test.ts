import { describe, expect, it } from 'vitest';
import { compareWithKnowledgeBase, DIFFERENCES, type Finding, type FindingKind } from '../../src/audit/compare.js';
import type { KnowledgeBaseSurvey, SurveyedDocument } from '../../src/audit/survey.js';
import { type DocumentRecord, type KbVersionRecord, newDocumentRecord } from '../../src/state/store.js';

// More rows of check's comparison (test/audit/compare.test.ts holds the main table): the rules mutation testing
// found that no row held, and the words each finding prints.

const TARGET = 'app/1/2/kb';
const OTHER = 'x/1/2/kb';

function row(key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return { ...newDocumentRecord('docs', key, 'file', 0), status: 'ingested', hash: `h-${key}`, uploadedHash: `h-${key}`, syncId: `s-${key}`, docId: `u-${key.length}`, target: TARGET, ...fields };
}
function version(key: string, fields: Partial<KbVersionRecord> = {}): KbVersionRecord {
  return { id: 1, target: TARGET, source: 'docs', key, hash: 'old', syncId: `old-${key}`, msgId: null, docId: 'u-90', state: 'delete', reason: 'replaced by document u-1', createdAt: 0, updatedAt: 0, ...fields };
}
const ours = (key: string, syncId: string, source = 'docs') => ({ managed_by: 'lanying-kb', source, path: key, sync_id: syncId });
const present = (docId: string, metadata: Record<string, string>): SurveyedDocument => ({ docId, state: 'present', metadata, listedStatus: undefined });
const gone = (docId: string): SurveyedDocument => ({ docId, state: 'gone' });
const unreadable = (docId: string): SurveyedDocument => ({ docId, state: 'unreadable', reason: 'round limit' });
const listed = (docId: string, metadata: Record<string, string>, listedStatus: string): SurveyedDocument => ({ docId, state: 'present', metadata, listedStatus });

function compare(records: DocumentRecord[], docs: SurveyedDocument[], versions: KbVersionRecord[] = []) {
  const survey: KnowledgeBaseSurvey = { total: docs.length, listed: [], documents: new Map(docs.map((d) => [d.docId, d])), walked: true };
  return compareWithKnowledgeBase({ target: TARGET, records, versions, survey, configuredSources: new Set(['docs', 'web']), checkedSources: new Set(['docs']) });
}
const kinds = (findings: Finding[]) => findings.map((f) => [f.kind, f.key, f.docId, f.prunable, f.guarded]);

describe('compareWithKnowledgeBase: more rows', () => {
  // [case, records, surveyed documents, versions, expected [kind, key, docId, prunable, guarded][], matching]
  const cases: [string, DocumentRecord[], SurveyedDocument[], KbVersionRecord[], unknown[][], number][] = [
    // Rows recorded for another knowledge base are not this one's: a copy found here is untracked here.
    ['a row of another target, and a copy of it here', [row('a.md', { target: OTHER, docId: 'u-9' })], [present('u-5', ours('a.md', 's-a.md'))], [], [['missing', 'a.md', null, false, false], ['extra', 'a.md', 'u-5', true, true]], 0],
    ['a row of another target skipped since', [row('a.md', { target: OTHER, status: 'skipped' })], [], [], [], 0],
    ['a row of another target deleted since', [row('a.md', { target: OTHER, status: 'deleted', docId: null })], [], [], [], 0],
    // A row from before targets were recorded (target null) is this knowledge base's.
    ['a row without a recorded target', [row('a.md', { target: null, docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md'))], [], [], 1],
    // The version an ingested document replaced is not kept for it any more: an old version, proven replaced.
    ['the replaced version of an ingested document', [row('a.md', { docId: 'u-1', prevDocId: 'u-7' })], [present('u-1', ours('a.md', 's-a.md')), present('u-7', ours('a.md', 'older'))], [], [['stale', 'a.md', 'u-7', true, false]], 1],
    // A survey that did not read a recorded document (the real one always reads them): nothing said, nothing thrown.
    ['an ingested row whose document was not read', [row('a.md', { docId: 'u-1' })], [], [], [], 0],
    ['a removed row whose document was not read', [row('a.md', { status: 'removed', docId: 'u-1' })], [], [], [], 0],
    ['a version to delete that was not read', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md'))], [version('a.md')], [], 1],
    // A version recorded as deleted or as another target's is not claimed: found here, it is an old version.
    ['a version recorded deleted, still there', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { state: 'deleted' })], [['stale', 'a.md', 'u-90', true, false]], 1],
    ['a superseded version of a deleted row', [row('a.md', { status: 'deleted', docId: null })], [present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { state: 'superseded' })], [['extra', 'a.md', 'u-90', true, true]], 0],
    ['a superseded version of a skipped row', [row('a.md', { status: 'skipped', docId: null })], [present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { state: 'superseded' })], [['extra', 'a.md', 'u-90', true, true]], 0],
    // The recorded document holds another version and a copy holds the current one: that copy is adopted.
    ['the current version under another ID than the recorded one, which holds another version', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 'older')), present('u-5', ours('a.md', 's-a.md'))], [], [['missing', 'a.md', 'u-1', false, false], ['adoptable', 'a.md', 'u-5', false, false]], 0],
    // An old version is proven replaced only by an ingested row whose own document holds the current version.
    ['an old version of an unconfirmed document whose document holds the current version', [row('a.md', { status: 'unconfirmed', docId: 'u-1' })], [present('u-1', ours('a.md', 's-a.md')), present('u-5', ours('a.md', 'older'))], [], [['stale', 'a.md', 'u-5', true, true]], 1],
    ['an old version of an ingested document whose document holds a third version', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 'third')), present('u-5', ours('a.md', 'older'))], [], [['missing', 'a.md', 'u-1', false, false], ['stale', 'a.md', 'u-5', true, true]], 0],
    ['a copy of the current version while the recorded document was not read', [row('a.md', { docId: 'u-1' })], [present('u-5', ours('a.md', 's-a.md'))], [], [['duplicate', 'a.md', 'u-5', true, false]], 0],
    ['an old version while the recorded document was not read', [row('a.md', { docId: 'u-1' })], [present('u-5', ours('a.md', 'older'))], [], [['stale', 'a.md', 'u-5', true, true]], 0],
  ];

  it.each(cases)('%s', (_name, records, docs, versions, expected, matching) => {
    const result = compare(records, docs, versions);
    expect(kinds(result.findings)).toEqual(expected);
    expect(result.matching).toBe(matching);
  });
});

describe('what check prints for each finding', () => {
  const u1 = present('u-1', ours('a.md', 's-a.md'));
  it.each<[string, DocumentRecord[], SurveyedDocument[], KbVersionRecord[], string[]]>([
    ['unreadable', [row('a.md', { docId: 'u-1' })], [unreadable('u-1')], [], ['document u-1: round limit']],
    ['another target', [row('a.md', { target: OTHER })], [], [], [`recorded for another knowledge base (${OTHER}) only: the next sync sends it here`]],
    ['pending', [row('a.md', { status: 'sent', docId: null })], [], [], ["sent; the chatbot's confirmation is awaited"]],
    ['unconfirmed', [row('a.md', { status: 'unconfirmed', docId: null })], [], [], ['sent, but no confirmation was tied to a document (check --adopt looks for it)']],
    ['missing, gone', [row('a.md', { docId: 'u-1' })], [gone('u-1')], [], ['recorded as document u-1, which the knowledge base does not hold (resend sends it again)']],
    ['missing, another version', [row('a.md', { docId: 'u-1' })], [present('u-1', ours('a.md', 'older'))], [], ['recorded as document u-1, which holds another version (sync_id older)']],
    ['missing, no version', [row('a.md', { docId: 'u-1' })], [present('u-1', { managed_by: 'lanying-kb' })], [], ['recorded as document u-1, which holds another version (sync_id none)']],
    ['removed', [row('a.md', { status: 'removed', docId: 'u-1' })], [u1], [], ['left its source; deleted after sync.deleteAfter, or by prune']],
    ['failed with a reason', [row('a.md', { status: 'refused', docId: null, lastError: 'no quota' })], [], [], ['refused: no quota']],
    ['failed without a reason', [row('a.md', { status: 'ingest-failed', docId: null, lastError: null })], [], [], ['ingest-failed: unknown reason']],
    ['interrupted', [row('a.md', { status: 'pending', docId: null })], [], [], ['its send was interrupted; the next sync sends it']],
    ['a version to delete', [row('a.md', { docId: 'u-1' })], [u1, present('u-90', ours('a.md', 'old-a.md'))], [version('a.md')], ['to delete: replaced by document u-1']],
    // A version recorded before targets were (target null) is this knowledge base's; another target's is not: its
    // document found here is only an old version.
    ['a version without a recorded target', [row('a.md', { docId: 'u-1' })], [u1, present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { target: null })], ['to delete: replaced by document u-1']],
    ['another target\'s version found here', [row('a.md', { docId: 'u-1' })], [u1, present('u-90', ours('a.md', 'old-a.md'))], [version('a.md', { target: OTHER })], ['an old version (sync_id old-a.md; the current one is s-a.md)']],
    // A document whose metadata names no path is tracked by no row, not even one whose key reads "null".
    ['no path in the metadata', [row('null', { docId: 'u-1' })], [present('u-1', ours('null', 's-null')), present('u-5', { managed_by: 'lanying-kb', source: 'docs', sync_id: 's-other' })], [], ['a lanying-kb document that the state does not track']],
    // A sync ID names one version of one document (its source, path and content): the copy is that version's.
    ['no path in the metadata, the sync ID of a tracked version', [row('null', { docId: 'u-1' })], [present('u-1', ours('null', 's-null')), present('u-5', { managed_by: 'lanying-kb', source: 'docs', sync_id: 's-null' })], [], ['a second copy of document u-1']],
    ['foreign', [], [present('u-5', ours('x.md', 's', 'elsewhere'))], [], ['a lanying-kb document of source "elsewhere", which this configuration does not have: left alone']],
    ['foreign without a source', [], [present('u-5', { managed_by: 'lanying-kb' })], [], ['a lanying-kb document of source "none", which this configuration does not have: left alone']],
    ['untracked', [], [present('u-5', ours('x.md', 's'))], [], ['a lanying-kb document that the state does not track']],
    ['a version of a removed row', [row('a.md', { status: 'removed', docId: null })], [present('u-5', ours('a.md', 's'))], [], ['a version of a document that left its source']],
    ['a copy of a document that left its source before its send was confirmed', [row('a.md', { status: 'removed', docId: null })], [present('u-5', ours('a.md', 's-a.md'))], [], ['the version of a document that left its source, never confirmed (sync_id s-a.md): deleted by prune, or recorded by check --adopt and deleted by the next sync --prune']],
    ['such a copy, failed in the listing', [row('a.md', { status: 'removed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'error')], [], ['the version of a document that left its source, never confirmed, whose ingestion failed (status error in the listing)']],
    ['such a copy, being ingested', [row('a.md', { status: 'removed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'wait')], [], ['the version of a document that left its source, never confirmed, being ingested (status wait): check --adopt records it once finished']],
    ['failed in the listing', [row('a.md', { status: 'unconfirmed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'error')], [], ['sent, but no confirmation was tied to a document (check --adopt looks for it)', 'the current version, whose ingestion failed (status error in the listing): resend sends it again']],
    ['being ingested', [row('a.md', { status: 'unconfirmed', docId: null })], [listed('u-5', ours('a.md', 's-a.md'), 'wait')], [], ['sent, but no confirmation was tied to a document (check --adopt looks for it)', 'the current version, being ingested (status wait): check --adopt records it once finished']],
    ['adoptable', [row('a.md', { status: 'unconfirmed', docId: null })], [present('u-5', ours('a.md', 's-a.md'))], [], ['sent, but no confirmation was tied to a document (check --adopt looks for it)', 'the current version (sync_id s-a.md), not tied to its document yet (check --adopt records it)']],
    ['a copy kept while unreadable', [row('a.md', { docId: 'u-1' })], [unreadable('u-1'), present('u-5', ours('a.md', 's-a.md'))], [], ['document u-1: round limit', 'a copy of the current version, kept while document u-1 cannot be read']],
    ['duplicate', [row('a.md', { docId: 'u-1' })], [u1, present('u-5', ours('a.md', 's-a.md'))], [], ['a second copy of document u-1']],
    ['stale', [row('a.md', { docId: 'u-1' })], [u1, present('u-5', ours('a.md', 'older'))], [], ['an old version (sync_id older; the current one is s-a.md)']],
    ['stale without sync IDs', [row('a.md', { status: 'pending', docId: null, syncId: null })], [present('u-5', { managed_by: 'lanying-kb', source: 'docs', path: 'a.md' })], [], ['its send was interrupted; the next sync sends it', 'an old version (sync_id none; the current one is unsent)']],
  ])('%s', (_name, records, docs, versions, details) => {
    expect(compare(records, docs, versions).findings.map((f) => f.detail)).toEqual(details);
  });
});

describe('DIFFERENCES', () => {
  it('every kind but foreign makes the state and the knowledge base differ (check exits 3)', () => {
    const all: FindingKind[] = ['missing', 'stale', 'duplicate', 'removed', 'extra', 'failed', 'unconfirmed', 'pending', 'adoptable', 'unreadable', 'foreign'];
    expect(all.filter((k) => DIFFERENCES.has(k))).toEqual(all.filter((k) => k !== 'foreign'));
    expect(DIFFERENCES.size).toBe(10);
  });
});
