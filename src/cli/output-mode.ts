import { UsageError } from '../errors.js';
import type { GlobalOptions } from './context.js';

/** How a command prints, from the global options. */
export interface OutputMode {
  /** One JSON document on stdout at the end. */
  json: boolean;
  /** JSON objects, one per line, as things happen. */
  jsonLines: boolean;
  /** Errors and the summary only. */
  quiet: boolean;
  verbose: boolean;
  /** A progress line on stderr when it is a terminal. */
  progress: boolean;
  /** When stderr is not a terminal: a stats line every this many milliseconds (0: none). */
  statsIntervalMs: number;
}

/** The default of `--stats`: a line a minute, as rclone prints. */
export const DEFAULT_STATS_INTERVAL_MS = 60_000;

/**
 * Options that exclude each other: `--json` and `--json-lines`, `--quiet` and `--verbose`. Checked on the options as
 * given, before `--json-lines` is folded into `json`.
 */
export function checkGlobalOptions(globals: GlobalOptions): void {
  if (globals.json && globals.jsonLines) throw new UsageError('--json and --json-lines exclude each other: one JSON document at the end, or one JSON object per line as things happen');
  if (globals.quiet && globals.verbose) throw new UsageError('--quiet and --verbose exclude each other');
}

/** The output mode of the global options (with `--json-lines` folded into `json`, see `normalizeGlobals`). */
export function outputModeOf(globals: GlobalOptions): OutputMode {
  return {
    json: globals.json === true && globals.jsonLines !== true,
    jsonLines: globals.jsonLines === true,
    quiet: globals.quiet === true,
    verbose: globals.verbose === true,
    progress: globals.progress !== false && !globals.quiet,
    statsIntervalMs: globals.quiet ? 0 : (globals.stats ?? DEFAULT_STATS_INTERVAL_MS),
  };
}
