import { resendDocuments } from '../../documents/resend.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLine, writeLines } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { formatSyncReport } from '../format-report.js';
import { loadCliConfig } from '../load-config.js';
import { createProgressReporter } from '../progress.js';

export interface ResendCommandOptions {
  source?: string[];
  all?: boolean;
  dryRun?: boolean;
  /** commander's `--no-wait`: false when given. */
  wait?: boolean;
}

/** `lanying-kb resend`: marks documents to send again and syncs their sources; exit as `sync`. */
export async function resendCommand(options: ResendCommandOptions, globals: GlobalOptions, ctx: CliContext, keys: string[]): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const progress = createProgressReporter(ctx, !globals.json);
  const abort = new AbortController();
  const offs = (['SIGINT', 'SIGTERM'] as const).map((signal) => ctx.onSignal(signal, () => abort.abort()));
  try {
    const result = await resendDocuments({
      config,
      sources: options.source,
      keys,
      all: options.all,
      dryRun: options.dryRun,
      wait: options.wait ?? true,
      onEvent: progress.onEvent,
      signal: abort.signal,
    });
    progress.stop();
    const exitCode = result.report && result.report.outcome !== 'ok' ? EXIT.FAILED : EXIT.OK;
    if (globals.json) {
      writeJson(ctx.stdout, { ...result, exitCode });
      return exitCode;
    }
    for (const left of result.left) writeLine(ctx.stdout, `  not sent again: ${escapeControl(`${left.document.source}:${left.document.key}`)}: ${escapeControl(left.reason)}`);
    if (options.dryRun) {
      for (const d of result.marked) writeLine(ctx.stdout, `  would send again: ${escapeControl(`${d.source}:${d.key}`)}${d.docId ? ` (replacing document ${escapeControl(d.docId)})` : ''}`);
      writeLine(ctx.stdout, `Would send ${result.marked.length} document(s) again (dry run: nothing changed).`);
    } else {
      writeLine(ctx.stdout, `Marked ${result.marked.length} document(s) to send again.`);
      if (result.report) writeLines(ctx.stdout, formatSyncReport(result.report, { verbose: globals.verbose }));
    }
    return exitCode;
  } finally {
    progress.stop();
    for (const off of offs) off();
  }
}
