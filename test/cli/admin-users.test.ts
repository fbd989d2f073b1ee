import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiFor, cliFor, writeConfig, runWith } from '../helpers/cli.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';

type Req = { method: string; path: string };
const writes = (requests: Req[]) => requests.filter((r) => r.method !== 'GET');

describe('lanying-kb user', () => {
  it('registers with the password from stdin or an environment variable; --password warns that argv is visible', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const fromStdin = await cli.run(['user', 'register', 'alice', '--password-stdin'], { stdin: 's3cret-1\nignored\n' });
    expect(fromStdin).toMatchObject({ code: 0, stderr: '' });
    expect(fromStdin.stdout).toMatch(/^registered alice: user ID \d+\n$/);

    const fromEnv = await cli.run(['--json', 'user', 'register', 'bob', '--password-env', 'BOB_PW'], { env: { BOB_PW: 'pw-bob' } });
    expect(fromEnv.code).toBe(0);
    const bob = JSON.parse(fromEnv.stdout) as { ok: boolean; userId: number };
    expect(bob).toMatchObject({ ok: true, username: 'bob' });

    const inArgv = await cli.run(['user', 'register', 'carol', '--password', 'pw-carol']);
    expect(inArgv.code).toBe(0);
    expect(inArgv.stderr).toMatch(/warning: --password puts the password on the command line, where other users of this machine can see it/);

    // The passwords reached the server: each user can get a token with it.
    const registers = (sandbox.state().requests as Req[]).filter((r) => r.path === '/user/register/v2');
    expect(registers).toHaveLength(3);
    const { client } = clientFor(sandbox);
    expect((await client.users.profile({ actAs: bob.userId })).username).toBe('bob');
  });

  it('refuses an invalid username before sending anything (exit 2), and a missing password (exit 2)', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const bad = await cli.run(['user', 'register', '12345', '--password-env', 'PW'], { env: { PW: 'x' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('lanying-kb: username: "12345" must not be all digits\n');
    const reserved = await cli.run(['user', 'register', 'maxim_bot', '--password-env', 'PW'], { env: { PW: 'x' } });
    expect(reserved.code).toBe(2);
    const none = await cli.run(['user', 'register', 'dave']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no password: pipe it in with --password-stdin/);
    const unset = await cli.run(['user', 'register', 'dave', '--password-env', 'NOPE']);
    expect(unset.stderr).toMatch(/environment variable NOPE is not set/);
    expect(sandbox.state().requests).toHaveLength(0);
  });

  it('explains a taken username (10004) with exit 3', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    await registerUsers(clientFor(sandbox).client, ['taken']);
    const again = await cli.run(['user', 'register', 'taken', '--password-env', 'PW'], { env: { PW: 'x' } });
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^lanying-kb: POST \/user\/register\/v2 failed: code 10004, user already exists/);
  });

  it('batch-registers a CSV file with a result per user; exit 3 when one failed', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    await registerUsers(clientFor(sandbox).client, ['taken']);
    writeFileSync(path.join(cli.dir, 'users.csv'), 'username,password\nann,pw-a\ntaken,pw-t\nben,"pw,b"\n');
    const run = await cli.run(['user', 'batch-register', 'users.csv']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^ok +ann +user ID \d+$/m);
    expect(run.stdout).toMatch(/^FAIL +taken +\S/m);
    expect(run.stdout).toMatch(/^ok +ben +user ID \d+$/m);
    expect(run.stdout).toMatch(/2 users registered, 1 failed\./);

    writeFileSync(path.join(cli.dir, 'more.json'), JSON.stringify([{ username: 'cid', password: 'pw-c' }]));
    const json = await cli.run(['--json', 'user', 'batch-register', 'more.json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, registered: 1, failed: 0, results: [{ username: 'cid', ok: true }] });
  });

  it('refuses a batch file with an invalid username before sending anything', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    writeFileSync(path.join(cli.dir, 'users.csv'), 'username,password\nann,pw-a\nmta_x,pw\n');
    const run = await cli.run(['user', 'batch-register', 'users.csv']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('lanying-kb: users.csv line 3: username "mta_x" must not start with "mta" or "maxim"\n');
    expect(sandbox.state().requests).toHaveLength(0);
  });

  it('shows a profile', async () => {
    const sandbox = await useSandbox();
    const [id] = await registerUsers(clientFor(sandbox).client, ['erin']);
    const cli = cliFor(sandbox);
    const run = await cli.run(['user', 'profile', '--user', String(id)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^username +erin$/m);
    const bad = await cli.run(['user', 'profile', '--user', 'erin']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not an ID/);
  });

  it('exits 4 with the code explained in English when the token is wrong (10008) or missing (10003)', async () => {
    const sandbox = await useSandbox();
    const [id] = await registerUsers(clientFor(sandbox).client, ['fay']);
    const wrong = writeConfig({ api: apiFor(sandbox, { accessToken: 'not-the-token' }) });
    const run = await runWith(['user', 'profile', '--user', String(id)], { cwd: wrong });
    expect(run.code).toBe(4);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^lanying-kb: GET \/user\/profile failed: code 10008, invalid access-token/)]);
    expect(run.stderr).not.toContain('not-the-token');

    const blank = writeConfig({ api: apiFor(sandbox, { accessToken: ' ' }) });
    const missing = await runWith(['--json', 'roster', 'list', '--user', String(id)], { cwd: blank });
    expect(missing.code).toBe(4);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, exitCode: 4, error: { code: 10003, meaning: 'access-token header missing' } });
    expect(writes(sandbox.state().requests as Req[]).filter((r) => r.path !== '/user/register/v2')).toHaveLength(0);
  });
});
