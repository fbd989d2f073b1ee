import type { GroupMember } from '../../../api/resources/groups.js';
import { UsageError } from '../../../errors.js';
import { escapeControl } from '../../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../../context.js';
import { writeLine, writeResult } from '../../context.js';
import { EXIT } from '../../exit-codes.js';
import { apiObjectForJson } from '../../json-fields.js';
import { adminClient, confirmWithYes, parseId, plural } from './shared.js';

export interface GroupCreateOptions {
  owner: number;
  name: string;
  description?: string;
}

/** `lanying-kb group create --owner ID --name N [--description D]`: the owner creates the group. */
export async function groupCreateCommand(options: GroupCreateOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const { client } = await adminClient(globals, ctx);
  const input = { name: options.name, ...(options.description !== undefined ? { description: options.description } : {}) };
  const group = await client.groups.create(input, { actAs: options.owner });
  if (globals.json) writeResult(ctx, globals, { ok: true, group: apiObjectForJson(group) });
  else writeLine(ctx.stdout, `created group "${group.name}": group ID ${group.group_id}, owner ${group.owner_id}`);
  return EXIT.OK;
}

export interface GroupInviteOptions {
  owner: number;
  group: number;
}

/** `lanying-kb group invite --owner ID --group G <userId...>`: a result per user; exit 3 when some were refused. */
export async function groupInviteCommand(options: GroupInviteOptions, globals: GlobalOptions, ctx: CliContext, args: string[]): Promise<number> {
  const users = [...new Set(args.map((a) => parseId(a, 'userId')))];
  const { client } = await adminClient(globals, ctx);
  const results = await client.groups.invite(options.group, users, { actAs: options.owner });
  const failed = results.filter((r) => r.result !== 'success');
  const exitCode = failed.length > 0 ? EXIT.FAILED : EXIT.OK;
  if (globals.json) {
    writeResult(ctx, globals, {
      ok: failed.length === 0,
      exitCode,
      group: options.group,
      results: results.map((r) => ({ userId: r.user_id, ok: r.result === 'success', ...(r.reason ? { reason: r.reason } : {}) })),
    });
    return exitCode;
  }
  for (const r of results) writeLine(ctx.stdout, r.result === 'success' ? `ok    ${r.user_id}` : `FAIL  ${r.user_id}  ${r.reason ?? 'refused'}`);
  writeLine(ctx.stdout, `${plural(results.length - failed.length, 'user')} invited to group ${options.group}, ${failed.length} refused.`);
  return exitCode;
}

export interface GroupMembersOptions {
  user: number;
  group: number;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** `lanying-kb group members --user ID --group G [--limit N] [--cursor C] [--all]`: one page, or every page with --all. */
export async function groupMembersCommand(options: GroupMembersOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const { client } = await adminClient(globals, ctx);
  const as = { actAs: options.user };
  let members: GroupMember[] = [];
  let cursor: string | undefined;
  let total: number | undefined;
  if (options.all) {
    for await (const m of client.groups.allMembers(options.group, { ...(options.limit ? { limit: options.limit } : {}) }, as)) members.push(m);
    total = members.length;
  } else {
    const page = await client.groups.members(options.group, { cursor: options.cursor, limit: options.limit }, as);
    ({ members, cursor, total } = page);
  }
  if (globals.json) {
    writeResult(ctx, globals, { ok: true, group: options.group, total, members: apiObjectForJson(members), ...(cursor !== undefined ? { cursor } : {}) });
    return EXIT.OK;
  }
  for (const m of members) {
    const joined = m.join_time ? new Date(m.join_time).toISOString() : '';
    writeLine(ctx.stdout, `${String(m.user_id).padEnd(16)} ${joined.padEnd(24)} ${m.display_name ?? ''}`.trimEnd());
  }
  const shown = `${plural(members.length, 'member')}${total !== undefined && total !== members.length ? ` of ${total}` : ''}`;
  writeLine(ctx.stdout, cursor !== undefined ? `${shown}; more: --cursor ${cursor}, or --all for every page` : shown);
  return EXIT.OK;
}

export interface GroupDestroyOptions {
  owner: number;
  group: number;
  yes?: boolean;
}

/**
 * `lanying-kb group destroy --owner ID --group G [--yes]`. Without --yes it shows the group's name and member count
 * and asks for "yes" on a terminal, and refuses (exit 2) when there is no terminal to ask on.
 */
export async function groupDestroyCommand(options: GroupDestroyOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const { client } = await adminClient(globals, ctx);
  if (!options.yes) {
    if (!ctx.stdin.isTTY) throw new UsageError(`destroying group ${options.group} cannot be undone: add --yes to confirm (no terminal to ask on)`);
    // Asked as the owner: an unknown group (20001) or a non-member fails here, before anything is asked.
    const info = await client.groups.info(options.group, { actAs: options.owner });
    const { total } = await client.groups.members(options.group, { limit: 1 }, { actAs: options.owner });
    const members = total === undefined ? 'its members' : plural(total, 'member');
    await confirmWithYes(
      ctx,
      `Destroy group ${options.group} "${escapeControl(info.name)}" (${members})? Every member loses it; this cannot be undone.`,
      `Destroying group ${options.group} cannot be undone`,
    );
  }
  await client.groups.destroy(options.group, { actAs: options.owner });
  if (globals.json) writeResult(ctx, globals, { ok: true, group: options.group, destroyed: true });
  else writeLine(ctx.stdout, `destroyed group ${options.group}`);
  return EXIT.OK;
}
