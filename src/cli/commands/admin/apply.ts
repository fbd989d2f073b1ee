import { applyProvision, type ProvisionAction } from '../../../admin/provision.js';
import type { CliContext, GlobalOptions } from '../../context.js';
import { writeLine, writeResult } from '../../context.js';
import { EXIT, exitCodeFor } from '../../exit-codes.js';
import { loadCliConfig } from '../../load-config.js';
import { reportError } from '../../report-error.js';
import { plural } from './shared.js';

export interface ApplyCommandOptions {
  dryRun?: boolean;
}

/**
 * `lanying-kb apply [--dry-run]`: registers the `provision` section's missing users, adds missing friends, creates
 * groups once and invites missing members. One line per action; "nothing to do" when all is in place.
 */
export async function applyCommand(options: ApplyCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const dryRun = options.dryRun ?? false;
  const actions: ProvisionAction[] = [];
  if (dryRun && !globals.json) writeLine(ctx.stdout, 'Plan (dry run: nothing is changed, nothing recorded):');
  const onAction = (action: ProvisionAction) => {
    actions.push(action);
    if (!globals.json) writeLine(ctx.stdout, formatAction(action, dryRun));
  };
  try {
    const result = await applyProvision({ config, dryRun, onAction });
    const exitCode = result.failed > 0 ? EXIT.FAILED : EXIT.OK;
    if (globals.json) {
      writeResult(ctx, globals, { ok: result.failed === 0, exitCode, dryRun, nothingToDo: result.nothingToDo, failed: result.failed, actions: result.actions });
    } else if (result.nothingToDo) {
      writeLine(ctx.stdout, 'nothing to do: every declared user, friend and group is in place');
    } else if (dryRun) {
      writeLine(ctx.stdout, `would do ${plural(result.actions.length, 'action')}`);
    } else {
      writeLine(ctx.stdout, `done: ${plural(result.actions.length - result.failed, 'action')}${result.failed ? `, ${result.failed} failed` : ''}`);
    }
    return exitCode;
  } catch (error) {
    if (globals.json && actions.length > 0) {
      writeResult(ctx, globals, { ok: false, exitCode: exitCodeFor(error), dryRun, actions });
      return reportError(error, { ...globals, json: false }, ctx);
    }
    return reportError(error, globals, ctx);
  }
}

function formatAction(action: ProvisionAction, dryRun: boolean): string {
  const id = action.remoteId !== undefined && action.kind !== 'invite-members' ? ` (ID ${action.remoteId})` : '';
  const who = action.kind === 'invite-members' && action.users ? `: ${action.users.join(', ')}` : '';
  if (!action.ok) return `FAILED ${action.text}${who}: ${action.error ?? 'refused'}`;
  return `${dryRun ? 'would ' : ''}${action.text}${id}${who}`;
}
