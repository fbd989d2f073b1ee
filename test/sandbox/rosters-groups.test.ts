import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { api, codeOf, registerUser } from '../helpers/sandbox-http.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = await startSandbox();
});
afterEach(async () => {
  await sb.close();
});

describe('rosters', () => {
  it('adds friends without approval, mutually, and lists them', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    const added = await api(sb, 'POST', '/user/add_roster', { userId: a, body: { list: [b] } });
    expect(added.body).toEqual({ code: 200, message: null, data: true });
    expect((await api(sb, 'GET', '/user/rosters', { userId: a })).body.data).toEqual([{ user_id: b, name: 'ben' }]);
    expect((await api(sb, 'GET', '/user/rosters', { userId: b })).body.data).toEqual([{ user_id: a, name: 'amy' }]);
  });

  it('answers 10005 for an existing friend (either side), 10000 for an unknown user, adding nobody', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    const c = await registerUser(sb, 'cat');
    await api(sb, 'POST', '/user/add_roster', { userId: a, body: { list: [b] } });
    expect(await codeOf(api(sb, 'POST', '/user/add_roster', { userId: b, body: { list: [a] } }))).toBe(10005);
    expect(await codeOf(api(sb, 'POST', '/user/add_roster', { userId: a, body: { list: [c, 2302128699999] } }))).toBe(10000);
    expect((await api(sb, 'GET', '/user/rosters', { userId: a })).body.data).toHaveLength(1);
    expect(await codeOf(api(sb, 'POST', '/user/add_roster', { userId: a, body: { list: ['x'] } }))).toBe(10002);
    expect(await codeOf(api(sb, 'POST', '/user/add_roster', { body: { list: [c] } }))).toBe(10002);
  });
});

describe('groups', () => {
  async function makeGroup(owner: number, extra: Record<string, unknown> = {}) {
    const r = await api(sb, 'POST', '/group/create', { userId: owner, body: { name: 'team', description: 'd', ...extra } });
    expect(r.body.code).toBe(200);
    return r.body.data as { group_id: number; owner_id: number; count: number };
  }

  it('creates a group owned by the acting user, with the documented fields', async () => {
    const owner = await registerUser(sb, 'owner1');
    const member = await registerUser(sb, 'member1');
    const group = await makeGroup(owner, { user_list: [member] });
    expect(group).toMatchObject({ owner_id: owner, name: 'team', description: 'd', type: 0, status: 0, count: 2, capacity: expect.any(Number) });
    expect(group.group_id).toBeGreaterThanOrEqual(3402128600001);
    expect(await codeOf(api(sb, 'POST', '/group/create', { userId: owner, body: { description: 'no name' } }))).toBe(10002);
    expect(await codeOf(api(sb, 'POST', '/group/create', { body: { name: 'no acting user' } }))).toBe(10002);
    expect(await codeOf(api(sb, 'POST', '/group/create', { userId: owner, body: { name: 'x', user_list: [2302128699999] } }))).toBe(10000);
  });

  it('invites with one result per user; 20001 unknown group; 20002 inviter not a member', async () => {
    const owner = await registerUser(sb, 'owner1');
    const m = await registerUser(sb, 'member1');
    const outsider = await registerUser(sb, 'outsider');
    const group = await makeGroup(owner);
    const r = await api(sb, 'POST', '/group/invite', { userId: owner, body: { group_id: group.group_id, user_list: [m, owner, 2302128699999] } });
    expect(r.body.data).toEqual([
      { user_id: m, result: 'success', reason: '' },
      { user_id: owner, result: 'fail', reason: 'already a member' },
      { user_id: 2302128699999, result: 'fail', reason: 'user does not exist' },
    ]);
    expect(await codeOf(api(sb, 'POST', '/group/invite', { userId: owner, body: { group_id: 3402128699999, user_list: [m] } }))).toBe(20001);
    expect(await codeOf(api(sb, 'POST', '/group/invite', { userId: outsider, body: { group_id: group.group_id, user_list: [outsider] } }))).toBe(20002);
    expect(await codeOf(api(sb, 'POST', '/group/invite', { userId: owner, body: { group_id: group.group_id } }))).toBe(10002);
  });

  it('pages member_list with an opaque cursor, respecting limit, with no cursor on the last page', async () => {
    const owner = await registerUser(sb, 'owner1');
    const ids: number[] = [];
    for (let i = 0; i < 11; i++) ids.push(await registerUser(sb, `m${i}`));
    const group = await makeGroup(owner, { user_list: ids });
    const seen: number[] = [];
    const pages: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const query: Record<string, string | number> = { group_id: group.group_id, limit: 5 };
      if (cursor) query.cursor = cursor;
      const r = await api(sb, 'GET', '/group/member_list', { query });
      expect(r.body).toMatchObject({ code: 200, total: 12, version: 0 });
      pages.push(r.body.data.length);
      seen.push(...r.body.data.map((m: { user_id: number }) => m.user_id));
      expect(r.body.data[0]).toEqual({ user_id: expect.any(Number), display_name: '', join_time: expect.any(Number), expired_time: 0 });
      if (!('cursor' in r.body)) break;
      expect(typeof r.body.cursor).toBe('string');
      cursor = r.body.cursor;
    }
    expect(pages).toEqual([5, 5, 2]);
    expect(seen).toEqual([owner, ...ids]);
    const all = await api(sb, 'GET', '/group/member_list', { query: { group_id: group.group_id } });
    expect(all.body.data).toHaveLength(12);
    expect(all.body.cursor).toBeUndefined();
    expect(await codeOf(api(sb, 'GET', '/group/member_list', { query: { group_id: group.group_id, cursor: 'bogus' } }))).toBe(10002);
  });

  it('lets the app token read any group, and members read theirs; outsiders get 20002', async () => {
    const owner = await registerUser(sb, 'owner1');
    const outsider = await registerUser(sb, 'outsider');
    const group = await makeGroup(owner);
    expect((await api(sb, 'GET', '/group/info', { query: { group_id: group.group_id } })).body.data).toMatchObject({ group_id: group.group_id, count: 1 });
    expect(await codeOf(api(sb, 'GET', '/group/info', { userId: owner, query: { group_id: group.group_id } }))).toBe(200);
    expect(await codeOf(api(sb, 'GET', '/group/info', { userId: outsider, query: { group_id: group.group_id } }))).toBe(20002);
    expect(await codeOf(api(sb, 'GET', '/group/info', { query: { group_id: 3402128699999 } }))).toBe(20001);
    expect(await codeOf(api(sb, 'GET', '/group/info', {}))).toBe(10002);
  });

  it('destroys only for the owner (20013 otherwise), by POST or DELETE', async () => {
    const owner = await registerUser(sb, 'owner1');
    const m = await registerUser(sb, 'member1');
    const group = await makeGroup(owner, { user_list: [m] });
    expect(await codeOf(api(sb, 'POST', '/group/destroy', { userId: m, query: { group_id: group.group_id } }))).toBe(20013);
    expect(await codeOf(api(sb, 'POST', '/group/destroy', { query: { group_id: group.group_id } }))).toBe(10002);
    expect(await codeOf(api(sb, 'DELETE', '/group/destroy', { userId: owner, query: { group_id: group.group_id } }))).toBe(200);
    expect(await codeOf(api(sb, 'POST', '/group/destroy', { userId: owner, query: { group_id: group.group_id } }))).toBe(20001);
    expect(sb.state().groups).toHaveLength(0);
  });
});
