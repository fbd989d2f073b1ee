import type { SyncEvent } from '../sync/engine.js';
import type { ReportEntry, SyncReport } from '../sync/report.js';
import { escapeControl } from '../util/terminal-text.js';
import type { CliContext } from './context.js';
import { StreamedJsonObject } from './json-stream.js';
import { formatEntry, formatSummary } from './format-report.js';
import type { LeftOutLine } from './left-out.js';
import type { OutputMode } from './output-mode.js';
import type { ProgressDisplay } from './progress.js';

/** What `sync` prints, as the run goes: see {@link createSyncOutput}. */
export interface SyncOutput {
  /** The engine's events. */
  onEvent(event: SyncEvent): void;
  /** Where the run streams its report's entries (`--json`), when the output takes them as they settle. */
  onEntry?: ((entry: ReportEntry) => void) | undefined;
  /** A line of a dry run with `-v`: a path the rules left out. */
  leftOut(line: LeftOutLine): void;
  /** The run ended (possibly stopped: `report.error`); prints the rest and the summary. */
  finish(report: SyncReport, exitCode: number): void;
  /**
   * The run failed without a report: closes what was printed of it with `result` (`--json`) and says whether it did;
   * when not, the caller prints the error its own way.
   */
  abandon(result: Record<string, unknown>): boolean;
}

/**
 * The output of `lanying-kb sync`, by mode:
 * - people (the default): a line per decision that changes something (moved, removed, a new skip, a failure) as it
 *   is made, a line per document sent or failed as the send ends; in a dry run every decision of the plan. `-v` adds
 *   skips repeated from earlier runs and, at the end, the unchanged documents; `-q` keeps failures and the summary.
 *   The summary line ends it. Lines go out as they happen, also into a pipe.
 * - `--json`: the report as one JSON document: its `entries` written as they settle (a send's once it ended and the
 *   chatbot answered), the counts and the rest at the end; nothing is collected.
 * - `--json-lines`: one JSON object per line as things happen (`decision`, `sent`, `failed`, `planned`), then
 *   `summary`; nothing is collected.
 */
export function createSyncOutput(ctx: CliContext, mode: OutputMode, display: ProgressDisplay, run: { dryRun: boolean; sources: readonly string[] }): SyncOutput {
  const { dryRun } = run;
  const out = (line: string) => display.print(ctx.stdout, escapeControl(line, { keepNewlines: true }));
  const jsonLine = (value: Record<string, unknown>) => display.print(ctx.stdout, JSON.stringify({ type: value.type, time: new Date().toISOString(), ...value }));

  if (mode.json) {
    const leftOut: LeftOutLine['json'][] = [];
    const document = new StreamedJsonObject(ctx.stdout, 'entries');
    return {
      onEvent: (event) => display.onEvent(event),
      onEntry: (entry) => document.push(entry),
      leftOut: (line) => void leftOut.push(line.json),
      finish: (report, exitCode) => {
        display.stop();
        document.end({ ...report, ...(leftOut.length ? { leftOut } : {}), exitCode });
      },
      abandon: (result) => {
        if (!document.started) return false;
        document.end(result);
        return true;
      },
    };
  }

  if (mode.jsonLines) {
    return {
      onEvent(event) {
        display.onEvent(event);
        switch (event.type) {
          case 'decision':
            // Unchanged documents come last (collected with -v), as with people's output.
            if (event.entry.action === 'unchanged') break;
            if (mode.verbose || !event.repeated || event.entry.action !== 'skipped') jsonLine({ type: 'decision', ...event.entry, repeated: event.repeated });
            break;
          case 'sent':
            jsonLine({ type: 'sent', ...event.entry, durationMs: Math.round(event.durationMs) });
            break;
          case 'failed':
            jsonLine({ type: 'failed', ...event.entry, error: event.entry.error ?? messageOf(event.error) });
            break;
          case 'planned':
            jsonLine({ type: 'planned', sources: event.sources, toSend: event.toSend, bytes: event.bytes });
            break;
          case 'confirmed':
            jsonLine({ type: 'confirmed', ...event.confirmation });
            break;
          case 'deleted':
            jsonLine({ type: 'deleted', ...event.deletion });
            break;
          case 'warning':
            jsonLine({ type: 'warning', message: event.message });
            break;
        }
      },
      leftOut: (line) => jsonLine({ type: 'left-out', ...line.json }),
      abandon: () => false,
      finish(report, exitCode) {
        display.stop();
        // With -v the unchanged documents were collected: they come last, as decisions.
        for (const entry of report.entries) if (entry.action === 'unchanged') jsonLine({ type: 'decision', ...entry, repeated: false });
        const { entries: _entries, ...summary } = report;
        jsonLine({ type: 'summary', ...summary, exitCode });
      },
    };
  }

  const print = (entry: ReportEntry) => out(`  ${formatEntry(entry, dryRun)}`);
  if (dryRun && !mode.quiet) out(`Plan for ${describeSources(run.sources)} (dry run: nothing is sent, nothing recorded)`);
  return {
    onEvent(event) {
      display.onEvent(event);
      if (event.type === 'decision') {
        const { entry } = event;
        if (entry.action === 'failed') print(entry);
        else if (mode.quiet || entry.action === 'unchanged') return; // unchanged: at the end, with -v
        else if (entry.action === 'new' || entry.action === 'changed') {
          if (dryRun) print(entry);
        } else if (!(entry.action === 'skipped' && event.repeated && !mode.verbose)) print(entry);
      } else if (event.type === 'sent') {
        if (!mode.quiet) print(event.entry);
      } else if (event.type === 'failed') {
        print({ ...event.entry, outcome: 'failed', error: event.entry.error ?? messageOf(event.error) });
      } else if (event.type === 'confirmed') {
        const c = event.confirmation;
        // Ingested is what is expected (counted in the summary; listed with -v); anything else is a failure.
        if (c.outcome !== 'ingested') out(`  ${c.outcome.toUpperCase().padEnd(9)} ${escapeControl(`${c.source}:${c.key}`)}  ${escapeControl(c.reason)}`);
        else if (mode.verbose) out(`  ${'ingested'.padEnd(9)} ${escapeControl(`${c.source}:${c.key}`)}  document ${escapeControl(c.docId)}`);
      } else if (event.type === 'deleted') {
        const d = event.deletion;
        const key = escapeControl(`${d.source}:${d.key}`);
        const what = d.what === 'removed' ? 'left its source' : 'an old or failed version';
        if (d.result === 'deleted' || d.result === 'already-gone') {
          if (!mode.quiet) out(`  ${'deleted'.padEnd(9)} ${key}  document ${escapeControl(d.docId)} (${what}${d.result === 'already-gone' ? ', already gone' : ''})`);
        } else out(`  ${'KEPT'.padEnd(9)} ${key}  document ${escapeControl(d.docId)} not deleted: ${escapeControl('reason' in d ? d.reason : d.result)}`);
      }
      // Warnings ('warning' events) are in the summary's last lines.
    },
    leftOut(line) {
      if (!mode.quiet) out(`  ${line.text}`);
    },
    abandon: () => false,
    finish(report, exitCode) {
      display.stop();
      if (!mode.quiet) for (const entry of report.entries) if (entry.action === 'unchanged') print(entry);
      for (const line of formatSummary(report)) out(line);
      void exitCode;
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeSources(sources: readonly string[]): string {
  return sources.length === 1 ? `source "${sources[0]}"` : `sources ${sources.map((s) => `"${s}"`).join(', ')}`;
}
