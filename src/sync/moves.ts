/**
 * Moves and copies: a new file whose content the knowledge base already holds is not sent again. When the document
 * that holds it left its source (or its file is gone), the new file is that document moved; when it is still there,
 * the new file is a copy (reported as skipped). Only files: a page is its URL, it cannot move.
 *
 * Pure given its lookups (`MoveLookups`), so that the rules are tested with a table and no database.
 */

import type { ObservedItem } from '../sources/types.js';
import { type DocumentRecord, IN_KNOWLEDGE_BASE } from '../state/store.js';
import type { Decision } from './decide.js';

/** What the move rules ask of the state, the file system and the run. */
export interface MoveLookups {
  /** Documents (any source) whose version in this knowledge base has this content. */
  sameContent(hash: string): readonly DocumentRecord[];
  /** Whether the document's file is still at its source (a watcher may see a rename's new path first). */
  exists(record: DocumentRecord): boolean;
  /** The document of this run that is sent with this content (`source:key`), if one is. */
  firstInRun(hash: string): string | undefined;
  /** Records that this run sends `sourceKey` with this content. */
  registerFirst(hash: string, sourceKey: string): void;
}

/** A decision after the move rules: a new file may have become a move. */
export type MoveDecision =
  | Decision
  /** The file is the document `from` under a new key: recorded as such; nothing is sent. */
  | { action: 'moved'; key: string; hash: string; item: ObservedItem & { hash: string }; from: DocumentRecord; reason: string };

/**
 * Applies the move and copy rules to one batch's decisions (of `source`). A document that a move takes over is no
 * longer reported as removed by the same batch.
 */
export function resolveMoves(source: string, decisions: readonly Decision[], lookups: MoveLookups): MoveDecision[] {
  const out: MoveDecision[] = [];
  const takenOver = new Set<string>();
  for (const decision of decisions) {
    if (decision.action !== 'new' || decision.item.kind !== 'file') {
      out.push(decision);
      continue;
    }
    const hash = decision.item.hash;
    const candidates = lookups.sameContent(hash).filter((r) => r.kind === 'file' && !(r.source === source && r.key === decision.key));
    const from = candidates.find((r) => !takenOver.has(`${r.source}:${r.key}`) && (r.status === 'removed' || (IN_KNOWLEDGE_BASE.has(r.status) && !lookups.exists(r))));
    if (from) {
      takenOver.add(`${from.source}:${from.key}`);
      const movedFrom = `${from.source}:${from.key}`;
      out.push({
        action: 'moved',
        key: decision.key,
        hash,
        item: decision.item,
        from,
        reason: `same content as ${movedFrom}, which left its source: recorded as a move, nothing sent`,
      });
      continue;
    }
    const twin = candidates.find((r) => IN_KNOWLEDGE_BASE.has(r.status));
    const where = lookups.firstInRun(hash) ?? (twin ? `${twin.source}:${twin.key}` : undefined);
    if (where !== undefined) {
      out.push({ action: 'skipped', key: decision.key, item: decision.item, previous: decision.previous, reason: `same content as ${where}, already sent`, repeated: false, record: true });
      continue;
    }
    lookups.registerFirst(hash, `${source}:${decision.key}`);
    out.push(decision);
  }
  // A removal in this batch of a document that a move took over is no removal.
  return out.filter((d) => !(d.action === 'removed' && takenOver.has(`${source}:${d.key}`)));
}
