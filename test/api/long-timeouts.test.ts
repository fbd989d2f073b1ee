import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LanyingClient } from '../../src/api/client.js';
import { fetchUrl } from '../../src/sources/urls/fetch.js';

/** Answers after 20 ms: longer than the 1 ms an overflowed timer waits. */
async function slowishServer(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end(req.url?.startsWith('/page') ? '<html><body><p>hi</p></body></html>' : '{"code":200,"message":null,"data":{"ok":true}}'), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// Library callers pass timeouts without the config schema's bounds: a timeout of 2^31 ms or more must still wait.
describe('timeouts beyond 2^31 ms', () => {
  it('api timeoutMs 3000000000 does not fail every call at once', async () => {
    const url = await slowishServer();
    const client = new LanyingClient({ endpoint: url, appId: 'app', accessToken: 'token-1234567890', timeoutMs: 3_000_000_000, maxRetries: 0 });
    expect((await client.get<{ ok: boolean }>('/x')).data).toEqual({ ok: true });
  });

  it('a URL fetch deadline of 3000000000 ms does not time out at once', async () => {
    const url = await slowishServer();
    const downloadDir = await mkdtemp(path.join(tmpdir(), 'lanying-kb-long-'));
    onTestFinished(() => rm(downloadDir, { recursive: true, force: true }));
    const fetched = await fetchUrl(`${url}/page`, { timeoutMs: 3_000_000_000, maxRedirects: 1, maxBytes: 10_000, allowPrivateAddresses: true, downloadDir });
    expect(fetched.status).toBe('page');
  });
});
