import { checkKnowledgeBase, type KnowledgeBaseCheck } from '../../audit/check.js';
import { DIFFERENCES, type Finding } from '../../audit/compare.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLines } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';
import { createCountProgress } from '../count-progress.js';

export interface CheckCommandOptions {
  source?: string[];
  walk?: boolean;
  adopt?: boolean;
}

/** `lanying-kb check`: exit 0 when the state and the knowledge base agree, 3 when they differ. */
export async function checkCommand(options: CheckCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const progress = createCountProgress(ctx, !globals.json, 'reading {kb}: document {value}/{total}');
  const abort = new AbortController();
  const offs = (['SIGINT', 'SIGTERM'] as const).map((signal) => ctx.onSignal(signal, () => abort.abort()));
  try {
    const report = await checkKnowledgeBase({ config, sources: options.source, walk: options.walk, adopt: options.adopt, signal: abort.signal, onProgress: progress.update });
    progress.stop();
    const exitCode = report.differs ? EXIT.FAILED : EXIT.OK;
    if (globals.json) writeJson(ctx.stdout, { ...report, exitCode });
    else writeLines(ctx.stdout, report.knowledgeBases.flatMap((kb) => [...formatCheck(kb, globals.verbose ?? false)]));
    return exitCode;
  } finally {
    progress.stop();
    for (const off of offs) off();
  }
}

const HINTS: Partial<Record<Finding['kind'], string>> = {
  missing: 'resend sends them again',
  stale: 'prune deletes them',
  duplicate: 'prune deletes them',
  removed: 'prune deletes them (or the daemon, after sync.deleteAfter)',
  extra: 'prune deletes them',
  failed: 'documents --status ingest-failed,refused,failed says why',
  unconfirmed: 'check --adopt looks for them',
  adoptable: 'check --adopt records them',
  pending: 'the next sync or the daemon settles them',
};

/** One knowledge base's check, as lines for people. */
export function* formatCheck(kb: KnowledgeBaseCheck, verbose: boolean): Generator<string> {
  const t = kb.target;
  yield `Knowledge base "${escapeControl(t.kbName)}" (chatbot ${t.chatbotUserId}, sources ${escapeControl(kb.sources.join(', '))}): ${kb.total} document(s); ${kb.matching} tracked document(s) match.`;
  const shown = kb.findings.filter((f) => verbose || f.kind !== 'foreign');
  let width = 10;
  for (const f of shown) width = Math.max(width, where(f).length);
  width = Math.min(width, 60);
  for (const f of shown) yield `  ${f.kind.padEnd(11)} ${where(f).padEnd(width)} ${(f.docId ?? '-').padEnd(12)} ${escapeControl(f.detail)}`;
  const differences = kb.findings.filter((f) => DIFFERENCES.has(f.kind));
  if (kb.adopted > 0) yield `Adopted ${kb.adopted} document(s): the state now ties them to their documents.`;
  if (differences.length === 0) yield 'The knowledge base holds what the state records.';
  else {
    const counts = Object.entries(kb.counts).filter(([k, n]) => n > 0 && DIFFERENCES.has(k as Finding['kind']));
    yield `${differences.length} difference(s): ${counts.map(([k, n]) => `${n} ${k}${HINTS[k as Finding['kind']] ? ` (${HINTS[k as Finding['kind']]})` : ''}`).join(', ')}.`;
  }
  if (kb.counts.foreign > 0) yield `${kb.counts.foreign} document(s) of sources this configuration does not have are left alone (--verbose lists them).`;
  if (kb.notManaged > 0) yield `${kb.notManaged} document(s) examined are not lanying-kb's (no managed_by: lanying-kb in their metadata): left alone.`;
  if (kb.unexamined > 0) yield `${kb.unexamined} document(s) were not examined: check --walk reads every document ID (one command each).`;
}

function where(f: Finding): string {
  return escapeControl(f.source === null ? '(no source)' : `${f.source}:${f.key ?? '?'}`);
}
