import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DaemonStatus } from '../../src/daemon/live-status.js';
import { formatSystemdStatus, notifyLine, SystemdNotifier, watchdogTimeoutMs } from '../../src/daemon/systemd-notify.js';

describe('watchdogTimeoutMs', () => {
  it.each([
    { env: {}, expected: undefined },
    { env: { WATCHDOG_USEC: '60000000' }, expected: 60_000 },
    { env: { WATCHDOG_USEC: '60000000', WATCHDOG_PID: '4242' }, expected: 60_000 },
    // The variables were inherited by another process: the watchdog is not for this one.
    { env: { WATCHDOG_USEC: '60000000', WATCHDOG_PID: '1' }, expected: undefined },
    { env: { WATCHDOG_USEC: '0' }, expected: undefined },
    { env: { WATCHDOG_USEC: 'soon' }, expected: undefined },
    { env: { WATCHDOG_USEC: '-5' }, expected: undefined },
  ])('$env → $expected', ({ env, expected }) => {
    expect(watchdogTimeoutMs(env, 4242)).toBe(expected);
  });
});

describe('notifyLine', () => {
  it.each([
    ['READY', 1, 'READY=1'],
    ['MONOTONIC_USEC', 123456789n, 'MONOTONIC_USEC=123456789'],
    // The protocol has no escaping: a value is one line.
    ['STATUS', 'two\nlines\r\nhere', 'STATUS=two lines here'],
  ] as const)('%s=%s', (key, value, line) => {
    expect(notifyLine(key, value)).toBe(line);
  });
});

function status(overrides: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    pid: 1,
    version: '0.0.0',
    startedAt: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: 5,
    stateDir: '/s',
    configFile: null,
    ready: true,
    stopping: false,
    current: null,
    queue: { waiting: 3, inFlight: 2, pendingPaths: 4 },
    lastSuccessAt: null,
    nextReconcileAt: null,
    sources: [
      { name: 'docs', type: 'folder', state: 'watching', lastReconcileAt: '2026-01-01T00:00:01.000Z', lastOutcome: 'ok', lastError: null, pendingPaths: 0, nextRefreshAt: null },
      { name: 'web', type: 'urls', state: 'scheduled', lastReconcileAt: '2026-01-01T00:00:09.000Z', lastOutcome: 'partial', lastError: null, pendingPaths: 0, nextRefreshAt: null },
    ],
    ...overrides,
  } as DaemonStatus;
}

describe('formatSystemdStatus', () => {
  it.each([
    [status(), 'watching 2 source(s); 7 document(s) queued, 2 uploading; last run 2026-01-01T00:00:09.000Z partial (web)'],
    [status({ ready: false }), 'first reconcile of 2 source(s); 7 document(s) queued, 2 uploading'],
    [status({ stopping: true }), 'stopping; 7 document(s) queued, 2 uploading'],
    [status({ sources: [] }), 'watching 0 source(s); 7 document(s) queued, 2 uploading; no run yet'],
    [
      status({ sources: [{ ...status().sources[0], lastOutcome: 'failed' } as DaemonStatus['sources'][number]] }),
      'watching 1 source(s); 7 document(s) queued, 2 uploading; last run 2026-01-01T00:00:01.000Z failed (docs); 1 source(s) failing',
    ],
  ])('%#', (input, expected) => {
    expect(formatSystemdStatus(input)).toBe(expected);
  });
});

describe('SystemdNotifier', () => {
  afterEach(() => vi.useRealTimers());

  function recorder(options: { env?: Record<string, string>; fail?: Error } = {}) {
    const sent: string[][] = [];
    let release: () => void = () => {};
    let gate: Promise<void> | undefined;
    const errors: Error[] = [];
    const notifier = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/fake', ...options.env },
      pid: 7,
      monotonicMicros: () => 5_000_000n,
      onError: (e) => errors.push(e),
      send: async (lines) => {
        sent.push(lines);
        if (options.fail) throw options.fail;
        if (gate) await gate;
      },
    });
    return {
      notifier,
      sent,
      errors,
      hold: () => (gate = new Promise((resolve) => (release = resolve))),
      release: () => {
        gate = undefined;
        release();
      },
    };
  }

  it('does nothing without NOTIFY_SOCKET', async () => {
    const sent: string[][] = [];
    const notifier = new SystemdNotifier({ env: {}, pid: 1, send: async (lines) => void sent.push(lines) });
    notifier.ready('x');
    notifier.startTicking({ healthy: () => true, status: () => 's', extendTimeout: () => true });
    await notifier.close();
    expect(notifier.enabled).toBe(false);
    expect(sent).toEqual([]);
  });

  it('sends READY, RELOADING with MONOTONIC_USEC, STOPPING as separate messages, in order', async () => {
    const r = recorder();
    r.notifier.ready('up');
    r.notifier.reloading('reloading');
    r.notifier.ready('up again');
    r.notifier.stopping('bye');
    await r.notifier.flush();
    expect(r.sent).toEqual([
      ['READY=1', 'STATUS=up'],
      ['RELOADING=1', 'MONOTONIC_USEC=5000000', 'STATUS=reloading'],
      ['READY=1', 'STATUS=up again'],
      ['STOPPING=1', 'STATUS=bye'],
    ]);
  });

  it('ticks at half the watchdog period: WATCHDOG=1 while healthy, STATUS when it changed, EXTEND_TIMEOUT_USEC while asked', async () => {
    vi.useFakeTimers();
    const r = recorder({ env: { WATCHDOG_USEC: '2000000', WATCHDOG_PID: '7' } });
    let healthy = true;
    let text = 'a';
    let extend = true;
    r.notifier.startTicking({ healthy: () => healthy, status: () => text, extendTimeout: () => extend });
    await vi.advanceTimersByTimeAsync(0);
    expect(r.sent).toEqual([['WATCHDOG=1', 'STATUS=a', 'EXTEND_TIMEOUT_USEC=3000000']]);
    extend = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.sent[1]).toEqual(['WATCHDOG=1']);
    text = 'b';
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.sent[2]).toEqual(['WATCHDOG=1', 'STATUS=b']);
    // Unhealthy: no ping (systemd restarts the service after WatchdogSec=); the status still goes out.
    healthy = false;
    text = 'c';
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.sent[3]).toEqual(['STATUS=c']);
    await vi.advanceTimersByTimeAsync(3000);
    expect(r.sent.slice(4)).toEqual([]);
    await r.notifier.close();
  });

  it('a status() that throws counts as unhealthy: no ping', async () => {
    vi.useFakeTimers();
    const r = recorder({ env: { WATCHDOG_USEC: '1000000' } });
    r.notifier.startTicking({
      healthy: () => {
        throw new Error('broken');
      },
      status: () => 's',
      extendTimeout: () => false,
    });
    await vi.advanceTimersByTimeAsync(2000);
    expect(r.sent.flat()).not.toContain('WATCHDOG=1');
    expect(r.errors.map((e) => e.message)).toContain('broken');
    await r.notifier.close();
  });

  it('ticks that pile up behind a slow send are merged; state messages are never merged', async () => {
    vi.useFakeTimers();
    const r = recorder({ env: { WATCHDOG_USEC: '200000' } });
    r.hold();
    let n = 0;
    r.notifier.startTicking({ healthy: () => true, status: () => `s${n++}`, extendTimeout: () => false });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(500);
    r.notifier.ready('ready');
    await vi.advanceTimersByTimeAsync(300);
    r.release();
    await vi.advanceTimersByTimeAsync(0);
    await r.notifier.close();
    expect(r.sent[0]).toEqual(['WATCHDOG=1', 'STATUS=s0']);
    // Five ticks while the first send hung: one message with the newest status.
    expect(r.sent[1]).toEqual(['WATCHDOG=1', 'STATUS=s5']);
    expect(r.sent[2]).toEqual(['READY=1', 'STATUS=ready']);
    expect(r.sent[3]?.[0]).toBe('WATCHDOG=1');
  });

  it('a missing systemd-notify is reported once, then nothing more is tried', async () => {
    const r = recorder({ fail: new Error('systemd-notify is not installed (it comes with systemd): the service manager gets no notifications') });
    r.notifier.ready('a');
    await r.notifier.flush();
    r.notifier.ready('b');
    r.notifier.stopping('c');
    await r.notifier.flush();
    expect(r.sent).toHaveLength(1);
    expect(r.errors).toHaveLength(1);
  });

  it('a failed send is reported and the next message still goes out', async () => {
    const sent: string[][] = [];
    const errors: string[] = [];
    let first = true;
    const notifier = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/x' },
      pid: 1,
      onError: (e) => errors.push(e.message),
      send: async (lines) => {
        sent.push(lines);
        if (first) {
          first = false;
          throw new Error('systemd-notify exited with 1: Failed to notify init system');
        }
      },
    });
    notifier.ready('a');
    notifier.stopping('b');
    await notifier.flush();
    expect(sent).toHaveLength(2);
    expect(errors).toEqual(['systemd-notify exited with 1: Failed to notify init system']);
  });
});
