import { describe, expect, it } from 'vitest';
import { type DaemonEnv, daemonEnv, spawnWatch, tally, waitFor, type WatchProcess } from './helpers.js';

const FILES = 24;

async function envWithFiles(daemon: Record<string, unknown>): Promise<DaemonEnv> {
  const env = await daemonEnv({ daemon, sync: { concurrency: 3 } });
  for (let i = 0; i < FILES; i++) env.write(`doc-${String(i).padStart(2, '0')}.md`, `# Document ${i}\n`);
  env.writeConfig();
  return env;
}

/** Starts the daemon again without faults and waits until every document is in; then stops it (exit 0). */
async function restartAndFinish(env: DaemonEnv): Promise<void> {
  env.sandbox.setFaults([]);
  const again = spawnWatch(env.dir, env.configFile);
  await again.waitForLog((l) => l.event === 'ready', 20_000, 'the restarted daemon to be ready');
  await waitFor(() => tally(env.sentPaths()).size === FILES, 10_000, 'every document');
  again.child.kill('SIGTERM');
  expect((await again.exited).code).toBe(0);
}

function expectEachOnce(env: DaemonEnv): void {
  const counts = tally(env.sentPaths());
  expect(counts.size).toBe(FILES);
  expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  const state = env.state();
  expect(state.list({ status: ['sent', 'ingested'] })).toHaveLength(FILES);
  for (const message of env.sends()) {
    const key = (JSON.parse(message.ext) as { ai: { metadata: { path: string } } }).ai.metadata.path;
    expect(state.get('docs', key)?.msgId).toBe(message.msg_id);
  }
}

function firstSend(proc: WatchProcess) {
  return proc.waitForLog((l) => l.event === 'sent', 20_000, 'a first document sent');
}

describe('lanying-kb watch: signals and restarts (the real CLI)', () => {
  it('SIGTERM lets in-flight uploads finish, starts no new ones, exits 0; the rest is sent after a restart', async () => {
    const env = await envWithFiles({ shutdownTimeoutMs: 5000 });
    env.sandbox.setFaults([{ route: 'POST /message/send', latencyMs: 300 }]);
    const proc = spawnWatch(env.dir, env.configFile);
    await firstSend(proc);
    const started = Date.now();
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    const took = Date.now() - started;
    expect(exit.code).toBe(0);
    expect(took).toBeLessThan(4000);
    expect(proc.logs.some((l) => l.event === 'stopped')).toBe(true);

    const before = env.state();
    // In-flight uploads finished: nothing was left half-done, and not everything was sent.
    expect(before.list({ status: ['pending'] })).toEqual([]);
    const sentBefore = before.list({ status: ['sent', 'ingested'] }).length;
    expect(sentBefore).toBeGreaterThan(0);
    expect(sentBefore).toBeLessThan(FILES);
    expect(env.sends()).toHaveLength(sentBefore);
    before.close();

    await restartAndFinish(env);
    expectEachOnce(env);
  });

  it('after the shutdown timeout, aborted uploads stay pending and are sent once (transaction_id) after a restart', async () => {
    const env = await envWithFiles({ shutdownTimeoutMs: 200 });
    env.sandbox.setFaults([{ route: 'POST /message/send', latencyMs: 1500 }]);
    const proc = spawnWatch(env.dir, env.configFile);
    await proc.waitForLog((l) => l.event === 'reconcile-started', 20_000, 'the first reconcile');
    await waitFor(() => env.sandbox.state().requests.filter((r) => r.path === '/message/send').length >= 3, 10_000, 'sends in flight');
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    expect(exit.code).toBe(0);
    expect(proc.logs.some((l) => l.event === 'shutdown-timeout')).toBe(true);

    const before = env.state();
    const pending = before.list({ status: ['pending'] });
    expect(pending.length).toBeGreaterThan(0);
    for (const record of pending) expect(record.transactionId).not.toBeNull();
    before.close();
    // The sandbox still handles the sends it received (the client gave up, the server did not).
    await waitFor(() => env.sends().length >= pending.length, 5000, 'the abandoned sends to land');

    await restartAndFinish(env);
    expectEachOnce(env);
    // The aborted sends were made again with their transaction IDs, and the server dropped the repeats.
    const tx = tally(env.sandbox.state().requests.filter((r) => r.path === '/message/send').map((r) => String(r.transaction_id)));
    expect([...tx.values()].filter((n) => n > 1).length).toBeGreaterThan(0);
  });

  it('a second SIGTERM exits at once; kill -9 in the middle of uploads loses nothing either', async () => {
    const env = await envWithFiles({ shutdownTimeoutMs: 20_000 });
    env.sandbox.setFaults([{ route: 'POST /message/send', latencyMs: 800 }]);
    const proc = spawnWatch(env.dir, env.configFile);
    await waitFor(() => env.sandbox.state().requests.filter((r) => r.path === '/message/send').length >= 3, 20_000, 'sends in flight');
    proc.child.kill('SIGTERM');
    await proc.waitForLog((l) => l.event === 'stopping', 5000, 'the graceful stop');
    const started = Date.now();
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(exit.code === 1 || exit.signal === 'SIGTERM').toBe(true);

    // Now kill -9 a second run in the middle of its uploads.
    const second = spawnWatch(env.dir, env.configFile);
    await second.waitForLog((l) => l.event === 'sent', 20_000, 'a send by the second run');
    second.child.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');
    await env.sandbox.idle(); // the sends the killed process had in flight are finished (or cut off) first

    await restartAndFinish(env);
    expectEachOnce(env);
  });

  it('refuses a second instance on the same state folder (exit 2, clear message)', async () => {
    const env = await envWithFiles({});
    const first = spawnWatch(env.dir, env.configFile);
    await first.waitForLog((l) => l.event === 'ready', 20_000, 'the first daemon to be ready');
    const second = spawnWatch(env.dir, env.configFile);
    const exit = await second.exited;
    expect(exit.code).toBe(2);
    expect(second.stderr()).toMatch(/another lanying-kb \(watch, pid \d+, since .+\) is using this state folder/);
    expect(second.stderr()).toContain(String(first.child.pid));
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });
});
