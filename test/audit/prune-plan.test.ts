import { describe, expect, it } from 'vitest';
import type { Finding, FindingKind } from '../../src/audit/compare.js';
import { planPrune, type PrunePolicy } from '../../src/audit/prune-plan.js';

/**
 * What `prune` deletes, as a table: a prunable finding with a document ID goes, except what left its source under
 * `onRemove: keep`; the guarded ones (left their source, or found by the survey only) count against
 * `sync.maxDelete`, and over it none of them goes while the unguarded ones (proven replaced) still do.
 */

let next = 0;
const f = (kind: FindingKind, guarded: boolean, fields: Partial<Finding> = {}): Finding => ({ kind, source: 'docs', key: `${kind}-${++next}`, docId: `u-${next}`, detail: '', prunable: true, guarded, ...fields });
const POLICY: PrunePolicy = { onRemove: 'delete', maxDelete: { count: 3, percent: 50 }, inKnowledgeBase: 100 };

describe('planPrune', () => {
  const stale = f('stale', false);
  const staleGuarded = f('stale', true);
  const duplicate = f('duplicate', false);
  const duplicateGuarded = f('duplicate', true);
  const removed = f('removed', true);
  const extra = f('extra', true);
  const notPrunable = f('failed', false, { prunable: false });
  const noDocument = f('stale', false, { docId: null });

  it.each<{ name: string; findings: Finding[]; policy?: Partial<PrunePolicy>; del: Finding[]; kept?: Finding[]; blocked?: { count: number; reason: string } }>([
    { name: 'nothing to prune', findings: [], del: [] },
    { name: 'every prunable finding with a document', findings: [stale, staleGuarded, duplicate, duplicateGuarded, removed, extra], policy: { maxDelete: { count: 4, percent: 50 } }, del: [stale, staleGuarded, duplicate, duplicateGuarded, removed, extra] },
    { name: 'never what is not prunable, nor what names no document', findings: [notPrunable, noDocument, stale], del: [stale] },
    { name: 'onRemove keep: what left its source stays, old versions and copies go', findings: [stale, duplicateGuarded, removed, extra], policy: { onRemove: 'keep' }, del: [stale, duplicateGuarded], kept: [removed, extra] },
    { name: 'onRemove keep: what is kept is not counted against maxDelete', findings: [removed, extra, f('removed', true), f('extra', true), staleGuarded], policy: { onRemove: 'keep', maxDelete: { count: 1, percent: 50 } }, del: [staleGuarded], kept: [removed, extra, expect.anything(), expect.anything()] as Finding[] },
    { name: 'at maxDelete.count', findings: [stale, removed, extra, staleGuarded], del: [stale, removed, extra, staleGuarded] },
    {
      name: 'over maxDelete.count: no guarded one goes, the proven-replaced ones still do',
      findings: [stale, removed, extra, staleGuarded, duplicateGuarded, duplicate],
      del: [stale, duplicate],
      blocked: { count: 4, reason: '4 documents would be pruned, more than sync.maxDelete.count (3)' },
    },
    {
      name: 'unguarded deletions never count',
      findings: [stale, duplicate, f('stale', false), f('stale', false), f('duplicate', false)],
      policy: { maxDelete: { count: 0, percent: 0 } },
      del: [stale, duplicate, expect.anything(), expect.anything(), expect.anything()] as Finding[],
    },
  ])('$name', ({ findings, policy, del, kept, blocked }) => {
    expect(planPrune(findings, { ...POLICY, ...policy })).toEqual({ delete: del, kept: kept ?? [], blocked });
  });

  it('the share of maxDelete is of this configuration\'s documents in the knowledge base', () => {
    const many = Array.from({ length: 11 }, () => f('extra', true));
    const policy = { ...POLICY, maxDelete: { count: 1000, percent: 50 } };
    expect(planPrune(many, { ...policy, inKnowledgeBase: 22 })).toEqual({ delete: many, kept: [], blocked: undefined });
    expect(planPrune(many, { ...policy, inKnowledgeBase: 21 })).toEqual({ delete: [], kept: [], blocked: { count: 11, reason: '11 of 21 documents would be pruned (52 %), more than sync.maxDelete.percent (50 %)' } });
  });
});
