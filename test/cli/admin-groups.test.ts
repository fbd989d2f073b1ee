import { describe, expect, it } from 'vitest';
import { cliFor } from '../helpers/cli.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';

type Req = { method: string; path: string };
const calls = (sandbox: { state(): { requests: unknown[] } }, path: string) => (sandbox.state().requests as Req[]).filter((r) => r.path === path);

describe('lanying-kb roster', () => {
  it('adds friends and lists them', async () => {
    const sandbox = await useSandbox();
    const [a, b, c] = await registerUsers(clientFor(sandbox).client, ['ann', 'ben', 'cat']);
    const cli = cliFor(sandbox);
    const add = await cli.run(['roster', 'add', '--user', String(a), String(b), String(c)]);
    expect(add).toMatchObject({ code: 0, stdout: `user ${a} added 2 friends: ${b}, ${c}\n` });
    const list = await cli.run(['--json', 'roster', 'list', '--user', String(a)]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { friends: { userId: number }[] }).friends.map((f) => f.userId).sort()).toEqual([b, c].sort());
    const text = await cli.run(['roster', 'list', '--user', String(a)]);
    expect(text.stdout).toMatch(new RegExp(`^${b} +ben$`, 'm'));

    const unknown = await cli.run(['roster', 'add', '--user', String(a), '999999']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/code 10000, user does not exist/);
    const notId = await cli.run(['roster', 'add', '--user', String(a), 'ben']);
    expect(notId.code).toBe(2);
    expect(notId.stderr).toMatch(/friendId: "ben" is not an ID/);
  });
});

describe('lanying-kb group', () => {
  it('creates a group, invites with a result per user (exit 3 when one is refused), and lists members page by page', async () => {
    const sandbox = await useSandbox();
    const names = Array.from({ length: 5 }, (_, i) => `m_${i}`);
    const [owner, ...members] = (await registerUsers(clientFor(sandbox).client, ['boss', ...names])) as number[];
    const cli = cliFor(sandbox);

    const created = await cli.run(['--json', 'group', 'create', '--owner', String(owner), '--name', 'Team', '--description', 'the team']);
    expect(created.code).toBe(0);
    const group = (JSON.parse(created.stdout) as { group: { groupId: number; name: string } }).group;
    expect(group.name).toBe('Team');

    const invited = await cli.run(['group', 'invite', '--owner', String(owner), '--group', String(group.groupId), ...members.map(String), '987654']);
    expect(invited.code).toBe(3);
    expect(invited.stdout.match(/^ok +\d+$/gm)).toHaveLength(5);
    expect(invited.stdout).toMatch(/^FAIL +987654 +\S/m);
    expect(invited.stdout).toMatch(/5 users invited to group \d+, 1 refused\./);

    const page = await cli.run(['group', 'members', '--user', String(owner), '--group', String(group.groupId), '--limit', '2']);
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(/^2 members of 6; more: --cursor \S+, or --all for every page$/m);

    const before = calls(sandbox, '/group/member_list').length;
    const all = await cli.run(['--json', 'group', 'members', '--user', String(owner), '--group', String(group.groupId), '--limit', '2', '--all']);
    expect(all.code).toBe(0);
    const ids = (JSON.parse(all.stdout) as { members: { userId: number }[] }).members.map((m) => m.userId);
    expect(new Set(ids)).toEqual(new Set([owner, ...members]));
    expect(calls(sandbox, '/group/member_list').length - before).toBe(3);
  });

  it('explains an unknown group (20001)', async () => {
    const sandbox = await useSandbox();
    const [owner, other] = await registerUsers(clientFor(sandbox).client, ['boss', 'other']);
    const cli = cliFor(sandbox);
    const run = await cli.run(['group', 'invite', '--owner', String(owner), '--group', '4242', String(other)]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^lanying-kb: POST \/group\/invite failed: code 20001, group does not exist/);
  });

  it('destroys with --yes, asks on a terminal, and refuses without a terminal', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [owner] = (await registerUsers(client, ['boss'])) as number[];
    const g1 = (await client.groups.create({ name: 'One' }, { actAs: owner as number })).group_id;
    const g2 = (await client.groups.create({ name: 'Two' }, { actAs: owner as number })).group_id;
    const g3 = (await client.groups.create({ name: 'Three' }, { actAs: owner as number })).group_id;
    const cli = cliFor(sandbox);
    const args = (g: number) => ['group', 'destroy', '--owner', String(owner), '--group', String(g)];

    const refused = await cli.run(args(g1));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cannot be undone: add --yes to confirm \(no terminal to ask on\)/);
    expect(calls(sandbox, '/group/destroy')).toHaveLength(0);

    const declined = await cli.run(args(g1), { isTTY: true, stdin: 'no\n' });
    expect(declined.code).toBe(2);
    // The prompt names the group and counts its members; only "yes" confirms ("y" does not).
    expect(declined.stderr).toContain(`Destroy group ${g1} "One" (1 member)? Every member loses it; this cannot be undone. Type "yes" to confirm: lanying-kb: not confirmed`);
    const shortAnswer = await cli.run(args(g1), { isTTY: true, stdin: 'y\n' });
    expect(shortAnswer.code).toBe(2);
    expect(shortAnswer.stderr).toMatch(/not confirmed \(the answer was not "yes"\)/);
    expect(calls(sandbox, '/group/destroy')).toHaveLength(0);

    const confirmed = await cli.run(args(g1), { isTTY: true, stdin: 'yes\n' });
    expect(confirmed).toMatchObject({ code: 0, stdout: `destroyed group ${g1}\n` });
    const forced = await cli.run([...args(g2), '--yes']);
    expect(forced.code).toBe(0);
    expect(calls(sandbox, '/group/destroy')).toHaveLength(2);
    await expect(client.groups.info(g2)).rejects.toMatchObject({ code: 20001 });
    expect((await client.groups.info(g3)).name).toBe('Three');
  });
});
