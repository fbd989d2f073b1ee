import { requestReload } from '../../daemon/control-socket.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';

/**
 * `lanying-kb reload`: checks the configuration, then asks the `lanying-kb watch` running with its state folder to
 * reload it (through the control socket) and waits for the answer. systemd's `ExecReload=` runs it, so that
 * `systemctl reload` waits for the reload and fails when the configuration is refused.
 *
 * Exit 0: reloaded. Exit 2: the configuration is invalid (checked here first, or refused by the daemon, which keeps
 * running with the configuration it had). Exit 1: no daemon answered.
 */
export async function reloadCommand(_options: unknown, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  // An invalid file ends here with its problems (exit 2): the daemon would refuse it the same way.
  const config = await loadCliConfig(globals, ctx);
  const result = await requestReload(config.sync.stateDir);
  if (globals.json) writeJson(ctx.stdout, result);
  if (!result.ok) {
    writeLine(ctx.stderr, `lanying-kb: the daemon refused the new configuration and keeps running with the previous one: ${result.error ?? 'no reason given'}`);
    return EXIT.CONFIG;
  }
  if (!globals.json) {
    const list = (names: string[]) => (names.length ? ` (${names.join(', ')})` : '');
    writeLine(
      ctx.stdout,
      `reloaded ${config.filepath ?? 'the configuration'}: ${result.added.length} source(s) added${list(result.added)}, ${result.removed.length} removed${list(result.removed)}, ${result.changed.length} changed${list(result.changed)}`,
    );
  }
  return EXIT.OK;
}
