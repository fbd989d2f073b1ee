import { maxDeleteExceeded } from '../sync/cleanup.js';
import type { Finding } from './compare.js';

/** What `prune` is about to delete from one knowledge base, and what it leaves. */
export interface PrunePlan {
  /** The documents to delete. */
  delete: Finding[];
  /** Prunable documents left in place because `sync.onRemove` is `keep` (removed and extra ones). */
  kept: Finding[];
  /** Set when the guarded deletions are over `sync.maxDelete`: none of them is deleted. */
  blocked: { count: number; reason: string } | undefined;
}

export interface PrunePolicy {
  onRemove: 'delete' | 'keep';
  maxDelete: { count: number; percent: number };
  /** The knowledge base's document count (the base of `maxDelete.percent`). */
  inKnowledgeBase: number;
}

/**
 * Plans a prune (pure). Versions proven replaced by an ingested successor, and copies of one, always go; documents
 * that left their sources and lanying-kb documents the state does not track go when `onRemove` is `delete`, and only
 * when there are no more of them than `maxDelete` allows.
 */
export function planPrune(findings: readonly Finding[], policy: PrunePolicy): PrunePlan {
  const prunable = findings.filter((f) => f.prunable && f.docId !== null);
  const leftSource = (f: Finding) => f.kind === 'removed' || f.kind === 'extra';
  const kept = policy.onRemove === 'keep' ? prunable.filter(leftSource) : [];
  const candidates = prunable.filter((f) => !kept.includes(f));
  const guarded = candidates.filter((f) => f.guarded);
  const reason = maxDeleteExceeded(guarded.length, policy.inKnowledgeBase, policy.maxDelete, 'would be pruned');
  if (reason !== undefined) return { delete: candidates.filter((f) => !f.guarded), kept, blocked: { count: guarded.length, reason } };
  return { delete: candidates, kept, blocked: undefined };
}
