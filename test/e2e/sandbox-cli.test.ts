import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli-process.js';
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
});
