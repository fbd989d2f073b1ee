/**
 * Plans one batch of a source's observation: reads what the state knows of the batch's scope, has the source read
 * the content it must (`contentNeeded`), decides (`decide`), applies the move and copy rules (`resolveMoves`), and
 * turns the decisions into actions. The only I/O is the state read and the source's hashing; the rules are in
 * `decide.ts` and `moves.ts`.
 */

import type { ResolvedSource } from '../sources/registry.js';
import type { ObservationBatch, ObservedItem, SourceAdapter } from '../sources/types.js';
import type { DocumentRecord, StateStore } from '../state/store.js';
import { type Action, actionsFor } from './actions.js';
import { contentNeeded, decide } from './decide.js';
import { type MoveDecision, type MoveLookups, resolveMoves } from './moves.js';
import type { ReportEntry } from './report.js';
import type { TransitionContext } from './transitions.js';

export interface PlanBatchContext extends TransitionContext {
  /** Failed ingestions of one content before it is quarantined. */
  maxIngestAttempts: number;
  /** Documents this run may still send (`sync.maxSendsPerRun`); sends beyond it wait for a later run. */
  sendBudget: { left: number };
  store: StateStore;
  adapter: SourceAdapter;
  source: ResolvedSource;
  /** Hash every item, not only those whose stat changed. */
  checksum: boolean;
  signal: AbortSignal;
  moves: MoveLookups;
}

/** One planned batch: its decisions (in order) and the actions they need. */
export interface PlannedBatch {
  decisions: MoveDecision[];
  actions: Action[];
  /** Keys of items that vanished before they could be read: nothing was decided for them. */
  vanished: string[];
}

/**
 * Plans `batch`. `onDecision` is called for each decision in order and returns its report entry (which a send
 * action carries, to receive the send's outcome).
 */
export async function planBatch(
  batch: ObservationBatch,
  ctx: PlanBatchContext,
  onDecision: (decision: MoveDecision) => ReportEntry,
): Promise<PlannedBatch> {
  const known = knownFor(ctx.store, ctx.source.name, batch);
  const { items, vanished } = await withContent(batch.items, known, ctx);
  // Neither sent nor taken for removed: the next observation, behind the source's checks, says whether it left.
  for (const key of vanished) known.delete(key);
  const decisions = withinBudget(resolveMoves(ctx.source.name, decide({ ...batch, items }, known, ctx), ctx.moves), ctx.sendBudget);
  const actions: Action[] = [];
  for (const decision of decisions) {
    const entry = onDecision(decision);
    for (const action of actionsFor(ctx.source.name, decision, entry, ctx)) actions.push(action);
  }
  return { decisions, actions, vanished };
}

/** Sends over the budget become skips that record nothing: the next run sends them. */
function withinBudget(decisions: MoveDecision[], budget: { left: number }): MoveDecision[] {
  return decisions.map((decision) => {
    if (decision.action !== 'new' && decision.action !== 'changed') return decision;
    if (budget.left > 0) {
      budget.left--;
      return decision;
    }
    return { action: 'skipped', key: decision.key, item: decision.item, previous: decision.previous, reason: 'over sync.maxSendsPerRun: sent by a later run', repeated: false, record: false };
  });
}

/** What the state knows of the documents in the batch's scope (and of its items). */
export function knownFor(store: StateStore, source: string, batch: ObservationBatch): Map<string, DocumentRecord> {
  const scope = batch.scope;
  switch (scope.kind) {
    case 'all':
      return store.documentsOf(source);
    case 'folder':
      return store.documentsInDir(source, scope.dir, scope.part);
    case 'keys': {
      const known = new Map<string, DocumentRecord>();
      for (const key of [...scope.keys, ...batch.items.map((i) => i.key)]) {
        const record = known.has(key) ? undefined : store.get(source, key);
        if (record) known.set(key, record);
      }
      return known;
    }
    case 'other-folders': {
      const known = new Map<string, DocumentRecord>();
      const below = (dir: string, folder: string) => dir === folder || dir.startsWith(`${folder}/`);
      for (const dir of store.dirsOf(source)) {
        if (scope.listed.has(dir) || scope.incomplete.some((folder) => below(dir, folder))) continue;
        for (const [key, record] of store.documentsInDir(source, dir)) known.set(key, record);
      }
      return known;
    }
  }
}

/**
 * The items with their content hash where `decide` needs one: read by the source for those whose stat changed (or
 * all, with `checksum`). An item that vanished before it could be read is dropped, and its key returned in
 * `vanished`: it may have gone with its whole folder (a disk unmounted after the scan), so this batch cannot say it
 * left its source. One that cannot be read is skipped as unreadable.
 */
async function withContent(
  items: readonly ObservedItem[],
  known: ReadonlyMap<string, DocumentRecord>,
  ctx: PlanBatchContext,
): Promise<{ items: ObservedItem[]; vanished: string[] }> {
  const needed: number[] = [];
  items.forEach((item, index) => {
    if (contentNeeded(item, known.get(item.key), { checksum: ctx.checksum })) needed.push(index);
  });
  if (needed.length === 0) return { items: items as ObservedItem[], vanished: [] };
  const results = await ctx.adapter.hash(
    ctx.source,
    needed.map((i) => items[i] as ObservedItem),
    { signal: ctx.signal },
  );
  const out = [...items];
  const dropped = new Set<number>();
  needed.forEach((index, n) => {
    const item = items[index] as ObservedItem;
    const result = results[n];
    if (result === undefined || 'failure' in result) {
      if (result?.gone) dropped.add(index);
      else out[index] = { ...item, skip: result?.skip ?? { code: 'unreadable', reason: result?.failure ?? 'unreadable' }, payload: undefined };
      return;
    }
    out[index] = { ...item, hash: result.hash };
  });
  if (dropped.size === 0) return { items: out, vanished: [] };
  return { items: out.filter((_, i) => !dropped.has(i)), vanished: [...dropped].map((i) => (items[i] as ObservedItem).key) };
}
