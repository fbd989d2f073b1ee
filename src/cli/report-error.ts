import type { CliContext, GlobalOptions } from './context.js';
import { writeJson, writeLine } from './context.js';
import { exitCodeFor, isUserFacing } from './exit-codes.js';

/** Prints an error the way users should see it and returns its exit code. */
export function reportError(error: unknown, globals: GlobalOptions, ctx: CliContext): number {
  const code = exitCodeFor(error);
  if (globals.json) writeJson(ctx.stdout, { ok: false, exitCode: code, error: isUserFacing(error) ? error.toJSON() : { name: 'Error', message: String(error) } });
  if (isUserFacing(error)) {
    for (const line of error.message.split('\n')) writeLine(ctx.stderr, `lanying-kb: ${line}`);
    if (globals.verbose && error.stack) writeLine(ctx.stderr, error.stack);
  } else {
    writeLine(ctx.stderr, `lanying-kb: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    writeLine(ctx.stderr, error instanceof Error && error.stack ? error.stack : '');
  }
  return code;
}

