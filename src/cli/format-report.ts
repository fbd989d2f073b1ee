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
    const lifecycle = [
      c.ingested ? `${c.ingested} ingested` : '',
      c.unconfirmed ? `${c.unconfirmed} unconfirmed` : '',
      c.ingestFailed ? `${c.ingestFailed} failed to be ingested` : '',
      c.refused ? `${c.refused} refused` : '',
      c.deleted ? `${c.deleted} deleted from the knowledge base` : '',
    ].filter(Boolean);
    if (lifecycle.length > 0) yield `The chatbot: ${lifecycle.join(', ')}.`;
  }
  if (report.deleteBlocked) yield `Not deleted: ${escapeControl(report.deleteBlocked)}`;
  if (report.error) yield `Stopped by: ${escapeControl(report.error)}`;
}
