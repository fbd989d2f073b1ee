import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/resolve.js';
import type { CliContext, GlobalOptions } from './context.js';

/** Loads the configuration the way every command does: `--config`, else a search upward from the working folder. */
export function loadCliConfig(globals: GlobalOptions, ctx: CliContext): Promise<ResolvedConfig> {
  return loadConfig({ file: globals.config, cwd: ctx.cwd, env: ctx.env });
}
