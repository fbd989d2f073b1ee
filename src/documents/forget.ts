import type { ResolvedConfig } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { openRuntime } from '../runtime/open-runtime.js';
import { documentView, type DocumentView } from './list.js';
import { type DocumentSelection, selectDocuments } from './select.js';

export interface ForgetOptions {
  config: Pick<ResolvedConfig, 'api' | 'sync'>;
  /** Only documents of these sources (a source no longer configured included). */
  sources?: DocumentSelection['sources'];
  /** Only these keys. */
  keys?: DocumentSelection['keys'];
  /** Every tracked document (required when neither sources nor keys are given). */
  all?: boolean | undefined;
  /** Say what would be forgotten; change nothing. */
  dryRun?: boolean | undefined;
}

export interface ForgetResult {
  /** The documents forgotten (or, for a dry run, to forget). */
  forgotten: DocumentView[];
  /** Of those, the ones the state records a document in the knowledge base for: they stay there, untracked. */
  inKnowledgeBase: number;
}

/**
 * `lanying-kb forget`: the state forgets documents (their rows and the versions it meant to delete). Nothing is
 * sent or deleted: the next sync sends what is in its sources as new. For a knowledge base that was wiped or
 * replaced, or a source that left the configuration. Documents still in the knowledge base stay there untracked
 * (`check --walk` lists them as extra, `prune --walk` deletes them, `check --adopt` tracks them again).
 */
export async function forgetDocuments(options: ForgetOptions): Promise<ForgetResult> {
  const { sources, keys, all, dryRun } = options;
  if (!all && !sources?.length && !keys?.length) throw new UsageError('name the documents to forget: --source S, KEY..., or --all for every tracked document');
  await using runtime = openRuntime(options.config, { command: 'forget', readonly: dryRun ?? false });
  const { store } = runtime;
  const rows = store.isEmpty ? [] : selectDocuments(store, { sources, keys });
  const result: ForgetResult = { forgotten: rows.map(documentView), inKnowledgeBase: rows.filter((r) => r.docId !== null || r.uploadedHash !== null).length };
  if (dryRun) return result;
  store.transaction(() => {
    for (const row of rows) {
      store.delete(row.source, row.key);
      store.deleteKbVersions(row.source, row.key);
    }
    for (const source of new Set(rows.map((r) => r.source))) store.forgetEmptyFolders(source);
  });
  return result;
}
