import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../helpers/cli-process.js';
import { fakeNotifySocket, type NotifyMessage, notifySkipReason } from '../helpers/notify-socket.js';
import { daemonEnv, spawnWatch } from './helpers.js';

const skip = notifySkipReason();
if (skip) console.log(`skipped: the sd_notify tests against the real process need ${skip}`);

const after = (list: NotifyMessage[], anchor: NotifyMessage) => list.slice(list.indexOf(anchor) + 1);

describe.skipIf(skip !== undefined)('lanying-kb watch as a Type=notify service (a fake NOTIFY_SOCKET, the real CLI and systemd-notify)', () => {
  it('READY=1 after the first reconcile, STATUS lines, WATCHDOG=1 pings; SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1; STOPPING=1', async () => {
    const socket = await fakeNotifySocket();
    const env = await daemonEnv();
    env.write('a.md', '# A\n');
    env.write('b.md', '# B\n');
    // A 400 ms watchdog: a ping every 200 ms.
    const proc = spawnWatch(env.dir, env.configFile, [], { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '400000' });

    const ready = await socket.waitFor((m) => m.fields.READY === '1', 20_000, 'READY=1');
    // Sent only once the first reconcile finished: both documents are in.
    expect(proc.logs.some((l) => l.event === 'ready')).toBe(true);
    expect(env.sends()).toHaveLength(2);
    expect(ready.fields.STATUS).toMatch(/^watching 1 source\(s\); 0 document\(s\) queued, 0 uploading; last run \S+ ok \(docs\)$/);
    const starting = socket.notifications().slice(0, socket.notifications().indexOf(ready));
    // While starting: the start timeout is extended (3 ticks' worth) and the watchdog pinged.
    expect(starting.some((m) => m.fields.EXTEND_TIMEOUT_USEC === '600000')).toBe(true);
    expect(starting.some((m) => m.fields.WATCHDOG === '1')).toBe(true);

    // Pings go on once running, without extending any timeout.
    await socket.waitFor((m) => after(socket.notifications(), ready).filter((n) => n.fields.WATCHDOG === '1').length >= 3 && m.fields.WATCHDOG === '1', 10_000, 'three pings after READY=1');
    expect(after(socket.notifications(), ready).some((m) => m.fields.EXTEND_TIMEOUT_USEC !== undefined)).toBe(false);

    const before = await socket.now();
    proc.child.kill('SIGHUP');
    const reloading = await socket.waitFor((m) => m.fields.RELOADING === '1', 10_000, 'RELOADING=1');
    const usec = Number(reloading.fields.MONOTONIC_USEC);
    // CLOCK_MONOTONIC of the moment the reload started: after the signal was sent, before the message arrived.
    expect(usec).toBeGreaterThanOrEqual(before);
    expect(usec).toBeLessThanOrEqual(reloading.at);
    const reloaded = await socket.waitFor((m) => m.fields.READY === '1' && socket.notifications().indexOf(m) > socket.notifications().indexOf(reloading), 10_000, 'READY=1 after the reload');
    expect(reloaded.fields.STATUS).toMatch(/^watching 1 source/);
    expect(proc.logs.some((l) => l.event === 'reloaded')).toBe(true);

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const stopping = await socket.waitFor((m) => m.fields.STOPPING === '1', 5000, 'STOPPING=1');
    expect(stopping.fields.STATUS).toBe('stopping (SIGTERM)');
    // Nothing says READY again after STOPPING.
    expect(after(socket.notifications(), stopping).some((m) => m.fields.READY === '1')).toBe(false);
  });

  it('`lanying-kb reload` waits for the daemon: exit 0 with what changed; exit 2 for an invalid file or one the daemon refuses; exit 1 without a daemon', async () => {
    const socket = await fakeNotifySocket();
    const env = await daemonEnv();
    env.write('a.md', '# A\n');
    const proc = spawnWatch(env.dir, env.configFile, [], { NOTIFY_SOCKET: socket.path });
    const ready = await socket.waitFor((m) => m.fields.READY === '1', 20_000, 'READY=1');

    // A new source: the command returns once the daemon took it.
    mkdirSync(path.join(env.dir, 'more'));
    env.writeConfig({ ...env.raw, sources: [...(env.raw.sources as unknown[]), { type: 'folder', name: 'more', path: 'more' }] });
    const ok = await runCliProcess(['reload', '--config', env.configFile], { cwd: env.dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(`reloaded ${env.configFile}: 1 source(s) added (more), 0 removed, 0 changed`);
    expect(proc.logs.some((l) => l.event === 'reloaded')).toBe(true);
    const framed = after(socket.notifications(), ready).filter((m) => m.fields.RELOADING === '1' || m.fields.READY === '1');
    expect(framed.map((m) => (m.fields.RELOADING ? 'RELOADING' : 'READY'))).toEqual(['RELOADING', 'READY']);

    // An invalid file: refused before the daemon is asked (it keeps running with the previous configuration).
    env.writeConfig({ ...env.raw, sourcez: [] });
    const invalid = await runCliProcess(['reload', '--config', env.configFile], { cwd: env.dir });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(`${env.configFile}: sourcez: unknown key`);

    // Valid as a file, refused by the daemon (watch needs knowledgeBase): exit 2 with the daemon's reason.
    const { knowledgeBase: _kb, ...withoutKb } = env.raw;
    env.writeConfig(withoutKb);
    const refused = await runCliProcess(['reload', '--config', env.configFile], { cwd: env.dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the daemon refused the new configuration and keeps running with the previous one: .*knowledgeBase: required by watch/);
    expect(proc.logs.some((l) => l.event === 'reload-failed')).toBe(true);
    expect(proc.child.exitCode).toBeNull();

    env.writeConfig();
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const none = await runCliProcess(['reload', '--config', env.configFile], { cwd: env.dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('control.sock: no lanying-kb watch is running with this state folder');
  });
});
