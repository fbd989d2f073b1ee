import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/resolve.js';
import type { CliContext, GlobalOptions } from './context.js';

/**
 * Loads the configuration the way every command does: `--config`, else a search upward from the working folder.
 * Under systemd, `$STATE_DIRECTORY` (`StateDirectory=`) is the default state folder and a relative
 * `api.accessTokenFile` is looked up in `$CREDENTIALS_DIRECTORY` (`LoadCredential=`).
 */
export function loadCliConfig(globals: GlobalOptions, ctx: CliContext): Promise<ResolvedConfig> {
  return loadConfig({
    file: globals.config,
    cwd: ctx.cwd,
    env: ctx.env,
    defaultStateDir: firstAbsolutePath(ctx.env.STATE_DIRECTORY),
    credentialsDirectory: firstAbsolutePath(ctx.env.CREDENTIALS_DIRECTORY),
  });
}

/** systemd lists several folders separated by ":" when the unit names several; the first one is ours. */
export function firstAbsolutePath(value: string | undefined): string | undefined {
  const first = value?.split(':')[0];
  return first && first.startsWith('/') ? first : undefined;
}
