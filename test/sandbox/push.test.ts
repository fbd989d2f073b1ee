import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { api, codeOf } from '../helpers/sandbox-http.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

function notify(s: Sandbox, body: unknown) {
  return api(s, 'POST', '/push/notify', { body });
}

describe('POST /push/notify', () => {
  it('accepts "all" and each single-key audience, answers a task_id and records the push', async () => {
    sb = await startSandbox();
    const r = await notify(sb, { audience: 'all', message: { title: 't', body: 'b' } });
    expect(r.body).toEqual({ code: 200, message: null, data: { task_id: expect.any(Number) } });
    for (const audience of [{ tag: ['a'] }, { alias: ['x'] }, { user_id: [1, 2] }, { push_token: ['tok'] }]) {
      expect(await codeOf(notify(sb, { audience, message: { body: 'b', type: 'cmd' } }))).toBe(200);
    }
    const pushes = sb.state().push;
    expect(pushes).toHaveLength(5);
    expect(pushes[0]).toMatchObject({ task_id: r.body.data.task_id, audience: 'all', message: { title: 't', body: 'b' } });
  });

  it('refuses a malformed audience or message with 10002', async () => {
    sb = await startSandbox();
    for (const body of [
      { message: { body: 'b' } },
      { audience: 'everyone', message: { body: 'b' } },
      { audience: { tag: ['a'], alias: ['b'] }, message: { body: 'b' } },
      { audience: { user_id: ['1'] }, message: { body: 'b' } },
      { audience: { tag: [] }, message: { body: 'b' } },
      { audience: 'all' },
      { audience: 'all', message: { type: 'video' } },
      { audience: 'all', message: { ext: '{}' } },
      { audience: 'all', message: { body: 'b' }, setting: { distribution_strategy: 'fastest' } },
    ]) {
      const r = await notify(sb, body);
      expect(r.body.code, JSON.stringify(body)).toBe(10002);
    }
    expect(sb.state().push).toHaveLength(0);
  });

  it('answers 12005 for more than 500 entries', async () => {
    sb = await startSandbox();
    const tags = Array.from({ length: 501 }, (_, i) => `t${i}`);
    expect(await codeOf(notify(sb, { audience: { tag: tags }, message: { body: 'b' } }))).toBe(12005);
    expect(await codeOf(notify(sb, { audience: { tag: tags.slice(0, 500) }, message: { body: 'b' } }))).toBe(200);
  });

  it('answers 12006 when push is disabled', async () => {
    sb = await startSandbox({ pushEnabled: false });
    expect(await codeOf(notify(sb, { audience: 'all', message: { body: 'b' } }))).toBe(12006);
  });

  it('checks push images: extension (12002), size on the sandbox site (12002), downloadable (12004)', async () => {
    sb = await startSandbox();
    sb.setPage('img/ok.png', { body: Buffer.alloc(2048, 7), contentType: 'image/png' });
    sb.setPage('img/big.jpg', { bodyBytes: 1024 * 1024, contentType: 'image/jpeg' });
    const image = (url: string) => notify(sb as Sandbox, { audience: 'all', message: { type: 'image', attachment_url: url } });
    expect(await codeOf(image(`${sb.url}/_sandbox/site/img/ok.png`))).toBe(200);
    expect(await codeOf(image(`${sb.url}/_sandbox/site/img/ok.gif`))).toBe(12002);
    expect(await codeOf(image(`${sb.url}/_sandbox/site/img/big.jpg`))).toBe(12002);
    expect(await codeOf(image(`${sb.url}/_sandbox/site/img/missing.png`))).toBe(12004);
    expect(await codeOf(notify(sb, { audience: 'all', message: { type: 'image' } }))).toBe(10002);
    expect(sb.state().push).toHaveLength(1);
  });

  it('does not push twice for a repeated setting.request_id', async () => {
    sb = await startSandbox();
    const body = { audience: 'all', message: { body: 'b' }, setting: { request_id: 'req-1' } };
    const first = await notify(sb, body);
    const again = await notify(sb, body);
    expect(again.body.data.task_id).toBe(first.body.data.task_id);
    expect(sb.state().push).toHaveLength(1);
  });
});
