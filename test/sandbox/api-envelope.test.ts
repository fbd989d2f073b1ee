import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { api, codeOf, registerUser } from '../helpers/sandbox-http.js';

let sb: Sandbox;
beforeEach(async () => {
  sb = await startSandbox();
});
afterEach(async () => {
  await sb.close();
});

describe('envelope and common headers', () => {
  it('answers success as {code: 200, message: null, data}', async () => {
    const admin = sb.knowledgeBase.adminUserIds[0] as number;
    const r = await api(sb, 'GET', '/user/profile', { userId: admin });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body).toEqual({ code: 200, message: null, data: expect.objectContaining({ user_id: admin, username: 'kb_admin' }) });
  });

  it('answers 40000 for a missing or unknown app_id, before looking at the token', async () => {
    expect(await codeOf(api(sb, 'GET', '/user/profile', { appId: null, token: null }))).toBe(40000);
    const r = await api(sb, 'GET', '/user/profile', { appId: 'other-app' });
    expect(r.body).toMatchObject({ code: 40000, data: null });
    expect(r.body.message).toMatch(/app_id/);
  });

  it('answers 10003 without a token and 10008 with a wrong one', async () => {
    expect(await codeOf(api(sb, 'GET', '/user/profile', { token: null }))).toBe(10003);
    expect(await codeOf(api(sb, 'GET', '/user/profile', { token: 'sbx_wrong' }))).toBe(10008);
  });

  it('answers 10000 for a user_id header naming nobody and 10002 for one that is not a number', async () => {
    expect(await codeOf(api(sb, 'GET', '/user/profile', { userId: 2302128699999 }))).toBe(10000);
    expect(await codeOf(api(sb, 'GET', '/user/profile', { userId: 'abc' }))).toBe(10002);
  });

  it('needs a user_id header on user-scoped calls made with the admin token', async () => {
    const r = await api(sb, 'GET', '/user/profile');
    expect(r.body.code).toBe(10002);
    expect(r.body.message).toMatch(/user_id header is required/);
  });

  it('refuses malformed JSON, a non-JSON content type and a non-object body with 10002', async () => {
    const malformed = await api(sb, 'POST', '/user/profile', { userId: sb.knowledgeBase.chatbotUserId, rawBody: '{"nick_name":' });
    expect(malformed.body).toMatchObject({ code: 10002 });
    expect(malformed.body.message).toMatch(/not valid JSON/);
    const form = await api(sb, 'POST', '/user/profile', { userId: sb.knowledgeBase.chatbotUserId, rawBody: 'nick_name=x', contentType: 'application/x-www-form-urlencoded' });
    expect(form.body.message).toMatch(/Content-Type must be application\/json/);
    const array = await api(sb, 'POST', '/user/profile', { userId: sb.knowledgeBase.chatbotUserId, body: [1, 2] });
    expect(array.body.message).toMatch(/must be a JSON object/);
  });

  it('answers an unknown route with HTTP 404 JSON and a wrong method with 405', async () => {
    const missing = await api(sb, 'GET', '/no/such/route');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/no such API route/);
    const wrong = await api(sb, 'GET', '/message/send');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toContain('POST');
  });
});

describe('users', () => {
  it('registers with only app_id and returns the settings object with user_id', async () => {
    const r = await api(sb, 'POST', '/user/register/v2', { body: { username: 'alice_1', password: 'pw' }, token: null });
    expect(r.body.code).toBe(200);
    expect(r.body.data).toMatchObject({ user_id: expect.any(Number), auth_mode: 0, no_push: false });
    expect(r.body.data.user_id).toBeGreaterThan(2302128600000);
    expect(r.body.data.user_id).toBeLessThan(2 ** 53);
  });

  it.each([
    ['a-b', 'letters, digits, underscore'],
    ['12345', 'all digits'],
    ['maxim_user', 'maxim'],
    ['mta1', 'mta'],
    ['张-三', 'letters, digits, underscore'],
    ['', 'empty'],
    ['x'.repeat(65), 'at most 64'],
  ])('refuses the username %j with 10002', async (username, why) => {
    const r = await api(sb, 'POST', '/user/register/v2', { body: { username, password: 'pw' }, token: null });
    expect(r.body.code).toBe(10002);
    expect(r.body.message).toContain(why);
  });

  // Swagger's rule (api-docs.json:15579): CJK ideographs are letters; the mta/maxim look-ahead is case-sensitive.
  it.each(['张三', '张三_2', 'Maxim_fan', 'MTA1', '_1', 'a1'])('registers the username %j', async (username) => {
    const r = await api(sb, 'POST', '/user/register/v2', { body: { username, password: 'pw' }, token: null });
    expect(r.body.code).toBe(200);
  });

  it('makes the invented username length an option', async () => {
    const wide = await startSandbox({ limits: { usernameMaxLength: 100 } });
    onTestFinished(() => wide.close());
    expect((await api(wide, 'POST', '/user/register/v2', { body: { username: 'x'.repeat(100), password: 'pw' }, token: null })).body.code).toBe(200);
    expect((await api(wide, 'POST', '/user/register/v2', { body: { username: 'x'.repeat(101), password: 'pw' }, token: null })).body.code).toBe(10002);
  });

  it('names the missing or mistyped field', async () => {
    const missing = await api(sb, 'POST', '/user/register/v2', { body: { username: 'bob' }, token: null });
    expect(missing.body.message).toMatch(/password is required/);
    const typed = await api(sb, 'POST', '/user/register/v2', { body: { username: 42, password: 'x' }, token: null });
    expect(typed.body.message).toMatch(/username must be a string/);
  });

  it('answers 10004 for a taken username, whatever its case', async () => {
    await registerUser(sb, 'carol');
    expect(await codeOf(api(sb, 'POST', '/user/register/v2', { body: { username: 'carol', password: 'x' }, token: null }))).toBe(10004);
    expect(await codeOf(api(sb, 'POST', '/user/register/v2', { body: { username: 'Carol', password: 'x' }, token: null }))).toBe(10004);
  });

  it('registers a batch with one result per user, a refused user not failing the others', async () => {
    const r = await api(sb, 'POST', '/user/register/batch', {
      body: { list: [{ username: 'dave', password: 'x' }, { username: 'kb_admin', password: 'x' }, { username: '999', password: 'x' }] },
    });
    expect(r.body.code).toBe(200);
    expect(r.body.data).toEqual([
      { user_id: expect.any(Number), username: 'dave', success: true, reason: '' },
      { username: 'kb_admin', success: false, reason: expect.stringMatching(/already exists/) },
      { username: '999', success: false, reason: expect.stringMatching(/all digits/) },
    ]);
    expect(await codeOf(api(sb, 'POST', '/user/register/batch', { body: { list: [] } }))).toBe(10002);
    expect(await codeOf(api(sb, 'POST', '/user/register/batch', { body: { list: [{ username: 'x1' }] }, token: null }))).toBe(10003);
  });

  it('reads and updates a profile acting as the user_id header user', async () => {
    const id = await registerUser(sb, 'erin');
    const update = await api(sb, 'POST', '/user/profile', { userId: id, body: { nick_name: 'Erin', description: 'hi' } });
    expect(update.body).toEqual({ code: 200, message: null, data: true });
    const profile = await api(sb, 'GET', '/user/profile', { userId: id });
    expect(profile.body.data).toMatchObject({ user_id: id, username: 'erin', nick_name: 'Erin', description: 'hi' });
    expect(await codeOf(api(sb, 'POST', '/user/profile', { userId: id, body: { nick_name: 5 } }))).toBe(10002);
    expect(await codeOf(api(sb, 'POST', '/user/profile', { body: { nick_name: 'x' } }))).toBe(10002);
  });
});
