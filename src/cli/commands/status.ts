import { formatBytes, formatDuration } from '../../util/units.js';
import { fetchLiveStatus, formatDaemonStatus } from '../../daemon/live-status.js';
import { orderStates, readStatusSummary, type StatusSummary } from '../../state/status-summary.js';
import { StateStore } from '../../state/store.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeLine, writeResult } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';

export interface StatusCommandOptions {
  failed?: number;
}

/** `lanying-kb status`: what the state holds: counts per source and status, recent runs, failed documents. */
export async function statusCommand(options: StatusCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  // The running daemon's live view when it answers (`daemon.http`, within about a second); else the state database.
  const live = await fetchLiveStatus(config);
  if (live) {
    if (globals.json) writeResult(ctx, globals, live);
    else {
      printStatus(ctx, live.stateFile ?? config.sync.stateDir, live);
      for (const line of formatDaemonStatus(live.daemon)) writeLine(ctx.stdout, line);
    }
    return EXIT.OK;
  }
  const store = StateStore.open(config.sync.stateDir, { readonly: true });
  try {
    const status = readStatusSummary(store, options.failed ?? 20);
    if (globals.json) {
      writeResult(ctx, globals, { stateFile: store.isEmpty ? null : store.filepath, ...status });
      return EXIT.OK;
    }
    if (store.isEmpty) {
      writeLine(ctx.stdout, `No state yet in ${config.sync.stateDir}: run "lanying-kb sync" first.`);
      return EXIT.OK;
    }
    printStatus(ctx, store.filepath, status);
    return EXIT.OK;
  } finally {
    store.close();
  }
}

function printStatus(ctx: CliContext, stateFile: string, status: StatusSummary): void {
  writeLine(ctx.stdout, `State: ${escapeControl(stateFile)}`);
  writeLine(ctx.stdout, 'Documents by source and status:');
  for (const [source, counts] of Object.entries(status.sources)) {
    const parts = orderStates(Object.keys(counts)).map((s) => `${counts[s]} ${s}`);
    writeLine(ctx.stdout, `  ${escapeControl(source)}: ${escapeControl(parts.join(', '))}`);
  }
  writeLine(ctx.stdout, 'Recent runs:');
  for (const run of status.runs) {
    const c = run.counts ?? {};
    const when = run.startedAt;
    const took = run.durationMs === null ? 'running' : formatDuration(run.durationMs);
    writeLine(ctx.stdout, `  #${run.id} ${run.mode} ${when} ${run.outcome} (${took}): sent ${c.sent ?? 0}, failed ${c.failed ?? 0}, unchanged ${c.unchanged ?? 0}${run.error ? ` — ${escapeControl(run.error)}` : ''}`);
  }
  if (status.failed.length) {
    writeLine(ctx.stdout, 'Failed documents:');
    for (const f of status.failed) {
      writeLine(ctx.stdout, `  ${escapeControl(`${f.source}:${f.key}`)}${f.status === 'failed' ? '' : ` [${f.status}]`} (${f.attempts} attempt(s), ${formatBytes(f.size ?? 0)}): ${escapeControl(f.lastError ?? 'unknown error')}`);
    }
  }
}
