import { formatBytes, formatDuration } from '../util/units.js';
import type { ReportEntry, SyncReport } from '../sync/report.js';
import { escapeControl } from '../util/terminal-text.js';

/** Keys are padded to this width, so that the sizes of short names line up (lines are printed as they come). */
const KEY_WIDTH = 40;

/**
 * One document of a plan or a run, for people: `new       docs:a.md    5 B  first seen (sent)`. The key and the
 * reason are escaped whole (line breaks too): a file name cannot forge a line.
 */
export function formatEntry(entry: ReportEntry, dryRun: boolean): string {
  const action = entry.outcome === 'failed' || (entry.action === 'failed' && entry.outcome === undefined) ? 'FAILED' : entry.outcome === 'vanished' ? 'vanished' : entry.action;
  const key = escapeControl(`${entry.source}:${entry.key}`);
  const detail = escapeControl(entry.error ?? entry.reason);
  const moved = entry.movedFrom ? ` (from ${escapeControl(entry.movedFrom)})` : '';
  const outcome = !dryRun && entry.outcome === 'sent' ? ' (sent)' : '';
  return `${action.padEnd(9)} ${key.padEnd(KEY_WIDTH)} ${formatBytes(entry.bytes).padStart(9)}  ${detail}${moved}${outcome}`;
}

const ORDER = ['failed', 'new', 'changed', 'moved', 'removed', 'skipped', 'unchanged'] as const;

/**
 * A whole report at once (`resend`, which collects its entries): the entries grouped by action (unchanged ones with
 * `verbose`), then the summary. `sync` prints as it goes instead (`sync-output.ts`).
 */
export function* formatSyncReport(report: SyncReport, options: { verbose?: boolean | undefined } = {}): Generator<string> {
  const sorted = [...report.entries].sort((a, b) => ORDER.indexOf(a.action) - ORDER.indexOf(b.action));
  for (const entry of sorted) if (options.verbose || entry.action !== 'unchanged') yield `  ${formatEntry(entry, report.dryRun)}`;
  yield* formatSummary(report);
}

/** The last lines of a plan or a run: its counts, and what stopped it. */
export function* formatSummary(report: SyncReport): Generator<string> {
  const c = report.counts;
  if (report.dryRun) {
    yield (
      `Would send ${c.new + c.changed} document(s), ${formatBytes(c.bytesPlanned)}: ${c.new} new, ${c.changed} changed; ` +
        `${c.moved} moved, ${c.removed} removed from source, ${c.skipped} skipped, ${c.failed} failed, ${c.unchanged} unchanged.`
    );
  } else {
    yield (
      `${report.outcome === 'ok' ? 'Done' : report.outcome === 'partial' ? 'Done with failures' : 'Stopped'} in ${formatDuration(report.durationMs)}: ` +
        `sent ${c.sent} (${formatBytes(c.bytesSent)}; ${c.new} new, ${c.changed} changed), ${c.failed} failed, ${c.moved} moved, ` +
        `${c.removed} removed from source, ${c.skipped} skipped, ${c.unchanged} unchanged.`
    );
  }
  const kb = [
    [c.ingested, 'ingested'],
    [c.ingestFailed, 'failed to ingest'],
    [c.refused, 'refused'],
    [c.unconfirmed, 'unconfirmed'],
    [c.deleted, 'deleted'],
  ].filter(([n]) => (n as number) > 0);
  if (!report.dryRun && kb.length > 0) yield `Knowledge base: ${kb.map(([n, what]) => `${n} ${what}`).join(', ')}.`;
  if (report.deleteBlocked) yield `Nothing that left its sources was deleted: ${escapeControl(report.deleteBlocked)}; raise sync.maxDelete if this is intended.`;
  for (const warning of report.warnings ?? []) yield `Warning: ${escapeControl(warning)}`;
  if (report.error) yield `Stopped by: ${escapeControl(report.error)}`;
}
