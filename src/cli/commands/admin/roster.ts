import type { CliContext, GlobalOptions } from '../../context.js';
import { writeLine, writeResult } from '../../context.js';
import { EXIT } from '../../exit-codes.js';
import { apiObjectForJson } from '../../json-fields.js';
import { adminClient, parseId, plural } from './shared.js';

export interface RosterOptions {
  user: number;
}

/** `lanying-kb roster add --user ID <friendId...>`: the user adds every friend ID. */
export async function rosterAddCommand(options: RosterOptions, globals: GlobalOptions, ctx: CliContext, args: string[]): Promise<number> {
  const friends = [...new Set(args.map((a) => parseId(a, 'friendId')))];
  const { client } = await adminClient(globals, ctx);
  await client.rosters.add(options.user, friends);
  if (globals.json) writeResult(ctx, globals, { ok: true, user: options.user, added: friends });
  else writeLine(ctx.stdout, `user ${options.user} added ${plural(friends.length, 'friend')}: ${friends.join(', ')}`);
  return EXIT.OK;
}

/** `lanying-kb roster list --user ID`: the user's friends. */
export async function rosterListCommand(options: RosterOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const { client } = await adminClient(globals, ctx);
  const friends = await client.rosters.list(options.user);
  if (globals.json) {
    writeResult(ctx, globals, { ok: true, user: options.user, friends: apiObjectForJson(friends) });
    return EXIT.OK;
  }
  if (friends.length === 0) writeLine(ctx.stdout, `user ${options.user} has no friends yet`);
  for (const f of friends) writeLine(ctx.stdout, `${String(f.user_id).padEnd(16)} ${f.name ?? ''}`.trimEnd());
  return EXIT.OK;
}
