import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { api, http, sendText, waitFor } from '../helpers/sandbox-http.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

function setFaults(s: Sandbox, rules: unknown) {
  return http(`${s.url}/_sandbox/faults`, { method: 'POST', body: JSON.stringify({ rules }), headers: { 'content-type': 'application/json' } });
}

const lastRequest = (s: Sandbox) => s.state().requests.at(-1);

describe('fault injection', () => {
  it('adds latency (rule given as an option) and logs it', async () => {
    sb = await startSandbox({ faults: [{ route: 'GET /user/profile', latencyMs: 150 }] });
    const started = Date.now();
    const r = await api(sb, 'GET', '/user/profile', { userId: sb.knowledgeBase.chatbotUserId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(r.body.code).toBe(200);
    expect(lastRequest(sb)).toMatchObject({ path: '/user/profile', status: 200, code: 200, fault: 'latency(150ms)' });
    const quick = Date.now();
    await api(sb, 'POST', '/user/register/v2', { body: { username: 'fast', password: 'x' }, token: null });
    expect(Date.now() - quick).toBeLessThan(140);
  });

  it('answers 429 with Retry-After, set through POST /_sandbox/faults, for `times` requests only', async () => {
    sb = await startSandbox();
    const set = await setFaults(sb, [{ route: 'POST /message/send', status: 429, retryAfterSeconds: 7, times: 2 }]);
    expect(set.status).toBe(200);
    const admin = sb.knowledgeBase.adminUserIds[0] as number;
    const first = await sendText(sb, admin, sb.knowledgeBase.chatbotUserId, 'hi', { transaction_id: 42 });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('7');
    expect((await sendText(sb, admin, sb.knowledgeBase.chatbotUserId, 'hi')).status).toBe(429);
    expect((await sendText(sb, admin, sb.knowledgeBase.chatbotUserId, 'hi')).body.code).toBe(200);
    expect(sb.state().requests.map((r) => r.fault)).toEqual(['status(429)', 'status(429)', undefined]);
    // A faulted send is still logged with its transaction_id (the body is read before the fault).
    expect(sb.state().requests[0]).toMatchObject({ status: 429, transaction_id: 42 });
    expect(sb.state().messages.filter((m) => m.from_user_id === admin)).toHaveLength(1);
  });

  it('answers 500 on storage routes matched with a wildcard', async () => {
    sb = await startSandbox({ faults: [{ route: 'POST /_oss/*', status: 500 }] });
    const r = await http(`${sb.url}/_oss/sandbox-chat`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(500);
    expect(lastRequest(sb)).toMatchObject({ method: 'POST', path: '/_oss/sandbox-chat', status: 500, fault: 'status(500)' });
  });

  it('answers HTTP 200 with a business code in the envelope, without executing the call', async () => {
    sb = await startSandbox({ faults: [{ route: '/message/send', code: 20000 }] });
    const r = await sendText(sb, sb.knowledgeBase.adminUserIds[0] as number, sb.knowledgeBase.chatbotUserId, 'hi');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ code: 20000, data: null });
    expect(sb.state().messages).toHaveLength(0);
    expect(lastRequest(sb)).toMatchObject({ status: 200, code: 20000, fault: 'code(20000)' });
  });

  it('resets the connection without a response, and logs it', async () => {
    sb = await startSandbox({ faults: [{ route: '/user/register/v2', reset: true, times: 1 }] });
    await expect(api(sb, 'POST', '/user/register/v2', { body: { username: 'x1', password: 'x' }, token: null })).rejects.toThrow();
    expect(lastRequest(sb)).toMatchObject({ path: '/user/register/v2', status: null, fault: 'reset' });
    expect((await api(sb, 'POST', '/user/register/v2', { body: { username: 'x1', password: 'x' }, token: null })).body.code).toBe(200);
  });

  it('dribbles a slow body: headers first, the whole body after slowBodyMs', async () => {
    sb = await startSandbox({ faults: [{ route: 'GET /_sandbox/site/*', slowBodyMs: 300 }] });
    const body = 'x'.repeat(5000);
    sb.setPage('slow.txt', { body });
    const started = Date.now();
    const res = await request(`${sb.url}/_sandbox/site/slow.txt`);
    const headersAfter = Date.now() - started;
    const text = await res.body.text();
    expect(headersAfter).toBeLessThan(250);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(res.headers['content-length']).toBe('5000');
    expect(text).toBe(body);
    expect(lastRequest(sb)).toMatchObject({ status: 200, fault: 'slow-body(300ms)' });
  });

  it('fires with errorRate 0 never; never touches control routes; DELETE clears the rules', async () => {
    sb = await startSandbox({ faults: [{ route: '/user/profile', status: 503, errorRate: 0 }, { route: '*', status: 503 }] });
    sb.setPage('p.html', { body: 'p' });
    expect((await http(`${sb.url}/_sandbox/site/p.html`)).status).toBe(503);
    const state = await http(`${sb.url}/_sandbox/state`);
    expect(state.status).toBe(200);
    expect(state.body.faults).toHaveLength(2);
    const cleared = await http(`${sb.url}/_sandbox/faults`, { method: 'DELETE' });
    expect(cleared.body).toEqual({ ok: true, rules: [] });
    expect((await http(`${sb.url}/_sandbox/site/p.html`)).status).toBe(200);
  });

  // Issue 10, item 14: a request waiting out a latency fault when the sandbox is reset must never run afterwards.
  it('cuts off requests still waiting out a latency fault when reset (over HTTP too), so they never run after it', async () => {
    sb = await startSandbox({ faults: [{ route: 'POST /message/send', latencyMs: 800 }] });
    const s = sb;
    const admin = s.knowledgeBase.adminUserIds[0] as number;
    const waiting = [sendText(s, admin, s.knowledgeBase.chatbotUserId, 'before reset 1'), sendText(s, admin, s.knowledgeBase.chatbotUserId, 'before reset 2')];
    const settled = Promise.allSettled(waiting);
    // Both requests are in, waiting (the log shows the fault), when the reset comes.
    await waitFor(() => s.state().requests.filter((r) => r.fault === 'latency(800ms)').length === 2, 2000, 'two delayed sends');
    s.setFaults([]);
    expect((await http(`${s.url}/_sandbox/reset`, { method: 'POST' })).body).toEqual({ ok: true });
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // idle() waits for every request still being handled (a delayed one would run, then end): nothing happened.
    await s.idle();
    expect(s.state().messages).toEqual([]);
    expect(s.state().requests).toEqual([]);
    // The sandbox serves on: a new send after the reset runs normally.
    expect((await sendText(s, admin, s.knowledgeBase.chatbotUserId, 'after reset')).body.code).toBe(200);
  });

  it('refuses invalid rules (400 over HTTP, a thrown error from setFaults)', async () => {
    sb = await startSandbox();
    const r = await setFaults(sb, [{ route: '*', status: 200 }]);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/rules\[0\]\.status/);
    expect(() => sb!.setFaults([{ route: '*', status: 500, reset: true }])).toThrow(/at most one/);
    expect((await setFaults(sb, [{ route: '*', latencyMs: -1 }])).status).toBe(400);
  });
});
