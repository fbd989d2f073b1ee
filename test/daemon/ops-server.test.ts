import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { runWith } from '../helpers/cli.js';
import { daemonEnv, useDaemon } from './helpers.js';

async function get(url: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; type: string; text: string }> {
  const res = await request(url, { method });
  return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
}

describe('lanying-kb watch: the ops HTTP server', () => {
  it('answers /healthz, /readyz (503 until the first reconcile), /metrics and /status; `lanying-kb status` shows the live view', async () => {
    const env = await daemonEnv({ daemon: { http: { port: 0 } } });
    env.write('a.md', '# A\n');
    env.sandbox.setFaults([
      { route: 'GET /file/upload/chat', status: 500, times: 1 },
      { route: 'POST /message/send', latencyMs: 700, times: 1 },
    ]);
    const daemon = await useDaemon(env.config());
    const base = daemon.opsUrl as string;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(base).not.toMatch(/:0$/);

    expect((await get(`${base}/readyz`)).status).toBe(503);
    expect(await get(`${base}/healthz`)).toMatchObject({ status: 200, text: 'ok\n' });
    const early = JSON.parse((await get(`${base}/status`)).text) as { daemon: { ready: boolean } };
    expect(early.daemon.ready).toBe(false);

    await daemon.ready;
    expect((await get(`${base}/readyz`)).status).toBe(200);

    const metrics = await get(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.text).toMatch(/^lanying_kb_documents_total\{source="docs",outcome="sent"\} 1$/m);
    expect(metrics.text).toMatch(/^lanying_kb_sent_bytes_total\{source="docs"\} 4$/m);
    expect(metrics.text).toMatch(/^lanying_kb_upload_duration_seconds_count 1$/m);
    expect(metrics.text).toMatch(/^lanying_kb_api_errors_total\{code="http_500"\} 1$/m);
    expect(metrics.text).toMatch(/^lanying_kb_queue_depth 0$/m);
    expect(metrics.text).toMatch(/^lanying_kb_uploads_in_flight 0$/m);
    expect(metrics.text).toMatch(/^lanying_kb_ready 1$/m);
    expect(metrics.text).toMatch(/^lanying_kb_last_success_timestamp_seconds \d+/m);
    expect(metrics.text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(metrics.text).toMatch(/^nodejs_heap_size_used_bytes /m);

    // The chatbot confirms the document in the background.
    for (let i = 0; i < 250; i++) {
      const now = JSON.parse((await get(`${base}/status`)).text) as { sources: Record<string, Record<string, number>> };
      if (now.sources.docs?.ingested === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const status = JSON.parse((await get(`${base}/status`)).text) as {
      stateFile: string;
      sources: Record<string, Record<string, number>>;
      daemon: { ready: boolean; queue: Record<string, number>; sources: { name: string; state: string; lastReconcileAt: string | null }[] };
    };
    expect(status.stateFile).toMatch(/state\.db$/);
    expect(status.sources).toEqual({ docs: { ingested: 1 } });
    expect(status.daemon.ready).toBe(true);
    expect(status.daemon.queue).toEqual({ waiting: 0, inFlight: 0, pendingPaths: 0 });
    expect(status.daemon.sources).toMatchObject([{ name: 'docs', state: 'watching' }]);
    expect(status.daemon.sources[0]?.lastReconcileAt).toBeTruthy();

    expect((await get(`${base}/nothing`)).status).toBe(404);
    expect((await get(`${base}/status`, 'POST')).status).toBe(405);

    // `lanying-kb status` asks the daemon (port 0: the port it wrote to daemon.json).
    const live = await runWith(['--json', 'status'], { cwd: env.dir });
    expect(live.code).toBe(0);
    expect((JSON.parse(live.stdout) as { daemon?: { pid: number } }).daemon?.pid).toBe(process.pid);
    const text = await runWith(['status'], { cwd: env.dir });
    expect(text.stdout).toContain('docs: 1 ingested');
    expect(text.stdout).toMatch(/Daemon: pid \d+, running/);
    expect(text.stdout).toContain('docs (folder): watching');

    await daemon.stop();
    await expect(get(`${base}/healthz`)).rejects.toThrow();
    // Stopped: back to the state database.
    const offline = await runWith(['--json', 'status'], { cwd: env.dir });
    expect(offline.code).toBe(0);
    const parsed = JSON.parse(offline.stdout) as { daemon?: unknown; sources: unknown };
    expect(parsed.daemon).toBeUndefined();
    expect(parsed.sources).toEqual({ docs: { ingested: 1 } });
  });

  it('refuses to start when the ops port is taken (exit 2 via ConfigError), and releases the lock', async () => {
    const env = await daemonEnv({ daemon: { http: { port: 0 } } });
    const first = await useDaemon(env.config());
    const port = Number(new URL(first.opsUrl as string).port);
    const other = await daemonEnv({ daemon: { http: { port } } });
    const { startDaemon } = await import('../../src/daemon/daemon.js');
    await expect(startDaemon({ config: other.config() })).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('daemon.http') });
    // The lock was released: a daemon without the port conflict starts on that state folder.
    const again = await useDaemon(other.config({ ...other.raw, daemon: { debounceMs: 100 } }));
    await again.ready;
  });
});
