import type { KnowledgeBasePrune, PruneOutcome } from '../../audit/prune.js';
import { pruneKnowledgeBase } from '../../audit/prune.js';
import type { Finding } from '../../audit/compare.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLine, writeLines } from '../context.js';
import { createCountProgress } from '../count-progress.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';

export interface PruneCommandOptions {
  source?: string[];
  dryRun?: boolean;
  walk?: boolean;
}

/** `lanying-kb prune`: exit 0 when everything planned went, 3 when sync.maxDelete held deletions back or one failed. */
export async function pruneCommand(options: PruneCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const progress = createCountProgress(ctx, !globals.json, 'reading {kb}: document {value}/{total}');
  const abort = new AbortController();
  const offs = (['SIGINT', 'SIGTERM'] as const).map((signal) => ctx.onSignal(signal, () => abort.abort()));
  try {
    const report = await pruneKnowledgeBase({
      config,
      sources: options.source,
      dryRun: options.dryRun,
      walk: options.walk,
      signal: abort.signal,
      onProgress: progress.update,
      onOutcome: globals.json
        ? undefined
        : (outcome) => {
            progress.stop();
            writeLine(ctx.stdout, formatOutcome(outcome));
          },
    });
    progress.stop();
    const exitCode = report.blocked || report.failed > 0 ? EXIT.FAILED : EXIT.OK;
    if (globals.json) writeJson(ctx.stdout, { ...report, exitCode });
    else writeLines(ctx.stdout, report.knowledgeBases.flatMap((kb) => [...formatPrune(kb, report.dryRun)]));
    return exitCode;
  } finally {
    progress.stop();
    for (const off of offs) off();
  }
}

function where(f: Finding): string {
  return escapeControl(f.source === null ? '(no source)' : `${f.source}:${f.key ?? '?'}`);
}

function formatOutcome(o: PruneOutcome): string {
  const what = o.result === 'deleted' ? 'deleted' : o.result === 'already-gone' ? 'gone' : o.result === 'not-ours' ? 'KEPT' : 'FAILED';
  return `  ${what.padEnd(8)} ${o.finding.kind.padEnd(10)} ${where(o.finding)} ${o.finding.docId ?? ''}${o.reason ? `: ${escapeControl(o.reason)}` : ''}`;
}

export function* formatPrune(kb: KnowledgeBasePrune, dryRun: boolean): Generator<string> {
  const name = escapeControl(kb.target.kbName);
  if (dryRun) for (const f of kb.plan.delete) yield `  would delete ${f.kind.padEnd(10)} ${where(f)} ${f.docId ?? ''}: ${escapeControl(f.detail)}`;
  const deleted = kb.outcomes.filter((o) => o.result === 'deleted' || o.result === 'already-gone').length;
  const failed = kb.outcomes.length - deleted;
  if (dryRun) yield `Knowledge base "${name}": would delete ${kb.plan.delete.length} document(s) (dry run: nothing deleted).`;
  else yield `Knowledge base "${name}": deleted ${deleted} document(s)${failed ? `, ${failed} not deleted` : ''}.`;
  if (kb.plan.kept.length) yield `Kept ${kb.plan.kept.length} document(s) that left their sources: sync.onRemove is "keep".`;
  if (kb.plan.blocked) yield `Held back ${kb.plan.blocked.count} deletion(s): ${escapeControl(kb.plan.blocked.reason)}; raise sync.maxDelete if this is intended.`;
}
