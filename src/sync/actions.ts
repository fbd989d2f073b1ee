/**
 * What the plan asks the apply stage to do: immutable actions, each for one document. The planner makes them (from
 * its decisions); `apply.ts` carries them out and reports outcomes.
 */

import type { ObservedItem } from '../sources/types.js';
import type { DocumentRecord } from '../state/store.js';
import type { ReportEntry } from './report.js';
import { type RowWrite, type TransitionContext, writeForDecision } from './transitions.js';
import type { MoveDecision } from './moves.js';

export type Action =
  /** Write a document's row (a decision that sends nothing: touched, skipped, removed, moved, failed to fetch). */
  | { readonly type: 'record'; readonly record: DocumentRecord }
  /** Forget a document's row (it never reached the knowledge base and left its source; or it moved away). */
  | { readonly type: 'forget'; readonly source: string; readonly key: string }
  /** Send a document's content to the chatbot. `entry` is its line in the report, which gets the send's outcome. */
  | {
      readonly type: 'send';
      readonly source: string;
      readonly key: string;
      readonly item: Readonly<ObservedItem & { hash: string }>;
      readonly previous: DocumentRecord | undefined;
      readonly entry: ReportEntry;
    };

/** The actions of one decision (none for a decision that changes nothing). */
export function actionsFor(source: string, decision: MoveDecision, entry: ReportEntry, ctx: TransitionContext): Action[] {
  if (decision.action === 'new' || decision.action === 'changed') {
    return [{ type: 'send', source, key: decision.key, item: decision.item, previous: decision.previous, entry }];
  }
  return writeActions(writeForDecision(source, decision, ctx));
}

function writeActions(write: RowWrite | undefined): Action[] {
  if (!write) return [];
  if (write.type === 'forget') return [{ type: 'forget', source: write.source, key: write.key }];
  const actions: Action[] = [{ type: 'record', record: write.record }];
  if (write.forget) actions.push({ type: 'forget', source: write.forget.source, key: write.forget.key });
  return actions;
}
