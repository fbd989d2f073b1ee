import { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/errors.js';
import { ContentType } from '../../src/api/resources/messages.js';
import { splitAudience } from '../../src/api/resources/push.js';
import { usernameProblem } from '../../src/protocol/username.js';
import { ValidationError } from '../../src/errors.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';
import { caught } from '../helpers/errors.js';
import { tmpDir } from '../helpers/tmp-dir.js';

describe('users', () => {
  it('registers, refuses a taken name with 10004, and checks the username rules before sending', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const settings = await client.users.register({ username: 'alice_1', password: 'secret' });
    expect(settings.user_id).toBeGreaterThan(0);
    const taken = await caught(client.users.register({ username: 'alice_1', password: 'secret' }));
    expect(taken).toMatchObject({ code: 10004, meaning: 'user already exists' });

    const before = sandbox.state().requests.length;
    for (const bad of ['12345', 'maxim_bot', 'mta_x', 'has space', 'dash-ed', '']) {
      expect(await caught(client.users.register({ username: bad, password: 'x' }))).toBeInstanceOf(ValidationError);
    }
    expect(sandbox.state().requests.length).toBe(before);
    expect(usernameProblem('ok_name9')).toBeUndefined();
  });

  it('registers in batches with a result per user, and reads and updates a profile', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    await client.users.register({ username: 'taken', password: 'x1' });
    const results = await client.users.registerBatch([
      { username: 'bob', password: 'x1' },
      { username: 'taken', password: 'x1' },
    ]);
    expect(results.map((r) => [r.username, r.success])).toEqual([
      ['bob', true],
      ['taken', false],
    ]);
    const bob = results[0]?.user_id as number;
    expect(await client.users.updateProfile({ nick_name: 'Bobby', description: 'd' }, { actAs: bob })).toBe(true);
    expect(await client.users.profile({ actAs: bob })).toMatchObject({ user_id: bob, username: 'bob', nick_name: 'Bobby' });
  });
});

describe('rosters', () => {
  it('adds friends and lists them; an unknown user is 10000', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [a, b, c] = await registerUsers(client, ['ann', 'ben', 'cat']);
    expect(await client.rosters.add(a as number, [b as number, c as number])).toBe(true);
    expect((await client.rosters.list(a as number)).map((r) => r.user_id).sort()).toEqual([b, c].sort());
    expect(await caught(client.rosters.add(a as number, [999_999]))).toMatchObject({ code: 10000 });
  });
});

describe('groups', () => {
  it('creates, invites with per-user results, pages through members, reads info, and only the owner destroys', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const names = Array.from({ length: 24 }, (_, i) => `member_${i}`);
    const [owner, ...members] = await registerUsers(client, ['owner', ...names]);
    const group = await client.groups.create({ name: 'Team', description: 'the team' }, { actAs: owner as number });
    expect(group).toMatchObject({ name: 'Team', owner_id: owner });

    const results = await client.groups.invite(group.group_id, [...(members as number[]), 987_654], { actAs: owner as number });
    expect(results.filter((r) => r.result === 'success')).toHaveLength(24);
    expect(results.find((r) => r.user_id === 987_654)?.result).toBe('fail');

    const first = await client.groups.members(group.group_id, { limit: 10 });
    expect(first.members).toHaveLength(10);
    expect(first.cursor).toBeDefined();
    expect(first.total).toBe(25);
    const all: number[] = [];
    for await (const m of client.groups.allMembers(group.group_id, { limit: 10 })) all.push(m.user_id);
    expect(new Set(all).size).toBe(25);
    expect(sandbox.state().requests.filter((r: { path: string }) => r.path === '/group/member_list').length).toBe(1 + 3);

    expect((await client.groups.info(group.group_id)).name).toBe('Team');
    expect(await caught(client.groups.destroy(group.group_id, { actAs: members[0] as number }))).toMatchObject({ code: 20013 });
    expect(await client.groups.destroy(group.group_id, { actAs: owner as number })).toBe(true);
    expect(await caught(client.groups.info(group.group_id))).toMatchObject({ code: 20001, meaning: 'group does not exist' });
  });

  it('refuses an invite from a non-member with 20002', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [owner, outsider, other] = await registerUsers(client, ['own', 'outsider', 'other']);
    const group = await client.groups.create({ name: 'G' }, { actAs: owner as number });
    expect(await caught(client.groups.invite(group.group_id, [other as number], { actAs: outsider as number }))).toMatchObject({ code: 20002 });
  });
});

describe('messages', () => {
  it('sends with ext and config as JSON strings, returns msg_ids for one receiver, and reads the history page by page', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [a, b] = await registerUsers(client, ['amy', 'bill']);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const sent = await client.messages.send({ to: { users: [b as number] }, contentType: ContentType.TEXT, content: `m${i}`, from: a as number, ext: { n: i }, config: { c: true } });
      expect(sent.msgIds).toHaveLength(1);
      ids.push(sent.msgIds[0] as string);
    }
    // Message IDs are 64-bit, read exactly: the one the send returned names the stored message.
    expect(ids[0]).toMatch(/^\d{19}$/);
    const stored = sandbox.state().messages.find((m) => m.msg_id === ids[0]) as { ext: string; config: string };
    expect(typeof stored.ext).toBe('string');
    expect(JSON.parse(stored.ext)).toEqual({ n: 0 });
    expect(JSON.parse(stored.config)).toEqual({ c: true });

    const seen: string[] = [];
    for await (const m of client.messages.conversation(b as number, { actAs: a as number, pageSize: 3 })) seen.push(m.content);
    expect(seen).toEqual(['m6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0']);
    const conversationCalls = sandbox.state().requests.filter((r: { path: string }) => r.path === '/message/conversation').length;
    expect(conversationCalls).toBeGreaterThanOrEqual(3);
  });

  it('refuses mixing users and groups, and empty targets, before sending', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    expect(await caught(client.messages.send({ to: { users: [1], groups: [2] } as never, contentType: 0, content: 'x' }))).toBeInstanceOf(ValidationError);
    expect(await caught(client.messages.send({ to: { users: [] }, contentType: 0, content: 'x' }))).toBeInstanceOf(ValidationError);
    expect(sandbox.state().requests.filter((r: { path: string }) => r.path === '/message/send')).toHaveLength(0);
  });

  it('sends to a group the sender is in; a non-member gets 20002, an unknown group 20001', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [owner, stranger] = await registerUsers(client, ['gowner', 'stranger']);
    const group = await client.groups.create({ name: 'G' }, { actAs: owner as number });
    await client.messages.sendText({ groups: [group.group_id] }, 'hi all', { from: owner as number });
    expect(await caught(client.messages.sendText({ groups: [group.group_id] }, 'hi', { from: stranger as number }))).toMatchObject({ code: 20002 });
    expect(await caught(client.messages.sendText({ groups: [123] }, 'hi', { from: owner as number }))).toMatchObject({ code: 20001 });
  });
});

describe('files', () => {
  it('uploads a file from disk, a buffer and a stream through an upload slot; the download URL answers 302', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [a, b] = await registerUsers(client, ['up', 'down']);
    const dir = tmpDir();
    const file = path.join(dir, 'Report.PDF');
    const content = Buffer.alloc(300_000, 7);
    writeFileSync(file, content);

    const fromDisk = await client.files.uploadChatFile({ body: { path: file }, name: 'report.pdf', toId: b as number }, { actAs: a as number });
    expect(fromDisk).toMatchObject({ size: 300_000, name: 'report.pdf' });
    expect(fromDisk.url).toMatch(/\/file\/download\/chat\?file_sign=/);

    const fromBuffer = await client.files.uploadChatFile({ body: { buffer: Buffer.from('# hi\n') }, name: 'hi.md', toId: b as number }, { actAs: a as number });
    expect(fromBuffer.size).toBe(5);
    const fromStream = await client.files.uploadChatFile(
      { body: { stream: () => Readable.from([Buffer.from('abc'), Buffer.from('def')]), size: 6 }, name: 's.txt', toId: b as number },
      { actAs: a as number },
    );
    expect(fromStream.size).toBe(6);
    const objects = sandbox.state().objects as { size: number }[];
    expect(objects.map((o) => o.size).sort((x, y) => x - y)).toEqual([5, 6, 300_000]);

    const { request } = await import('undici');
    const res = await request(fromDisk.url, { headers: { app_id: sandbox.appId, 'access-token': sandbox.accessToken } });
    await res.body.dump();
    expect(res.statusCode).toBe(302);
  });

  it('also uploads with PUT when the slot says so', async () => {
    const sandbox = await useSandbox({ uploadMethod: 'PUT' });
    const { client } = clientFor(sandbox);
    const [a, b] = await registerUsers(client, ['pa', 'pb']);
    const uploaded = await client.files.uploadChatFile({ body: { buffer: Buffer.from('put body') }, name: 'p.txt', toId: b as number }, { actAs: a as number });
    expect(uploaded.size).toBe(8);
    expect((sandbox.state().objects as { size: number }[]).map((o) => o.size)).toEqual([8]);
  });

  it('asks for a new slot once when storage says the policy expired', async () => {
    let now = Date.now();
    const sandbox = await useSandbox({ now: () => now, policyTtlMs: 1000 });
    const { client } = clientFor(sandbox);
    const [a, b] = await registerUsers(client, ['ea', 'eb']);
    const slot = await client.files.uploadSlot({ toId: b as number }, { actAs: a as number });
    now += 5000;
    const expired = await caught(client.files.upload(slot, { buffer: Buffer.from('late') }, 'late.txt'));
    expect(expired).toBeInstanceOf(ApiError);
    expect((expired as ApiError).status).toBe(403);
    expect(String((expired as Error).message)).toMatch(/expired/i);
  });
});

describe('push', () => {
  it('splits an audience over 500 entries into several calls and combines the results', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const ids = Array.from({ length: 1201 }, (_, i) => i + 1);
    const result = await client.push.notify({ audience: { user_id: ids }, message: { title: 't', body: 'b' } });
    expect(result.calls).toBe(3);
    expect(result.taskIds).toHaveLength(3);
    const pushes = sandbox.state().push as { audience: { user_id: number[] } }[];
    expect(pushes.map((p) => p.audience.user_id.length)).toEqual([500, 500, 201]);
    expect(pushes.flatMap((p) => p.audience.user_id)).toEqual(ids);
    expect(splitAudience('all')).toEqual(['all']);
    expect(() => splitAudience({ tag: [], alias: ['x'] } as never)).toThrow(ValidationError);
  });

  it('surfaces 12005 when a list over 500 reaches the API directly, and 12006 when push is off', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const tooMany = { audience: { alias: Array.from({ length: 501 }, (_, i) => `a${i}`) }, message: { body: 'x' } };
    expect(await caught(client.call({ method: 'POST', path: '/push/notify', body: tooMany }))).toMatchObject({ code: 12005, meaning: 'push target list longer than 500' });
    const off = await useSandbox({ pushEnabled: false });
    const { client: offClient } = clientFor(off);
    expect(await caught(offClient.push.notify({ audience: 'all', message: { body: 'x' } }))).toMatchObject({ code: 12006 });
  });
});
