import { syncOnce } from '../../sync/sync-once.js';
import type { SyncReport } from '../../sync/report.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { EXIT, exitCodeFor, exitCodeForSignal } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';
import { outputModeOf } from '../output-mode.js';
import { startProgressDisplay } from '../progress.js';
import { errorResult, reportError } from '../report-error.js';
import { createSyncOutput } from '../sync-output.js';
import { leftOutLines } from '../left-out.js';

export interface SyncCommandOptions {
  source?: string[];
  dryRun?: boolean;
  checksum?: boolean;
  /** commander's `--no-wait`: false when given. */
  wait?: boolean;
  prune?: boolean;
}

/**
 * `lanying-kb sync`: one run, printed as it goes (see `createSyncOutput`). Exit 0 when everything went, 3 when some
 * documents failed, 4 on an auth error, 75 when the API stayed unreachable, 130/143 when SIGINT/SIGTERM stopped it (a
 * second signal ends the process at once).
 */
export async function syncCommand(options: SyncCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const mode = outputModeOf(globals);
  const config = await loadCliConfig(globals, ctx);
  const dryRun = options.dryRun ?? false;
  const sources = options.source?.length ? options.source : config.sources.filter((s) => s.enabled).map((s) => s.name);

  let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
  const abort = new AbortController();
  const offs: (() => void)[] = [];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    offs.push(
      ctx.onSignal(signal, () => {
        stoppedBy ??= signal;
        // With the handlers gone, a second signal gets the default action: the process ends at once. Sends in flight
        // stay pending and are sent again (deduplicated) by the next run.
        for (const off of offs.splice(0)) off();
        abort.abort();
      }),
    );
  }

  const display = startProgressDisplay(ctx, { progressLine: mode.progress && !mode.jsonLines, statsIntervalMs: mode.statsIntervalMs });
  const output = createSyncOutput(ctx, mode, display, { dryRun, sources });
  let report: SyncReport;
  try {
    report = await syncOnce({
      config,
      sources: options.source,
      dryRun,
      checksum: options.checksum,
      wait: options.wait ?? true,
      prune: options.prune ? 'all' : 'none',
      // --json streams its entries; otherwise they are kept only for -v (unchanged documents are listed at the end).
      collectEntries: mode.verbose,
      onEntry: output.onEntry,
      listUnchanged: mode.verbose,
      onEvent: (event) => output.onEvent(event),
      signal: abort.signal,
      onNotify: (event) => {
        if (event.type === 'notify-failed') {
          display.print(ctx.stderr, `lanying-kb: warning: the ${event.channel} notification (${escapeControl(event.target)}) failed: ${escapeControl(event.error)}`);
        }
      },
    });
  } catch (error) {
    for (const off of offs.splice(0)) off();
    const partial = (error as { report?: SyncReport }).report;
    const exitCode = stoppedBy ? exitCodeForSignal(stoppedBy) : exitCodeFor(error);
    if (!partial) {
      display.stop();
      // A --json document already begun is closed with the error (its line goes to stderr).
      const closed = output.abandon(errorResult(error, exitCode));
      if (stoppedBy) return interrupted(ctx, stoppedBy);
      return closed ? reportError(error, { ...globals, json: false, jsonLines: false }, ctx) : reportError(error, globals, ctx);
    }
    output.finish(partial, exitCode);
    if (stoppedBy) return interrupted(ctx, stoppedBy);
    // The report (with its exit code) is the JSON output; the error's line goes to stderr.
    reportError(error, { ...globals, json: false, jsonLines: false }, ctx);
    return exitCode;
  } finally {
    display.stop();
  }
  for (const off of offs.splice(0)) off();
  if (dryRun && mode.verbose) for await (const line of leftOutLines(config, report.sources)) output.leftOut(line);
  // 3 when a document of the run failed, was refused, failed to be ingested or is unconfirmed, or deletions were blocked.
  const exitCode = stoppedBy ? exitCodeForSignal(stoppedBy) : report.outcome === 'ok' ? EXIT.OK : EXIT.FAILED;
  output.finish(report, exitCode);
  return stoppedBy ? interrupted(ctx, stoppedBy) : exitCode;
}

function interrupted(ctx: CliContext, signal: 'SIGINT' | 'SIGTERM'): number {
  ctx.stderr.write(`lanying-kb: stopped by ${signal}; documents in flight are sent again (once) by the next run\n`);
  return exitCodeForSignal(signal);
}
