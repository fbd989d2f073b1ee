import { syncOnce } from '../../sync/sync-once.js';
import type { SyncReport } from '../../sync/report.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLine, writeLines } from '../context.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { formatSyncReport } from '../format-report.js';
import { loadCliConfig } from '../load-config.js';
import { reportError } from '../report-error.js';
import { escapeControl } from '../../util/terminal-text.js';
import { createProgressReporter } from '../progress.js';

export interface SyncCommandOptions {
  source?: string[];
  dryRun?: boolean;
  checksum?: boolean;
  /** commander's `--no-wait`: false when given. */
  wait?: boolean;
  prune?: boolean;
}

/** `lanying-kb sync`: one run; exit 0 when everything went, 3 when some documents failed, 4 on an auth error. */
export async function syncCommand(options: SyncCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const progress = createProgressReporter(ctx, !globals.json);
  const abort = new AbortController();
  const offs = (['SIGINT', 'SIGTERM'] as const).map((signal) => ctx.onSignal(signal, () => abort.abort()));
  let report: SyncReport;
  try {
    report = await syncOnce({
      config,
      sources: options.source,
      dryRun: options.dryRun,
      checksum: options.checksum,
      wait: options.wait ?? true,
      prune: options.prune ? 'all' : 'none',
      listUnchanged: globals.verbose,
      onEvent: progress.onEvent,
      signal: abort.signal,
      onNotify: (event) => {
        if (event.type === 'notify-failed') writeLine(ctx.stderr, `lanying-kb: warning: the ${event.channel} notification (${escapeControl(event.target)}) failed: ${escapeControl(event.error)}`);
      },
    });
  } catch (error) {
    progress.stop();
    const partial = (error as { report?: SyncReport }).report;
    if (partial && !globals.json) writeLines(ctx.stdout, formatSyncReport(partial, { verbose: globals.verbose }));
    if (partial && globals.json) {
      writeJson(ctx.stdout, { ...partial, exitCode: exitCodeFor(error) });
      return reportError(error, { ...globals, json: false }, ctx);
    }
    return reportError(error, globals, ctx);
  } finally {
    for (const off of offs) off();
  }
  progress.stop();
  // 3 when a document of the run failed, was refused, failed to be ingested or is unconfirmed, or deletions were blocked.
  const exitCode = report.outcome === 'ok' ? EXIT.OK : EXIT.FAILED;
  if (globals.json) writeJson(ctx.stdout, { ...report, exitCode });
  else writeLines(ctx.stdout, formatSyncReport(report, { verbose: globals.verbose }));
  return exitCode;
}
