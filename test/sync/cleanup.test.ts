import { describe, expect, it } from 'vitest';
import { type DocumentRecord, type KbVersionRecord, newDocumentRecord } from '../../src/state/store.js';
import { type DeletionPolicy, notOursReason, planDeletions } from '../../src/sync/cleanup.js';

const NOW = 10_000;
const policy = (fields: Partial<DeletionPolicy> = {}): DeletionPolicy => ({ deleteRemoved: true, removedDue: 'grace', maxDelete: { count: 1000, percent: 50 }, now: NOW, ...fields });
const removed = (key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord => ({ ...newDocumentRecord('docs', key, 'file', 1), status: 'removed', docId: `1-${key}`, deleteAfter: NOW - 1, ...fields });
const version = (id: number, fields: Partial<KbVersionRecord> = {}): KbVersionRecord => ({
  id,
  target: null,
  source: 'docs',
  key: `v${id}.md`,
  hash: 'h',
  syncId: 's',
  msgId: null,
  docId: `1-v${id}`,
  state: 'delete',
  reason: 'replaced by document 1-9',
  createdAt: 1,
  updatedAt: 1,
  ...fields,
});

describe('planDeletions', () => {
  it('deletes versions marked for deletion whose document is known', () => {
    const plan = planDeletions({ versions: [version(1), version(2, { docId: null }), version(3, { state: 'superseded' }), version(4, { state: 'deleted' })], removed: [], inKnowledgeBase: 10 }, policy());
    expect(plan.versions.map((v) => v.id)).toEqual([1]);
  });

  it('deletes removed documents past their grace period, known by document ID; all of them with removedDue all', () => {
    const candidates = { versions: [], removed: [removed('due'), removed('later', { deleteAfter: NOW + 1 }), removed('exact', { deleteAfter: NOW }), removed('unknown', { docId: null }), removed('back', { status: 'ingested' }), removed('no-grace', { deleteAfter: null })], inKnowledgeBase: 100 };
    // A removed row with no end of grace recorded is never due by time (null must not read as 0).
    expect(planDeletions(candidates, policy()).removed.map((r) => r.key)).toEqual(['due', 'exact']);
    expect(planDeletions(candidates, policy({ removedDue: 'all' })).removed.map((r) => r.key)).toEqual(['due', 'later', 'exact', 'no-grace']);
  });

  it('deletes the version a removed document replaced when its last send was never confirmed (no document ID)', () => {
    const candidates = { versions: [], removed: [removed('unconfirmed', { docId: null, prevDocId: '1-old' }), removed('nothing', { docId: null, prevDocId: null })], inKnowledgeBase: 10 };
    expect(planDeletions(candidates, policy()).removed.map((r) => r.key)).toEqual(['unconfirmed']);
  });

  it('deletes no removed document with onRemove keep, but still old versions', () => {
    const plan = planDeletions({ versions: [version(1)], removed: [removed('due')], inKnowledgeBase: 10 }, policy({ deleteRemoved: false }));
    expect([plan.versions.length, plan.removed.length, plan.blocked]).toEqual([1, 0, undefined]);
  });

  const many = (n: number) => Array.from({ length: n }, (_, i) => removed(`r${i}`));
  it.each([
    { name: 'at the count bound', removals: 3, count: 3, percent: 100, total: 3, blocked: false },
    { name: 'over the count bound', removals: 4, count: 3, percent: 100, total: 100, blocked: true },
    { name: 'a small knowledge base may lose its last files', removals: 10, count: 1000, percent: 50, total: 10, blocked: false },
    { name: 'over the share with more than 10', removals: 11, count: 1000, percent: 50, total: 20, blocked: true },
    { name: 'at the share', removals: 11, count: 1000, percent: 55, total: 20, blocked: false },
    { name: 'within the share', removals: 11, count: 1000, percent: 50, total: 100, blocked: false },
  ])('maxDelete: $name', ({ removals, count, percent, total, blocked }) => {
    const plan = planDeletions({ versions: [version(1)], removed: many(removals), inKnowledgeBase: total }, policy({ maxDelete: { count, percent } }));
    expect(plan.blocked !== undefined).toBe(blocked);
    if (blocked) expect(plan.blocked).toEqual({ removals, total, reason: expect.stringMatching(new RegExp(`^${removals} (of ${total} )?documents left their sources`)) });
    expect(plan.removed).toHaveLength(blocked ? 0 : removals);
    // Old versions are not held back by the guard.
    expect(plan.versions).toHaveLength(1);
  });
});

describe('notOursReason', () => {
  it.each<{ metadata: Record<string, string>; syncId: string | null; failed: boolean; reason: string | undefined }>([
    { metadata: { managed_by: 'lanying-kb', sync_id: 's1' }, syncId: 's1', failed: false, reason: undefined },
    { metadata: { managed_by: 'lanying-kb', sync_id: 's2' }, syncId: 's1', failed: false, reason: 'its metadata names another version (sync_id s2)' },
    { metadata: { managed_by: 'lanying-kb' }, syncId: 's1', failed: false, reason: 'its metadata names another version (sync_id none)' },
    { metadata: { managed_by: 'lanying-kb', sync_id: 'x' }, syncId: null, failed: false, reason: undefined },
    { metadata: { managed_by: 'someone', sync_id: 's1' }, syncId: 's1', failed: false, reason: 'its metadata does not say managed_by: lanying-kb' },
    { metadata: {}, syncId: 's1', failed: false, reason: 'its metadata does not say managed_by: lanying-kb' },
    { metadata: {}, syncId: 's1', failed: true, reason: undefined },
    { metadata: { title: 'x' }, syncId: 's1', failed: true, reason: 'its metadata does not say managed_by: lanying-kb' },
  ])('$metadata (expected $syncId, failed ingestion $failed)', ({ metadata, syncId, failed, reason }) => {
    expect(notOursReason(metadata, { syncId, failedIngestion: failed })).toBe(reason);
  });
});
