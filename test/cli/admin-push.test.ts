import { describe, expect, it } from 'vitest';
import { cliFor } from '../helpers/cli.js';
import { clientFor, useSandbox } from '../helpers/sandbox.js';
import { httpServer } from '../admin/fixtures.js';

type PushRecord = { audience: 'all' | Record<string, unknown[]>; message: Record<string, unknown> };

describe('lanying-kb push notify', () => {
  it('splits 1,201 user IDs into 3 calls and says so', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const ids = Array.from({ length: 1201 }, (_, i) => String(i + 1));
    const run = await cli.run(['push', 'notify', '--user-id', ...ids, '--title', 'T', '--body', 'B', '--ext', '{"x":1}']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^push sent to 1201 user_id entries in 3 calls \(lists over 500 entries are split\)/);
    const pushes = sandbox.state().push as PushRecord[];
    expect(pushes.map((p) => (p.audience as { user_id: number[] }).user_id.length)).toEqual([500, 500, 201]);
    expect(pushes[0]?.message).toMatchObject({ type: 'text', title: 'T', body: 'B', ext: { x: 1 } });
  });

  it('sends a text push with an audio attachment and a string badge, as swagger allows (api-docs.json:14049,14055-14058)', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    // No image check (no download of the URL): only an image push must be a jpg/jpeg/png under 1 MB.
    const run = await cli.run(['push', 'notify', '--all', '--yes', '--body', 'listen', '--attachment-url', 'https://cdn.example.invalid/voice.mp3', '--badge', '+1']);
    expect(run.code).toBe(0);
    expect((sandbox.state().push as PushRecord[])[0]?.message).toMatchObject({ type: 'text', attachment_url: 'https://cdn.example.invalid/voice.mp3', badge: '+1' });
  });

  it('--all asks for "yes" on a terminal, and needs --yes without one: nothing is sent otherwise', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const args = ['push', 'notify', '--all', '--body', 'hi'];
    const refused = await cli.run(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^lanying-kb: A push to every user cannot be called back: add --yes to confirm \(no terminal to ask on\)$/m);
    const declined = await cli.run(args, { isTTY: true, stdin: 'y\n' });
    expect(declined.code).toBe(2);
    expect(declined.stderr).toMatch(/^Send this push notification to every user of the app\? Type "yes" to confirm: lanying-kb: not confirmed/);
    expect(sandbox.state().push).toHaveLength(0);
    const confirmed = await cli.run(args, { isTTY: true, stdin: 'yes\n' });
    expect(confirmed.code).toBe(0);
    expect(sandbox.state().push).toHaveLength(1);
    // A list audience is not asked about.
    expect((await cli.run(['push', 'notify', '--user-id', '1', '--body', 'hi'])).code).toBe(0);
  });

  it('sends to all, or to tags', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    expect((await cli.run(['push', 'notify', '--all', '--yes', '--body', 'hi'])).code).toBe(0);
    const json = await cli.run(['--json', 'push', 'notify', '--tag', 'a', 'b', '--body', 'hi', '--type', 'cmd']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, calls: 1, audienceSize: 2 });
    expect((sandbox.state().push as PushRecord[]).map((p) => p.audience)).toEqual(['all', { tag: ['a', 'b'] }]);
  });

  it('wants exactly one audience and an --ext object', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const none = await cli.run(['push', 'notify', '--body', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name exactly one audience.*\(none given\)/);
    const two = await cli.run(['push', 'notify', '--all', '--yes', '--tag', 't', '--body', 'x']);
    expect(two.stderr).toMatch(/\(2 given\)/);
    const ext = await cli.run(['push', 'notify', '--all', '--yes', '--body', 'x', '--ext', 'nope']);
    expect(ext.code).toBe(2);
    expect(ext.stderr).toMatch(/--ext: is not valid JSON/);
    const type = await cli.run(['push', 'notify', '--all', '--yes', '--body', 'x', '--type', 'video']);
    expect(type.code).toBe(2);
    expect(sandbox.state().push).toHaveLength(0);
  });

  it('checks an image before sending: its extension, its size, and that it can be fetched', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const images = await httpServer((req, res) => {
      if (req.url === '/missing.png') return void res.writeHead(404).end();
      const size = req.url === '/big.jpg' ? 1_500_000 : 50_000;
      res.writeHead(200, { 'content-length': String(size), 'content-type': 'image/jpeg' });
      res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(size));
    });
    const args = (url: string) => ['push', 'notify', '--all', '--yes', '--type', 'image', '--title', 'pic', '--attachment-url', url];

    const gif = await cli.run(args(`${images.url}/a.gif`));
    expect(gif.code).toBe(2);
    expect(gif.stderr).toMatch(/--attachment-url: a push image must end in \.jpg, \.jpeg or \.png/);
    const big = await cli.run(args(`${images.url}/big.jpg`));
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/the image is 1\.4 MiB \(1500000 bytes\); a push image must be under 1 MB/);
    const missing = await cli.run(args(`${images.url}/missing.png`));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot be downloaded \(HTTP 404\).*12004/);
    expect(sandbox.state().push).toHaveLength(0);

    const ok = await cli.run(args(`${images.url}/small.jpg`));
    expect(ok.code).toBe(0);
    expect((sandbox.state().push as PushRecord[])[0]?.message).toMatchObject({ type: 'image', attachment_url: `${images.url}/small.jpg` });
  });

  it('surfaces 12005 when an audience over 500 reaches the API directly', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const alias = Array.from({ length: 501 }, (_, i) => `a${i}`);
    await expect(client.call({ method: 'POST', path: '/push/notify', body: { audience: { alias }, message: { body: 'x' } } })).rejects.toMatchObject({
      code: 12005,
      message: expect.stringMatching(/code 12005, push target list longer than 500/),
    });
  });
});
