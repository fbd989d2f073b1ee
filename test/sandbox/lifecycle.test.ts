import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { formatSandboxBanner, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { api, http, registerUser, sendText, uploadFile } from '../helpers/sandbox-http.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

describe('start and close', () => {
  it('binds 127.0.0.1 on a free port and pre-registers the knowledge-base users', async () => {
    sb = await startSandbox({ knowledgeBase: { name: 'docs', chatbotUsername: 'bot_1', adminUsernames: ['ad_1', 'ad_2'] } });
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sb.accessToken).toMatch(/^sbx_[0-9a-f]{32}$/);
    expect(sb.knowledgeBase).toEqual({ name: 'docs', chatbotUserId: 2302128600001, adminUserIds: [2302128600002, 2302128600003] });
    expect(sb.state().users.map((u) => u.username)).toEqual(['bot_1', 'ad_1', 'ad_2']);
    expect(JSON.stringify(sb.state().users)).not.toContain('password');
  });

  it('refuses bad options', async () => {
    await expect(startSandbox({ knowledgeBase: { chatbotUsername: 'maxim_bot' } })).rejects.toBeInstanceOf(ValidationError);
    await expect(startSandbox({ knowledgeBase: { adminUsernames: ['kb_bot'] } })).rejects.toThrow(/already exists/);
    await expect(startSandbox({ storageDir: 'relative/dir' })).rejects.toThrow(/absolute path/);
    await expect(startSandbox({ uploadMethod: 'PATCH' as 'PUT' })).rejects.toThrow(/uploadMethod/);
  });

  it('close() removes the temporary storage folder, ends connections and cancels pending ingestion', async () => {
    sb = await startSandbox({ ingestionDelayMs: 60_000 });
    const dir = sb.storageDir;
    expect(dir.startsWith(os.tmpdir())).toBe(true);
    const admin = sb.knowledgeBase.adminUserIds[0] as number;
    await uploadFile(sb, admin, sb.knowledgeBase.chatbotUserId, Buffer.from('x'));
    sb.setPage('p.html', { body: 'p' });
    await sendText(sb, admin, sb.knowledgeBase.chatbotUserId, `${sb.url}/_sandbox/site/p.html`);
    expect(existsSync(dir)).toBe(true);
    const started = Date.now();
    const s = sb;
    sb = undefined;
    await s.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(existsSync(dir)).toBe(false);
    await expect(http(`${s.url}/_sandbox/state`)).rejects.toThrow();
    await s.close(); // idempotent
  });
});

describe('request log and the token', () => {
  it('never records or shows the access token', async () => {
    sb = await startSandbox();
    const admin = sb.knowledgeBase.adminUserIds[0] as number;
    const url = await uploadFile(sb, admin, sb.knowledgeBase.chatbotUserId, Buffer.from('x'));
    await http(`${url}&app_id=${sb.appId}&access-token=${sb.accessToken}`);
    await api(sb, 'GET', '/user/profile', { token: 'wrong-token', userId: admin });
    await api(sb, 'GET', '/user/profile', { token: null });
    const requests = sb.state().requests;
    expect(requests.map((r) => r.token)).toEqual(['valid', 'absent', 'valid', 'invalid', 'absent']);
    expect(requests[0]).toMatchObject({ user_id_header: String(admin) });
    expect(requests[2]).toMatchObject({ path: '/file/download/chat', status: 302 });
    const text = (await http(`${sb.url}/_sandbox/state`)).text;
    expect(text).not.toContain(sb.accessToken);
    expect(text).not.toContain('wrong-token');
    expect(JSON.stringify(sb)).not.toContain(sb.accessToken);
    expect(inspect(sb)).not.toContain(sb.accessToken);
  });
});

describe('reset', () => {
  it('drops traffic, keeps users and groups; IDs keep counting (also over HTTP)', async () => {
    sb = await startSandbox();
    const a = await registerUser(sb, 'amy');
    const group = (await api(sb, 'POST', '/group/create', { userId: a, body: { name: 'g' } })).body.data;
    const first = (await sendText(sb, a, sb.knowledgeBase.adminUserIds[0] as number, 'one')).body.msg_ids[0];
    await uploadFile(sb, a, sb.knowledgeBase.chatbotUserId, Buffer.from('x'));
    await api(sb, 'POST', '/push/notify', { body: { audience: 'all', message: { body: 'b' } } });
    sb.reset();
    let state = sb.state();
    expect([state.messages, state.objects, state.push, state.requests, state.knowledgeBase.documents].map((l) => l.length)).toEqual([0, 0, 0, 0, 0]);
    expect(state.users.map((u) => u.username)).toContain('amy');
    expect(state.groups.map((g) => g.group_id)).toEqual([group.group_id]);
    const second = (await sendText(sb, a, sb.knowledgeBase.adminUserIds[0] as number, 'two')).body.msg_ids[0];
    expect(BigInt(second)).toBeGreaterThan(BigInt(first));
    const r = await http(`${sb.url}/_sandbox/reset`, { method: 'POST' });
    expect(r.body).toEqual({ ok: true });
    state = sb.state();
    expect(state.messages).toHaveLength(0);
  });
});

describe('banner and config snippet', () => {
  it('describes the sandbox and gives a ready configuration', async () => {
    sb = await startSandbox({ appId: 'demo-app', accessToken: 'sbx_fixed' });
    const snippet = sb.configSnippet();
    expect(snippet).toEqual({
      api: { endpoint: sb.url, appId: 'demo-app', accessToken: 'sbx_fixed' },
      knowledgeBase: { chatbotUserId: sb.knowledgeBase.chatbotUserId, adminUserId: sb.knowledgeBase.adminUserIds[0], name: 'sandbox-kb' },
      sources: [],
      sync: {},
    });
    const banner = formatSandboxBanner(sb);
    expect(banner).toContain(sb.url);
    expect(banner).toContain('demo-app');
    expect(banner).toContain('sbx_fixed');
    expect(banner).toContain(`kb_bot (${sb.knowledgeBase.chatbotUserId})`);
    expect(banner).toContain(`kb_admin (${sb.knowledgeBase.adminUserIds[0]})`);
    expect(banner).toContain(JSON.stringify(snippet, null, 2));
  });
});

describe('site', () => {
  it('serves files from siteDir with ETag and Last-Modified, and answers conditional requests with 304', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sbx-site-'));
    await fsp.mkdir(path.join(dir, 'docs'));
    await fsp.writeFile(path.join(dir, 'docs', 'guide.md'), '# Guide\n');
    await fsp.writeFile(path.join(dir, 'index.html'), '<p>home</p>');
    sb = await startSandbox({ siteDir: dir });
    const base = `${sb.url}/_sandbox/site`;
    const r = await http(`${base}/docs/guide.md`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('# Guide\n');
    expect(r.headers['content-type']).toBe('text/markdown; charset=utf-8');
    const etag = r.headers.etag as string;
    const modified = r.headers['last-modified'] as string;
    expect((await http(`${base}/docs/guide.md`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await http(`${base}/docs/guide.md`, { headers: { 'if-modified-since': modified } })).status).toBe(304);
    expect((await http(`${base}/docs/guide.md`, { headers: { 'if-none-match': '"other"', 'if-modified-since': modified } })).status).toBe(200);
    expect((await http(`${base}/`)).text).toBe('<p>home</p>');
    const secret = `${dir}-secret.txt`;
    await fsp.writeFile(secret, 'secret');
    const escape = await http(`${base}/..%2f${path.basename(secret)}`);
    await fsp.rm(secret);
    expect(escape.status).toBe(404);
    expect(escape.headers['content-type']).toMatch(/^text\/html/);
    expect((await http(`${base}/nope.html`)).status).toBe(404);
    await sb.close();
    sb = undefined;
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('serves runtime pages set by setPage or POST /_sandbox/site: status, redirects, ETag, generated bodies', async () => {
    sb = await startSandbox();
    const base = `${sb.url}/_sandbox/site`;
    const set = (page: Record<string, unknown>) => http(`${sb!.url}/_sandbox/site`, { method: 'POST', body: JSON.stringify(page), headers: { 'content-type': 'application/json' } });
    expect((await set({ path: 'gone.html', status: 410, body: 'gone' })).status).toBe(200);
    expect((await set({ path: 'moved', redirectTo: 'gone.html' })).status).toBe(200);
    expect((await set({ path: 'tagged.html', body: 'v1', etag: '"v1"', lastModified: '2024-01-01T00:00:00Z' })).status).toBe(200);
    expect((await set({ path: 'bad', status: 'x' })).status).toBe(400);
    sb.setPage('huge.bin', { bodyBytes: 300_000, contentType: 'application/octet-stream' });
    expect((await http(`${base}/gone.html`)).status).toBe(410);
    const moved = await http(`${base}/moved`);
    expect(moved.status).toBe(302);
    expect(moved.headers.location).toBe('/_sandbox/site/gone.html');
    const tagged = await http(`${base}/tagged.html`);
    expect(tagged.headers).toMatchObject({ etag: '"v1"', 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' });
    expect((await http(`${base}/tagged.html`, { headers: { 'if-none-match': 'W/"v1"' } })).status).toBe(304);
    const huge = await http(`${base}/huge.bin`);
    expect(huge.headers['content-length']).toBe('300000');
    expect(huge.text.length).toBe(300_000);
  });
});
