import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireStateLock } from '../../src/state/lock.js';
import { StateStore } from '../../src/state/store.js';
import { apiFor, runWith, tempDir, writeConfig } from '../helpers/cli.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';
import type { Sandbox } from '../../src/sandbox/index.js';

type Req = { method: string; path: string };
const writes = (sandbox: Sandbox) => (sandbox.state().requests as Req[]).filter((r) => r.method !== 'GET');

function provision(extraUsers: Record<string, unknown>[] = [], extraMembers: string[] = []) {
  return {
    users: [
      { username: 'alice', password: 'pw-a', nickname: 'Alice', friends: ['bob', 'carol'] },
      { username: 'bob', password: 'pw-b' },
      { username: 'carol', password: 'pw-c', friends: ['bob'] },
      { username: 'dave', password: 'pw-d' },
      ...extraUsers,
    ],
    groups: [{ name: 'Team', owner: 'alice', description: 'the team', members: ['bob', 'carol', 'dave', ...extraMembers] }],
  };
}

function setup(sandbox: Sandbox, prov: Record<string, unknown>, dir = tempDir()) {
  writeConfig({ api: apiFor(sandbox), provision: prov }, dir);
  return { dir, run: (argv: string[]) => runWith(argv, { cwd: dir }) };
}

function recorded(dir: string) {
  const store = StateStore.open(path.join(dir, '.lanying-kb'));
  try {
    return store.provisioned.list().map((r) => `${r.kind}:${r.name}`);
  } finally {
    store.close();
  }
}

describe('lanying-kb apply', () => {
  it('registers users, adds friends, creates the group and invites members; a second run changes nothing', async () => {
    const sandbox = await useSandbox();
    const cli = setup(sandbox, provision());
    const first = await cli.run(['apply']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^register user alice \(ID \d+\)$/),
        expect.stringMatching(/^register user dave \(ID \d+\)$/),
        'update profile of alice (nickname)',
        'add friend alice -> bob',
        'add friend alice -> carol',
        expect.stringMatching(/^create group Team \(ID \d+\)$/),
        'invite 3 users to Team: bob, carol, dave',
      ]),
    );
    expect(lines.at(-1)).toMatch(/^done: \d+ actions$/);
    expect(recorded(cli.dir).sort()).toEqual(['group:Team', 'user:alice', 'user:bob', 'user:carol', 'user:dave']);

    const { client } = clientFor(sandbox);
    const groupId = Number(/create group Team \(ID (\d+)\)/.exec(first.stdout)?.[1]);
    const members: number[] = [];
    for await (const m of client.groups.allMembers(groupId)) members.push(m.user_id);
    expect(members).toHaveLength(4);

    const writesBefore = writes(sandbox).length;
    const second = await cli.run(['apply']);
    expect(second).toMatchObject({ code: 0, stdout: 'nothing to do: every declared user, friend and group is in place\n' });
    expect(writes(sandbox).length).toBe(writesBefore);
    const third = await cli.run(['--json', 'apply']);
    expect(JSON.parse(third.stdout)).toMatchObject({ ok: true, nothingToDo: true, actions: [] });
    expect(writes(sandbox).length).toBe(writesBefore);
  });

  it('--dry-run prints the plan and writes nothing: no API writes, no state', async () => {
    const sandbox = await useSandbox();
    const cli = setup(sandbox, provision());
    const dry = await cli.run(['apply', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n')).toEqual(
      expect.arrayContaining(['Plan (dry run: nothing is changed, nothing recorded):', 'would register user alice', 'would create group Team', 'would invite 3 users to Team: bob, carol, dave']),
    );
    expect(sandbox.state().requests).toHaveLength(0);
    expect(existsSync(path.join(cli.dir, '.lanying-kb', 'state.db'))).toBe(false);

    await cli.run(['apply']);
    const before = writes(sandbox).length;
    setup(sandbox, provision([{ username: 'erin', password: 'pw-e' }], ['erin']), cli.dir);
    const plan = await cli.run(['--json', 'apply', '--dry-run']);
    const parsed = JSON.parse(plan.stdout) as { dryRun: boolean; actions: { text: string; done: boolean }[] };
    expect(parsed.dryRun).toBe(true);
    expect(parsed.actions.map((a) => a.text)).toEqual(['register user erin', 'invite 1 user to Team']);
    expect(parsed.actions.every((a) => !a.done)).toBe(true);
    expect(writes(sandbox).length).toBe(before);
    expect(recorded(cli.dir)).not.toContain('user:erin');

    const real = await cli.run(['apply']);
    expect(real.stdout).toMatch(/^invite 1 user to Team: erin$/m);
  });

  it('needs the user ID of a user that exists but was not registered by apply (10004), naming the key', async () => {
    const sandbox = await useSandbox();
    const [zedId] = await registerUsers(clientFor(sandbox).client, ['zed']);
    const prov = { users: [{ username: 'amy', password: 'pw' }, { username: 'zed', password: 'pw' }], groups: [] };
    const cli = setup(sandbox, prov);
    const run = await cli.run(['apply']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/provision\.users\[1\]\.userId: user "zed" already exists \(code 10004, user already exists\).*set provision\.users\[1\]\.userId/);

    setup(sandbox, { users: [{ username: 'amy', password: 'pw' }, { username: 'zed', userId: zedId, friends: ['amy'] }] }, cli.dir);
    const fixed = await cli.run(['apply']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toBe('add friend zed -> amy\ndone: 1 action\n');
  });

  it('refuses a provision section that names undeclared users, and a missing password', async () => {
    const sandbox = await useSandbox();
    const cli = setup(sandbox, { users: [{ username: 'ann', friends: ['ghost'] }], groups: [{ name: 'G', owner: 'nobody' }] });
    const run = await cli.run(['apply']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/provision\.users\[0\]\.friends\[0\]: "ghost" is not a username declared in provision\.users/);
    expect(run.stderr).toMatch(/provision\.groups\[0\]\.owner: "nobody" is not a username/);
    setup(sandbox, { users: [{ username: 'ann' }] }, cli.dir);
    const noPassword = await cli.run(['apply']);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/provision\.users\[0\]\.password: needed to register "ann"/);
    expect(sandbox.state().requests).toHaveLength(0);
  });

  it('creates a recorded group again when it was destroyed, and holds the state lock while applying', async () => {
    const sandbox = await useSandbox();
    const cli = setup(sandbox, provision());
    await cli.run(['apply']);
    const { client } = clientFor(sandbox);
    const store = StateStore.open(path.join(cli.dir, '.lanying-kb'));
    const records = store.provisioned;
    const old = records.get('group', 'Team')?.remoteId as number;
    const owner = records.get('user', 'alice')?.remoteId as number;
    store.close();
    await client.groups.destroy(old, { actAs: owner });
    const again = await cli.run(['apply']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^create group Team \\(group ${old} recorded for it no longer exists\\) \\(ID \\d+\\)$`, 'm'));
    expect(again.stdout).toMatch(/^invite 3 users to Team/m);

    const lock = acquireStateLock(path.join(cli.dir, '.lanying-kb'), 'test');
    try {
      const locked = await cli.run(['apply']);
      expect(locked.code).toBe(2);
      expect(locked.stderr).toMatch(/another lanying-kb \(test, pid \d+/);
    } finally {
      lock.release();
    }
  });
});
