import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliFor } from '../helpers/cli.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';

type Req = { method: string; path: string };
type Stored = { content: string; ext?: string; attachment?: string; content_type?: number; ctype?: string };
const sends = (sandbox: { state(): { requests: unknown[] } }) => (sandbox.state().requests as Req[]).filter((r) => r.path === '/message/send');

describe('lanying-kb message send', () => {
  it('sends a text without --from, as the quick start\'s admin send does (server-api-quick-start.md:391-431)', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const admin = sandbox.knowledgeBase.adminUserIds[0] as number;
    const run = await cli.run(['--json', 'message', 'send', '--user', String(admin), '--text', 'hello']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { ok: boolean; msgIds: string[] };
    const stored = sandbox.state().messages[0]!;
    expect(stored).toMatchObject({ from_user_id: 0, to_id: admin, content: 'hello' });
    // The message ID is 64-bit: printed exactly, as text.
    expect(out.msgIds).toEqual([stored.msg_id]);
  });

  it('--text - reads the text from standard input (the real process, piped)', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const admin = sandbox.knowledgeBase.adminUserIds[0] as number;
    const run = await runCliProcess(['message', 'send', '--user', String(admin), '--text', '-'], { cwd: cli.dir, input: 'line one\nline two\n' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(sandbox.state().messages[0]).toMatchObject({ to_id: admin, content: 'line one\nline two' });
    const empty = await runCliProcess(['message', 'send', '--user', String(admin), '--text', '-'], { cwd: cli.dir, input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--text -: standard input was empty/);
    expect(sends(sandbox)).toHaveLength(1);
  });

  it('sends a text with ext to several users in one send', async () => {
    const sandbox = await useSandbox();
    const [from, b, c] = await registerUsers(clientFor(sandbox).client, ['amy', 'bill', 'cora']);
    const cli = cliFor(sandbox);
    const run = await cli.run(['message', 'send', '--from', String(from), '--user', String(b), String(c), '--text', 'hello', '--ext', '{"k":1}']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`sent to 2 users (${b}, ${c})\n`);
    expect(sends(sandbox)).toHaveLength(1);
    const stored = (sandbox.state().messages as Stored[]).filter((m) => m.content === 'hello');
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(stored[0]?.ext as string)).toEqual({ k: 1 });
  });

  it('sends a file through an upload slot per receiver as a file message', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [from, b] = (await registerUsers(client, ['amy', 'bill'])) as number[];
    const group = await client.groups.create({ name: 'G' }, { actAs: from as number });
    const g2 = await client.groups.create({ name: 'G2' }, { actAs: from as number });
    const cli = cliFor(sandbox);
    writeFileSync(path.join(cli.dir, 'notes.md'), '# notes\n');

    const one = await cli.run(['--json', 'message', 'send', '--from', String(from), '--user', String(b), '--file', 'notes.md']);
    expect(one.code).toBe(0);
    const result = JSON.parse(one.stdout) as { results: { ok: boolean; size: number; url: string }[] };
    expect(result.results).toEqual([expect.objectContaining({ ok: true, size: 8, userId: b })]);
    const file = (sandbox.state().messages as Stored[]).find((m) => m.attachment);
    expect(JSON.parse(file?.attachment as string)).toEqual({ dName: 'notes.md', fLen: 8, url: result.results[0]?.url });

    const slotsBefore = (sandbox.state().requests as Req[]).filter((r) => r.path === '/file/upload/chat').length;
    const two = await cli.run(['message', 'send', '--from', String(from), '--group', String(group.group_id), String(g2.group_id), '--file', 'notes.md']);
    expect(two.code).toBe(0);
    expect(two.stdout).toMatch(/2 groups sent the file, 0 failed\./);
    expect((sandbox.state().requests as Req[]).filter((r) => r.path === '/file/upload/chat').length - slotsBefore).toBe(2);
    expect(sandbox.state().objects).toHaveLength(3);
  });

  it('refuses mixed receivers, a file without --from, an --ext that is not a JSON object, and a missing file, sending nothing', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const mixed = await cli.run(['message', 'send', '--from', '1', '--user', '2', '--group', '3', '--text', 'x']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--user and --group cannot be mixed/);
    const noFrom = await cli.run(['message', 'send', '--user', '2', '--file', 'notes.md']);
    expect(noFrom.code).toBe(2);
    expect(noFrom.stderr).toMatch(/--file needs --from USER_ID: the upload slot is asked for as the user who sends the file/);
    const notJson = await cli.run(['message', 'send', '--from', '1', '--user', '2', '--text', 'x', '--ext', '{k:1}']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^lanying-kb: --ext: is not valid JSON/);
    const array = await cli.run(['message', 'send', '--from', '1', '--user', '2', '--text', 'x', '--ext', '[1]']);
    expect(array.stderr).toMatch(/--ext: must be a JSON object/);
    const both = await cli.run(['message', 'send', '--from', '1', '--user', '2', '--text', 'x', '--file', 'y']);
    expect(both.stderr).toMatch(/exactly one of --text or --file/);
    const missing = await cli.run(['message', 'send', '--from', '1', '--user', '2', '--file', 'nope.pdf']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--file: nope\.pdf: cannot be read \(ENOENT\)/);
    expect(sandbox.state().requests).toHaveLength(0);
  });

  it('explains an unknown group (20001)', async () => {
    const sandbox = await useSandbox();
    const [from] = await registerUsers(clientFor(sandbox).client, ['amy']);
    const run = await cliFor(sandbox).run(['message', 'send', '--from', String(from), '--group', '777', '--text', 'hi']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/code 20001, group does not exist/);
  });
});
