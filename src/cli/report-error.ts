import type { CliContext, GlobalOptions } from './context.js';
import { writeLine, writeResult } from './context.js';
import { ConfigError, formatConfigProblem } from '../errors.js';
import { escapeControl } from '../util/terminal-text.js';
import { exitCodeFor, isUserFacing } from './exit-codes.js';

/** An error as JSON output gives it: `{ ok: false, exitCode, error }`. */
export function errorResult(error: unknown, code = exitCodeFor(error)): { ok: false; exitCode: number; error: unknown } {
  return { ok: false, exitCode: code, error: isUserFacing(error) ? error.toJSON() : { name: 'Error', message: String(error) } };
}

/** Prints an error the way users should see it and returns its exit code. */
export function reportError(error: unknown, globals: GlobalOptions, ctx: CliContext): number {
  const code = exitCodeFor(error);
  if (globals.json || globals.jsonLines) {
    const body = errorResult(error, code);
    writeResult(ctx, globals, globals.jsonLines ? { type: 'error', time: new Date().toISOString(), ...body } : body);
  }
  if (isUserFacing(error)) {
    // One line per problem; a path or server text inside a message is escaped whole, line breaks included, so that
    // it cannot forge a line.
    const lines = error instanceof ConfigError ? error.problems.map((p) => formatConfigProblem(error.filepath, p)) : [error.message];
    for (const line of lines) writeLine(ctx.stderr, `lanying-kb: ${escapeControl(line)}`);
    if (globals.verbose && error.stack) writeLine(ctx.stderr, error.stack);
  } else {
    writeLine(ctx.stderr, `lanying-kb: unexpected error: ${escapeControl(error instanceof Error ? error.message : String(error))}`);
    writeLine(ctx.stderr, error instanceof Error && error.stack ? error.stack : '');
  }
  return code;
}
