import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { runCliProcess, startCli } from '../helpers/cli-process.js';
import { waitFor } from '../helpers/sync.js';
import { tmpDir } from '../helpers/tmp-dir.js';

describe('lanying-kb sandbox (the real CLI process)', () => {
  it('binds 127.0.0.1, prints its URL and a ready-to-use config, serves the API, and exits 0 on SIGTERM', async () => {
    const run = startCli(['sandbox', '--port', '0', '--access-token', 'sbx_cli_token'], { cwd: tmpDir() });
    await waitFor(() => /http:\/\/127\.0\.0\.1:\d+/.test(run.output().stdout), 10_000, 'the sandbox banner');
    await waitFor(() => run.output().stdout.includes('"accessToken"'), 5000, 'the config snippet');
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(run.output().stdout)?.[0] as string;
    expect(run.output().stdout).toContain('"endpoint": "' + url + '"');

    const register = await request(`${url}/user/register/v2`, {
      method: 'POST',
      headers: { app_id: 'sandbox-app', 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'from_cli_test', password: 'pw' }),
    });
    expect(((await register.body.json()) as { code: number }).code).toBe(200);
    const noToken = await request(`${url}/user/rosters`, { headers: { app_id: 'sandbox-app' } });
    expect(((await noToken.body.json()) as { code: number }).code).toBe(10003);

    run.child.kill('SIGTERM');
    const ended = await run.done;
    expect(ended.code).toBe(0);
  });

  it('takes fault rules with --fault (key=value pairs or JSON) and more knowledge bases with --other-kb', async () => {
    const run = startCli(
      ['sandbox', '--port', '0', '--fault', 'chatbot=refuse,reason=service_expired,times=1', '--fault', '{"route":"GET /user/rosters","status":503,"times":1}', '--other-kb', 'kb2'],
      { cwd: tmpDir() },
    );
    await waitFor(() => run.output().stdout.includes('"accessToken"'), 10_000, 'the banner');
    const out = run.output().stdout;
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0] as string;
    expect(out).toContain('fault rules:     {"chatbot":"refuse","reason":"service_expired","times":1}');
    expect(out).toContain('also administer: kb2');
    const token = /"accessToken": "([^"]+)"/.exec(out)?.[1] as string;
    const state = async () => (await (await request(`${url}/_sandbox/state`)).body.json()) as { knowledgeBase: { adminUserIds: number[]; chatbotUserId: number }; messages: { content: string }[] };
    const { knowledgeBase } = await state();
    const headers = { app_id: 'sandbox-app', 'access-token': token, 'content-type': 'application/json' };
    const send = (content: string) =>
      request(`${url}/message/send`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ targets: [knowledgeBase.chatbotUserId], type: 1, content_type: 0, content, from_user_id: knowledgeBase.adminUserIds[0] }),
      }).then((r) => r.body.json());
    await send('/bluevector info');
    await send('/bluevector info');
    expect((await state()).messages.map((m) => m.content).filter((t) => t !== '' && !t.startsWith('/'))).toEqual([
      'service is expired',
      '当前预设绑定的知识库为：\n知识库名称: sandbox-kb, 分片大小:350字, 存储空间:0.0MB\n知识库名称: kb2, 分片大小:350字, 存储空间:0.0MB',
    ]);
    expect((await request(`${url}/user/rosters`, { headers: { ...headers, user_id: String(knowledgeBase.chatbotUserId) } })).statusCode).toBe(503);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  });

  it('refuses a bad --fault with a one-line message naming it (exit 2)', async () => {
    const ended = await runCliProcess(['sandbox', '--port', '0', '--fault', 'chatbot=refuse,reason=nope'], { cwd: tmpDir() });
    expect(ended.code).toBe(2);
    expect(ended.stderr).toMatch(/^lanying-kb: --fault\[0\]\.reason: /);
    expect(ended.stderr.trim().split('\n')).toHaveLength(1);
  });
});
