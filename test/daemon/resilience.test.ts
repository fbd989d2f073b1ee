import { watch } from 'chokidar';
import { describe, expect, it } from 'vitest';
import type { WatcherFactory } from '../../src/sources/folder/watcher.js';
import { daemonEnv, logSink, tally, useDaemon, waitFor } from './helpers.js';

describe('lanying-kb watch: failures and fallbacks', () => {
  it('recovers without a restart when the API is down for a while', async () => {
    const env = await daemonEnv({ api: { maxRetries: 0 }, sync: { maxAttempts: 1 } });
    env.write('before.md', '# Before\n');
    const logs = logSink();
    // A breaker that probes often, so that the test does not wait out a long open time once the API is back.
    const daemon = await useDaemon(env.config(), { logs, retryDelayMs: 200, breaker: { openMs: 50, maxOpenMs: 200 } });
    await daemon.ready;
    expect(env.sentPaths()).toEqual(['before.md']);

    env.sandbox.setFaults([{ route: '*', status: 503 }]);
    for (let i = 0; i < 5; i++) env.write(`outage-${i}.md`, `# Written during the outage ${i}\n`);
    await waitFor(() => logs.lines.some((l) => l.event === 'failed'), 5000, 'failed sends');
    // The outage lasts: the daemon schedules a retry, which starts and meets it too (its client waits for the API).
    const next = (event: string, after: number) => logs.lines.findIndex((l, i) => i > after && l.event === event);
    await waitFor(() => next('retry-scheduled', -1) >= 0 && next('reconcile-started', next('retry-scheduled', -1)) >= 0, 10_000, 'the retry to start');
    await env.sandbox.idle();
    expect(env.sentPaths()).toEqual(['before.md']);
    env.sandbox.setFaults([]);

    await waitFor(() => env.sentPaths().length === 6, 10_000, 'the documents after the outage');
    await daemon.whenIdle();
    const counts = tally(env.sentPaths());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(env.state().list({ status: ['sent', 'ingested'] })).toHaveLength(6);
    expect(logs.lines.some((l) => l.event === 'retry-scheduled')).toBe(true);
    const rendered = (await daemon.metrics.render()).body;
    expect(rendered).toMatch(/lanying_kb_api_errors_total\{code="http_503"\} [1-9]/);
  });

  it('falls back to polling when the kernel refuses a watch (simulated ENOSPC), says how to fix it, and still syncs', async () => {
    const env = await daemonEnv();
    env.write('a.md', '# A\n');
    const created: boolean[] = [];
    const factory: WatcherFactory = (root, options) => {
      const watcher = watch(root, options);
      created.push(options.usePolling === true);
      if (!options.usePolling) {
        setTimeout(() => {
          const error = Object.assign(new Error('ENOSPC: System limit for number of file watchers reached, watch'), { code: 'ENOSPC', errno: -28 });
          watcher.emit('error', error);
        }, 5);
      }
      return watcher;
    };
    const logs = logSink();
    const daemon = await useDaemon(env.config(), { logs, watcherFactory: factory, pollIntervalMs: 100 });
    await daemon.ready;
    expect(created).toEqual([false, true]);
    expect(daemon.status().sources[0]?.state).toBe('polling');
    const line = logs.lines.find((l) => l.event === 'watch-fallback');
    expect(line).toMatchObject({ level: 'warn', source: 'docs', code: 'ENOSPC' });
    expect(String(line?.fix)).toContain('sysctl fs.inotify.max_user_watches=524288');
    expect(String(line?.fix)).toContain('/etc/sysctl.d');

    env.write('b.md', '# B\n');
    await waitFor(() => env.sentPaths().includes('b.md'), 5000, 'a file seen by polling');
    expect((await daemon.metrics.render()).body).toMatch(/lanying_kb_watcher_fallbacks_total\{source="docs",code="ENOSPC"\} 1/);
    expect((await daemon.metrics.render()).body).toMatch(/lanying_kb_watcher_state\{source="docs",state="polling"\} 1/);
  });

  it('sends the notify summary after a reconcile that changed the knowledge base; watched changes go with the next reconcile', async () => {
    const env = await daemonEnv({ sandbox: { knowledgeBase: { adminUsernames: ['kb_admin', 'ops_person'] } }, daemon: { reconcileInterval: '600ms' } });
    const [admin, person] = env.sandbox.knowledgeBase.adminUserIds as [number, number];
    env.raw.notify = { message: { from: admin, users: [person], text: '{kb}: {added} added, {sent} sent' } };
    env.write('a.md', '# A\n');
    const summaries = () => env.sandbox.state().messages.filter((m) => m.to_id === person).map((m) => m.content);
    const logs = logSink();
    const daemon = await useDaemon(env.config(), { logs });
    await daemon.ready;
    await waitFor(() => summaries().length === 1, 5000, 'the first summary');
    expect(summaries()).toEqual(['sandbox-kb: 1 added, 1 sent']);

    env.write('b.md', '# B\n');
    env.write('c.md', '# C\n');
    await waitFor(() => summaries().length === 2, 5000, 'the summary of the watched changes');
    expect(summaries()[1]).toBe('sandbox-kb: 2 added, 2 sent');
    // Periodic reconciles that send nothing send no summary: two more of them, then a stop, which waits for every
    // summary being sent.
    const reconciles = () => logs.lines.filter((l) => l.event === 'reconcile-finished').length;
    const seen = reconciles();
    await waitFor(() => reconciles() >= seen + 2, 5000, 'two more periodic reconciles');
    await daemon.stop();
    await env.sandbox.idle();
    expect(summaries()).toHaveLength(2);
  });

  it('checks URL sources again every refreshInterval (conditional GET) and sends a page only when it changed', async () => {
    const env = await daemonEnv({
      sources: () => [{ type: 'urls', name: 'site', allowPrivateAddresses: true, urls: ['PLACEHOLDER'], refreshInterval: '300ms' }],
    });
    const url = `${env.sandbox.url}/_sandbox/site/faq.html`;
    env.sandbox.setPage('faq.html', { body: '<html><head><title>FAQ</title></head><body><p>Version one of the answers.</p></body></html>' });
    const raw = { ...env.raw, sources: [{ type: 'urls', name: 'site', allowPrivateAddresses: true, urls: [url], refreshInterval: '300ms' }] };
    const daemon = await useDaemon(env.config(raw));
    await daemon.ready;
    expect(env.sends().map((m) => m.content)).toEqual([url]);
    const fetches = () => env.sandbox.state().requests.filter((r) => r.path === '/_sandbox/site/faq.html' && r.method === 'GET');
    // Note: the sandbox's chatbot fetches the page too (to ingest it); the daemon's checks are the 304s.
    const notModified = () => fetches().filter((r) => r.status === 304).length;
    await waitFor(() => notModified() >= 2, 5000, 'two conditional checks');
    expect(env.sends()).toHaveLength(1);
    const next = daemon.status().sources[0]?.nextRefreshAt;
    expect(next).toBeTruthy();

    env.sandbox.setPage('faq.html', { body: '<html><head><title>FAQ</title></head><body><p>Version two, with more answers.</p></body></html>' });
    await waitFor(() => env.sends().length === 2, 5000, 'the changed page');
    await daemon.whenIdle();
    expect(env.state().get('site', url)?.status).toMatch(/^(sent|ingested)$/);
  });
});
