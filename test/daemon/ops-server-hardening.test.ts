import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { exposureWarning, type OpsServerOptions, startOpsServer } from '../../src/daemon/ops-server.js';
import { runWith } from '../helpers/cli.js';
import { daemonEnv, logSink, useDaemon } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const handlers: OpsServerOptions['handlers'] = { ready: () => true, metrics: async () => ({ contentType: 'text/plain', body: 'm 1\n' }), status: () => ({ ok: true }) };

async function start(options: Partial<OpsServerOptions> = {}) {
  const server = await startOpsServer({ host: '127.0.0.1', port: 0, handlers, ...options });
  onTestFinished(() => server.close());
  return server;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const dispatcher = new Agent();
  try {
    const res = await request(url, { headers, dispatcher });
    return { status: res.statusCode, text: await res.body.text() };
  } finally {
    await dispatcher.destroy();
  }
}

/** Sends a GET with exactly this Host header (or none) on a raw connection; returns the status code. */
function rawGet(port: number, path: string, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.write(`GET ${path} HTTP/1.${host === undefined ? 0 : 1}\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`);
  });
}

/** Opens `count` TCP connections that never send anything; they are destroyed when the test ends. */
async function idleConnections(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  onTestFinished(() => {
    for (const s of sockets) s.destroy();
  });
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, () => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.on('end', () => socket.destroy());
        sockets.push(socket);
        return new Promise<void>((resolve) => {
          socket.once('connect', () => resolve());
          socket.once('close', () => resolve());
        });
      }),
    );
  }
  return sockets;
}

describe('the ops server: hardened for a monitoring endpoint', () => {
  it('requires the bearer token for /status and /metrics when one is set, never for /healthz and /readyz', async () => {
    const token = 'ops-token-0123456789abcdef';
    const server = await start({ token });
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    expect((await get(`${server.url}/readyz`)).status).toBe(200);
    for (const path of ['/status', '/metrics']) {
      expect((await get(`${server.url}${path}`)).status).toBe(401);
      expect((await get(`${server.url}${path}`, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
      expect((await get(`${server.url}${path}`, { authorization: `Basic ${token}` })).status).toBe(401);
      expect((await get(`${server.url}${path}`, { authorization: `Bearer ${token}` })).status).toBe(200);
    }
    const open = await start();
    expect((await get(`${open.url}/status`)).status).toBe(200);
  });

  it('serves the status page at / under the same token (Basic, for browsers, or Bearer) with a policy that runs nothing', async () => {
    const token = 'ops-token-0123456789abcdef';
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const server = await start({ token, handlers: { ...handlers, page: () => '<!doctype html><title>page</title>' } });
    const anonymous = await request(`${server.url}/`);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="lanying-kb", charset="UTF-8"');
    await anonymous.body.dump();
    expect((await get(`${server.url}/`, { authorization: basic('ops', 'wrong-token-0123456789') })).status).toBe(401);
    expect((await get(`${server.url}/`, { authorization: basic('', token.slice(1)) })).status).toBe(401);
    expect((await get(`${server.url}/`, { authorization: `Basic ${Buffer.from(token).toString('base64')}` })).status).toBe(401); // no ":"
    expect(await get(`${server.url}/`, { authorization: basic('anyone', token) })).toEqual({ status: 200, text: '<!doctype html><title>page</title>' });
    expect((await get(`${server.url}/status`, { authorization: basic('', token) })).status).toBe(200);
    const page = await request(`${server.url}/`, { headers: { authorization: `Bearer ${token}` } });
    expect(page.statusCode).toBe(200);
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    await page.body.dump();
    expect(await rawGet(server.port, '/', 'attacker.example')).toBe(403);
    // Without a page handler (a bare ops server), / is not found.
    const bare = await start();
    expect((await get(`${bare.url}/`)).status).toBe(404);
  });

  it('in the daemon: daemon.http.token guards /status and /metrics, `lanying-kb status` sends it, and no log line holds it', async () => {
    const token = 'ops-token-from-env-0123456789';
    const env = await daemonEnv({ daemon: { http: { port: 0, token: '${OPS_TOKEN}' } } });
    env.write('a.md', '# A\n');
    const logs = logSink();
    const daemon = await useDaemon(parseConfig(env.raw, { baseDir: env.dir, filepath: env.configFile, env: { OPS_TOKEN: token } }), { logs });
    await daemon.ready;
    const base = daemon.opsUrl as string;
    expect((await get(`${base}/status`)).status).toBe(401);
    expect((await get(`${base}/metrics`, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get(`${base}/healthz`)).status).toBe(200);
    const live = await runWith(['--json', 'status'], { cwd: env.dir, env: { OPS_TOKEN: token } });
    expect(live.code).toBe(0);
    expect((JSON.parse(live.stdout) as { daemon?: { pid: number } }).daemon?.pid).toBe(process.pid);
    await daemon.stop();
    expect(JSON.stringify(logs.lines)).not.toContain(token);
  });

  it('answers only requests whose Host is loopback, the bound address or an allowed name (DNS rebinding)', async () => {
    const server = await start({ allowedHosts: ['kb-ops.internal'] });
    const port = server.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, `kb-ops.internal:${port}`, 'app.localhost', undefined]) {
      expect(await rawGet(port, '/status', host), String(host)).toBe(200);
    }
    for (const host of [`attacker.example:${port}`, 'kb-ops.internal.attacker.example', `10.0.0.5:${port}`, '[::1', ':80']) {
      expect(await rawGet(port, '/status', host), host).toBe(403);
    }
  });

  it('warns about a non-loopback address, more loudly without a token', () => {
    expect(exposureWarning('127.0.0.1', false)).toBeUndefined();
    expect(exposureWarning('::1', false)).toBeUndefined();
    expect(exposureWarning('0.0.0.0', true)).toBe('the ops server listens on 0.0.0.0, not only on loopback: anyone who can reach this address can read /healthz and /readyz');
    expect(exposureWarning('10.1.2.3', false)).toBe(
      'the ops server listens on 10.1.2.3, not only on loopback: anyone who can reach this address can read /healthz and /readyz, the status page, /status and /metrics (set daemon.http.token to require a token for those)',
    );
  });

  it('keeps at most maxConnections: idle connections make room for a new one, so /healthz still answers', async () => {
    const server = await start({ limits: { maxConnections: 8 } });
    const sockets = await idleConnections(server.port, 50);
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    // The server closed the oldest idle ones.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sockets.filter((s) => !s.destroyed).length).toBeLessThanOrEqual(8);
  });

  it('1,000 idle connections at a file-descriptor limit of 256 do not make /healthz fail', async () => {
    const child = spawn('sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" --import tsx test/fixtures/ops-server-child.ts`], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', () => reject(new Error(`the ops server process ended: ${stderr}`)));
    });
    await idleConnections(port, 1000);
    for (let i = 0; i < 5; i++) expect((await get(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(child.exitCode).toBeNull();
  });
});
