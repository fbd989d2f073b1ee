import path from 'node:path';
import { StateStore } from '../../state/store.js';
import { formatBytes } from '../../util/units.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLine } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';

export interface StateBackupOptions {
  force?: boolean;
}

/**
 * `lanying-kb state backup FILE`: a consistent copy of the state database through SQLite's online backup. Takes no
 * lock and opens the state read-only, so it is safe (and meant to be run) while a daemon or a sync writes the state.
 */
export async function stateBackupCommand(options: StateBackupOptions, globals: GlobalOptions, ctx: CliContext, args: string[]): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const destination = path.resolve(ctx.cwd, args[0] as string);
  const store = StateStore.open(config.sync.stateDir, { readonly: true });
  try {
    const { bytes, documents } = await store.backup(destination, { overwrite: options.force ?? false });
    if (globals.json) writeJson(ctx.stdout, { ok: true, stateFile: store.filepath, backup: destination, bytes, documents });
    else writeLine(ctx.stdout, `Backed up ${escapeControl(store.filepath)} to ${escapeControl(destination)} (${documents} document record(s), ${formatBytes(bytes)}).`);
    return EXIT.OK;
  } finally {
    store.close();
  }
}
