import path from 'node:path';
import { UsageError } from '../../errors.js';
import { acquireStateLock } from '../../state/lock.js';
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

/**
 * `lanying-kb state forget-root SOURCE`: forgets what was recorded of a folder source's root (its device, whether it
 * was a mount point), so that the next run takes the folder as it is now. For a folder that was moved off a mount
 * for good; a folder that is only unmounted should be mounted again instead.
 */
export async function stateForgetRootCommand(_options: object, globals: GlobalOptions, ctx: CliContext, args: string[]): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const name = args[0] as string;
  if (!config.sources.some((s) => s.name === name)) {
    throw new UsageError(`unknown source "${name}" (configured: ${config.sources.map((s) => s.name).join(', ') || 'none'})`);
  }
  const lock = acquireStateLock(config.sync.stateDir, 'state forget-root');
  try {
    const store = StateStore.open(config.sync.stateDir);
    try {
      const forgotten = store.forgetSourceMemos(name, 'root');
      if (globals.json) writeJson(ctx.stdout, { ok: true, source: name, forgotten: forgotten > 0 });
      else writeLine(ctx.stdout, forgotten > 0 ? `Forgot the recorded root of source "${escapeControl(name)}"; the next run takes the folder as it is now.` : `Nothing was recorded of the root of source "${escapeControl(name)}".`);
      return EXIT.OK;
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}
