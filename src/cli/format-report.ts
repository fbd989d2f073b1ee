import { formatBytes, formatDuration } from '../util/units.js';
import type { ReportEntry, SyncReport } from '../sync/report.js';
import { escapeControl } from '../util/terminal-text.js';

const ORDER = ['failed', 'new', 'changed', 'moved', 'removed', 'skipped', 'unchanged'] as const;

/** The plan or the result of a sync, as lines for people. */
export function* formatSyncReport(report: SyncReport, options: { verbose?: boolean } = {}): Generator<string> {
  const sorted = [...report.entries].sort((a, b) => ORDER.indexOf(a.action) - ORDER.indexOf(b.action));
  const shown = options.verbose ? sorted : sorted.filter((e) => e.action !== 'unchanged');
  if (report.dryRun) yield `Plan for ${escapeControl(describeSources(report.sources))} (dry run: nothing is sent, nothing recorded)`;
  // Note: a loop, not Math.max(...list): a spread of 100k+ arguments overflows the stack.
  let keyWidth = 10;
  for (const entry of shown) keyWidth = Math.max(keyWidth, displayKey(entry).length);
  keyWidth = Math.min(60, keyWidth);
  for (const entry of shown) yield `  ${formatEntry(entry, keyWidth, report.dryRun)}`;
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

function formatEntry(entry: ReportEntry, keyWidth: number, dryRun: boolean): string {
  const action = entry.outcome === 'failed' ? 'FAILED' : entry.outcome === 'vanished' ? 'vanished' : entry.action;
  const key = displayKey(entry);
  const detail = escapeControl(entry.error ?? entry.reason);
  const outcome = !dryRun && entry.outcome === 'sent' ? ' (sent)' : '';
  return `${action.padEnd(9)} ${key.padEnd(keyWidth)} ${formatBytes(entry.bytes).padStart(9)}  ${detail}${outcome}`;
}

/** `source:key`, escaped: a file name can hold any byte but `/` and NUL. */
function displayKey(entry: ReportEntry): string {
  return escapeControl(`${entry.source}:${entry.key}`);
}

function describeSources(sources: string[]): string {
  return sources.length === 1 ? `source "${sources[0]}"` : `${sources.length} sources`;
}
