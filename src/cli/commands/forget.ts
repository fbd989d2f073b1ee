import { forgetDocuments } from '../../documents/forget.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';

export interface ForgetCommandOptions {
  source?: string[];
  all?: boolean;
  dryRun?: boolean;
}

/** `lanying-kb forget`: the state forgets documents; nothing is sent or deleted. */
export async function forgetCommand(options: ForgetCommandOptions, globals: GlobalOptions, ctx: CliContext, keys: string[]): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const result = await forgetDocuments({ config, sources: options.source, keys, all: options.all, dryRun: options.dryRun });
  if (globals.json) {
    writeJson(ctx.stdout, { ...result, exitCode: EXIT.OK });
    return EXIT.OK;
  }
  if (globals.verbose || options.dryRun) for (const d of result.forgotten) writeLine(ctx.stdout, `  ${options.dryRun ? 'would forget' : 'forgot'} ${escapeControl(`${d.source}:${d.key}`)}`);
  writeLine(ctx.stdout, `${options.dryRun ? 'Would forget' : 'Forgot'} ${result.forgotten.length} document(s)${options.dryRun ? ' (dry run: nothing changed)' : ''}.`);
  if (result.inKnowledgeBase > 0) {
    writeLine(
      ctx.stdout,
      `${result.inKnowledgeBase} of them ${options.dryRun ? 'are' : 'were'} recorded in the knowledge base: ${options.dryRun ? 'they would stay' : 'they stay'} there, untracked (check --walk lists them, prune --walk deletes them, check --adopt tracks them again; the next sync sends their sources' files as new).`,
    );
  }
  return EXIT.OK;
}
