import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Job, Scheduler, type SchedulerOptions } from '../../src/daemon/scheduler.js';

/** A job in one short line: `task:reload`, `reconcile:*(periodic)`, `reconcile:a,b(r1)`, `refresh:u`, `paths:a[x,y]`. */
function show(job: Job): string {
  switch (job.kind) {
    case 'task':
      return `task:${job.name}`;
    case 'reconcile':
      return `reconcile:${job.sources === null ? '*' : job.sources.join(',')}(${job.reasons.join(',')})`;
    case 'refresh':
      return `refresh:${job.sources.join(',')}`;
    case 'paths':
      return `paths:${job.source}[${job.paths.join(',')}]`;
  }
}

/**
 * A scheduler whose jobs are recorded as they start. While `block()` is in force, a job that starts waits until the
 * returned function is called: what arrives meanwhile accumulates, as while the daemon runs a long reconcile.
 */
function setup(options: Partial<SchedulerOptions> = {}) {
  const started: string[] = [];
  const signals: AbortSignal[] = [];
  const errors: [string, unknown][] = [];
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const failing = new Set<string>();
  const s = new Scheduler({
    execute: async (job, signal) => {
      started.push(show(job));
      signals.push(signal);
      if (gate) await gate.promise;
      if (failing.has(show(job))) throw new Error(`${show(job)} failed`);
    },
    onError: (job, error) => errors.push([show(job), error]),
    random: () => 0.5,
    ...options,
  });
  return {
    s,
    started,
    signals,
    errors,
    failing,
    /** Jobs that start from now on wait until the returned function is called. */
    block(): () => void {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

// Only timers and the clock are fake: the scheduler's setImmediate between jobs runs for real, so `whenIdle()` works.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

type Request = (s: Scheduler, started: string[]) => unknown;
const full = (reason = 'periodic'): Request => (s) => s.requestReconcile(null, reason);
const reconcile = (source: string, reason = 'r'): Request => (s) => s.requestReconcile(source, reason);
const refresh = (source: string): Request => (s) => s.requestRefresh(source);
const paths = (source: string, ...list: string[]): Request => (s) => s.addPaths(source, list);
const task = (name: string): Request => (s, started) => void s.runTask(name, async () => void started.push(`task:${name}`));

describe('Scheduler: what runs next when work waited (priorities, merging, taking over)', () => {
  const cases: { name: string; waiting: Request[]; runs: string[]; maxBatch?: number }[] = [
    { name: 'a task (a reload) goes before a full reconcile', waiting: [full(), task('reload')], runs: ['task:reload', 'reconcile:*(periodic)'] },
    { name: 'tasks run one at a time, in order', waiting: [task('one'), task('two')], runs: ['task:one', 'task:two'] },
    {
      name: 'a full reconcile goes first and takes over every waiting reconcile, refresh and path batch',
      waiting: [paths('a', 'x'), refresh('u'), reconcile('b'), full()],
      runs: ['reconcile:*(periodic)'],
    },
    { name: 'a full reconcile names each reason once', waiting: [full('x'), full('x'), full('y')], runs: ['reconcile:*(x,y)'] },
    {
      name: 'source reconciles go before refreshes, refreshes before path batches',
      waiting: [paths('a', 'x'), refresh('u'), reconcile('b')],
      runs: ['reconcile:b(r)', 'refresh:u', 'paths:a[x]'],
    },
    {
      name: 'source reconciles merge into one job, each reason once',
      waiting: [reconcile('a', 'r1'), reconcile('b', 'r1'), reconcile('a', 'r2'), reconcile('a', 'r1')],
      runs: ['reconcile:a,b(r1,r2)'],
    },
    {
      name: 'a source reconcile takes over the path batch and the refresh of its sources only',
      waiting: [paths('a', 'x'), paths('b', 'y'), refresh('a'), refresh('u'), reconcile('a')],
      runs: ['reconcile:a(r)', 'refresh:u', 'paths:b[y]'],
    },
    { name: 'refreshes merge into one job', waiting: [refresh('u'), refresh('v'), refresh('u')], runs: ['refresh:u,v'] },
    {
      name: 'a path is handed over once however often it changed',
      waiting: [paths('a', 'x', 'y'), paths('a', 'x'), paths('a', 'y', 'z')],
      runs: ['paths:a[x,y,z]'],
    },
    {
      name: 'path batches hold at most maxBatch paths, sources taken in turn',
      maxBatch: 2,
      waiting: [paths('a', '1', '2', '3', '4', '5'), paths('b', '6')],
      runs: ['paths:a[1,2]', 'paths:b[6]', 'paths:a[3,4]', 'paths:a[5]'],
    },
    { name: 'no paths, no batch', waiting: [paths('a')], runs: [] },
  ];

  for (const { name, waiting, runs, maxBatch } of cases) {
    it(name, async () => {
      const { s, started, block } = setup({ maxBatch });
      const release = block();
      s.requestReconcile('first', 'start');
      expect(started).toEqual(['reconcile:first(start)']);
      for (const request of waiting) request(s, started);
      expect(started).toHaveLength(1);
      release();
      await s.whenIdle();
      expect(started.slice(1)).toEqual(runs);
      expect(s.pendingPaths()).toBe(0);
      await s.close();
    });
  }

  it('starts a job at once when nothing runs', () => {
    const { s, started } = setup();
    s.addPaths('a', ['x']);
    expect(started).toEqual(['paths:a[x]']);
    expect(s.current).toEqual({ kind: 'paths', source: 'a', paths: ['x'] });
  });

  it('hands over at most 1000 paths at a time by default', async () => {
    const batches: number[] = [];
    const counting = new Scheduler({
      execute: async (job) => void (job.kind === 'paths' && batches.push(job.paths.length)),
      onError: () => {},
    });
    counting.requestReconcile('first', 'start');
    counting.addPaths('a', Array.from({ length: 2500 }, (_, i) => `p${i}`));
    await counting.whenIdle();
    expect(batches).toEqual([1000, 1000, 500]);
  });

  it('counts the paths waiting, per source and in all', () => {
    const { s, block } = setup();
    block();
    s.requestReconcile('first', 'start');
    s.addPaths('a', ['x', 'y']);
    s.addPaths('b', ['z']);
    expect([s.pendingPaths('a'), s.pendingPaths('b'), s.pendingPaths('c'), s.pendingPaths()]).toEqual([2, 1, 0, 3]);
  });

  it('whenIdle() resolves at once when nothing runs or waits, else once the last job ended', async () => {
    const { s, started, block } = setup();
    let idle = false;
    await s.whenIdle();
    const release = block();
    s.requestReconcile('a', 'r');
    s.addPaths('a', ['x']);
    void s.whenIdle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    release();
    await vi.waitFor(() => expect(idle).toBe(true));
    // Paths that changed after the reconcile of their source started are handled after it: its scan may have passed them.
    expect(started).toEqual(['reconcile:a(r)', 'paths:a[x]']);
    expect(s.current).toBeUndefined();
  });
});

describe('Scheduler: whenIdle() between two jobs', () => {
  // The next job starts on the turn after the last one ended: whenIdle() asked in between must wait for it.
  const next: [string, Request, string][] = [
    ['a task', task('reload'), 'task:reload'],
    ['a full reconcile', full('watcher error'), 'reconcile:*(watcher error)'],
    ['a source reconcile', reconcile('b'), 'reconcile:b(r)'],
    ['a refresh', refresh('u'), 'refresh:u'],
    ['a path batch', paths('a', 'x'), 'paths:a[x]'],
  ];
  for (const [what, request, job] of next) {
    it(`waits for ${what} that is due`, async () => {
      const { s, started, block } = setup();
      const release = block();
      s.requestReconcile('first', 'start');
      request(s, started);
      release();
      while (s.current) await Promise.resolve();
      expect(started).toEqual(['reconcile:first(start)']);
      await s.whenIdle();
      expect(started).toEqual(['reconcile:first(start)', job]);
    });
  }
});

describe('Scheduler: paths held until the first reconcile', () => {
  it('keeps path batches waiting (and counts the scheduler idle) until releasePaths()', async () => {
    const { s, started } = setup({ holdPaths: true });
    s.addPaths('a', ['x']);
    await s.whenIdle();
    expect(started).toEqual([]);
    expect(s.current).toBeUndefined();
    expect(s.pendingPaths('a')).toBe(1);
    s.releasePaths();
    await s.whenIdle();
    expect(started).toEqual(['paths:a[x]']);
  });

  it('runs reconciles, refreshes and tasks meanwhile; the first full reconcile takes the held paths over', async () => {
    const { s, started } = setup({ holdPaths: true });
    s.addPaths('a', ['x']);
    s.requestRefresh('u');
    await s.whenIdle();
    await s.runTask('reload', async () => {});
    s.requestReconcile(null, 'startup');
    await s.whenIdle();
    s.releasePaths();
    await s.whenIdle();
    expect(started).toEqual(['refresh:u', 'reconcile:*(startup)']);
    expect(s.pendingPaths()).toBe(0);
  });

  it('does not hold paths unless asked', async () => {
    const { s, started } = setup();
    s.addPaths('a', ['x']);
    await s.whenIdle();
    expect(started).toEqual(['paths:a[x]']);
  });
});

describe('Scheduler: debounced reconcile requests', () => {
  it('waits delayMs, and each new request for the same source starts the wait again', async () => {
    const { s, started } = setup();
    s.requestReconcile('a', 'changed', 100);
    await vi.advanceTimersByTimeAsync(60);
    s.requestReconcile('a', 'changed', 100);
    await vi.advanceTimersByTimeAsync(99);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['reconcile:a(changed)']);
    await vi.advanceTimersByTimeAsync(1000);
    await s.whenIdle();
    expect(started).toEqual(['reconcile:a(changed)']);
  });

  it('keeps one wait per source: a request for another source cancels nothing', async () => {
    const { s, started, block } = setup();
    const release = block();
    s.requestReconcile('a', 'r', 100);
    s.requestReconcile('b', 'r', 100);
    s.requestReconcile('c', 'r', 200);
    await vi.advanceTimersByTimeAsync(100);
    expect(started).toEqual(['reconcile:a(r)']);
    release();
    await s.whenIdle();
    await vi.advanceTimersByTimeAsync(100);
    await s.whenIdle();
    expect(started).toEqual(['reconcile:a(r)', 'reconcile:b(r)', 'reconcile:c(r)']);
  });

  it('a full reconcile drops the debounced source requests it covers, not a debounced full one', async () => {
    const { s, started } = setup();
    s.requestReconcile('a', 'retry', 500);
    s.requestReconcile(null, 'watcher error', 500);
    s.requestReconcile(null, 'api settings changed');
    await s.whenIdle();
    await vi.advanceTimersByTimeAsync(500);
    await s.whenIdle();
    expect(started).toEqual(['reconcile:*(api settings changed)', 'reconcile:*(watcher error)']);
  });

  it('dropSource() forgets the source\'s paths, requests, refreshes and debounced requests', async () => {
    const { s, started, block } = setup();
    const release = block();
    s.requestReconcile('other', 'start');
    s.addPaths('a', ['x']);
    s.requestReconcile('a', 'r');
    s.requestRefresh('a');
    s.requestReconcile('a', 'later', 100);
    s.scheduleRefresh('a', 100);
    s.dropSource('a');
    expect(s.pendingPaths('a')).toBe(0);
    expect(s.nextRefreshAt('a')).toBeUndefined();
    release();
    await s.whenIdle();
    await vi.advanceTimersByTimeAsync(1000);
    await s.whenIdle();
    expect(started).toEqual(['reconcile:other(start)']);
  });
});

describe('Scheduler: URL refreshes, with jitter', () => {
  const cases = [
    { random: 0, fires: 900 },
    { random: 0.5, fires: 1000 },
    { random: 1, fires: 1100 },
    { random: 0.25, fires: 950 },
  ];
  it.each(cases)('checks again after 1000 ms × (0.9 + 0.2 × random): random $random → $fires ms', async ({ random, fires }) => {
    const { s, started } = setup({ random: () => random, now: () => 5_000_000 });
    s.scheduleRefresh('site', 1000);
    expect(s.nextRefreshAt('site')).toBe(5_000_000 + fires);
    await vi.advanceTimersByTimeAsync(fires - 1);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['refresh:site']);
  });

  it('draws the jitter from Math.random by default', () => {
    const s = new Scheduler({ execute: async () => {}, onError: () => {} });
    const due = new Set<number>();
    for (let i = 0; i < 20; i++) {
      s.scheduleRefresh('site', 1000);
      const delay = (s.nextRefreshAt('site') as number) - Date.now();
      expect(delay).toBeGreaterThanOrEqual(900);
      expect(delay).toBeLessThanOrEqual(1100);
      due.add(delay);
    }
    expect(due.size).toBeGreaterThan(1);
  });

  it('keeps the due time known while the check waits and runs, until the next one is scheduled', async () => {
    const { s, started, block } = setup({ now: () => 1000 });
    const release = block();
    s.scheduleRefresh('site', 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(started).toEqual(['refresh:site']);
    expect(s.nextRefreshAt('site')).toBe(1100);
    release();
    await s.whenIdle();
    s.scheduleRefresh('site', 100);
    expect(s.nextRefreshAt('site')).toBe(1100);
    s.scheduleRefresh('site', 300);
    expect(s.nextRefreshAt('site')).toBe(1300);
  });

  it('a new schedule replaces the old one; cancelRefresh() stops it', async () => {
    const { s, started } = setup();
    s.scheduleRefresh('site', 100);
    s.scheduleRefresh('site', 300);
    await vi.advanceTimersByTimeAsync(299);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await s.whenIdle();
    expect(started).toEqual(['refresh:site']);
    s.scheduleRefresh('site', 100);
    s.cancelRefresh('site');
    expect(s.nextRefreshAt('site')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toEqual(['refresh:site']);
  });

  it('never waits a negative time', async () => {
    const { s, started } = setup({ random: () => 0, now: () => 0 });
    s.scheduleRefresh('site', -50);
    expect(s.nextRefreshAt('site')).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual(['refresh:site']);
  });
});

describe('Scheduler: the periodic full reconcile', () => {
  it('runs every interval, counted from the end of the last full reconcile', async () => {
    let clock = 10_000;
    const { s, started, block } = setup({ now: () => clock });
    s.setReconcileInterval(1000);
    expect(s.nextReconcileAt).toBe(11_000);
    const release = block();
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toEqual(['reconcile:*(periodic)']);
    // The reconcile takes 400 ms; the next is due 1000 ms after it ended.
    await vi.advanceTimersByTimeAsync(400);
    clock = 11_400;
    release();
    await s.whenIdle();
    expect(s.nextReconcileAt).toBe(12_400);
    await vi.advanceTimersByTimeAsync(999);
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['reconcile:*(periodic)', 'reconcile:*(periodic)']);
  });

  it('counts again from a full reconcile asked for otherwise; a source reconcile does not count', async () => {
    const { s, started } = setup();
    s.setReconcileInterval(1000);
    await vi.advanceTimersByTimeAsync(600);
    s.requestReconcile('a', 'r');
    await s.whenIdle();
    await vi.advanceTimersByTimeAsync(400);
    await s.whenIdle();
    expect(started).toEqual(['reconcile:a(r)', 'reconcile:*(periodic)']);
    await vi.advanceTimersByTimeAsync(500);
    s.requestReconcile(null, 'reload');
    await s.whenIdle();
    await vi.advanceTimersByTimeAsync(999);
    expect(started).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['reconcile:a(r)', 'reconcile:*(periodic)', 'reconcile:*(reload)', 'reconcile:*(periodic)']);
  });

  it('an interval of 0 turns the periodic reconcile off', async () => {
    const { s, started } = setup();
    s.setReconcileInterval(1000);
    s.setReconcileInterval(0);
    expect(s.nextReconcileAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(started).toEqual([]);
    s.requestReconcile(null, 'startup');
    await s.whenIdle();
    expect(s.nextReconcileAt).toBeUndefined();
  });

  it('a new interval replaces the old one', async () => {
    const { s, started } = setup({ now: () => 0 });
    s.setReconcileInterval(1000);
    s.setReconcileInterval(3000);
    expect(s.nextReconcileAt).toBe(3000);
    await vi.advanceTimersByTimeAsync(2999);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['reconcile:*(periodic)']);
  });
});

describe('Scheduler: failures, tasks, abort and close', () => {
  it('reports a failed job to onError and goes on with the next', async () => {
    const { s, started, errors, failing, block } = setup();
    failing.add('reconcile:a(r)');
    const release = block();
    s.requestReconcile('a', 'r');
    s.addPaths('b', ['x']);
    release();
    await s.whenIdle();
    expect(started).toEqual(['reconcile:a(r)', 'paths:b[x]']);
    expect(errors.map(([job, error]) => [job, (error as Error).message])).toEqual([['reconcile:a(r)', 'reconcile:a(r) failed']]);
  });

  it('runTask() resolves or rejects with the task; a failed task is not reported to onError', async () => {
    const { s, errors } = setup();
    const seen: AbortSignal[] = [];
    await s.runTask('ok', async (signal) => void seen.push(signal));
    await expect(s.runTask('bad', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(errors).toEqual([]);
    expect(seen[0]?.aborted).toBe(false);
  });

  it('abortCurrent() fires the running job\'s signal', async () => {
    const { s, signals, block } = setup();
    const release = block();
    s.requestReconcile('a', 'r');
    s.abortCurrent('stop');
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBe('stop');
    release();
    await s.whenIdle();
  });

  it('close() stops the timers, drops waiting work, rejects waiting tasks, ends idle waits and returns the running job', async () => {
    const { s, started, block } = setup();
    const release = block();
    s.requestReconcile('a', 'r');
    s.addPaths('b', ['x']);
    s.requestRefresh('u');
    s.requestReconcile(null, 'full');
    const waiting = s.runTask('reload', async () => {});
    s.requestReconcile('c', 'later', 100);
    s.scheduleRefresh('u', 100);
    s.setReconcileInterval(100);
    let idle = false;
    void s.whenIdle().then(() => (idle = true));
    let ended = false;
    const closing = s.close().then(() => (ended = true));
    await expect(waiting).rejects.toThrow('the daemon is stopping');
    expect(idle).toBe(true);
    expect(s.pendingPaths()).toBe(0);
    expect(s.nextReconcileAt).toBeUndefined();
    expect(s.nextRefreshAt('u')).toBeUndefined();
    expect(ended).toBe(false);
    release();
    await closing;
    await vi.advanceTimersByTimeAsync(1000);
    // Nothing new is taken.
    s.requestReconcile('a', 'r');
    s.requestRefresh('u');
    s.addPaths('b', ['y']);
    s.scheduleRefresh('u', 10);
    await expect(s.runTask('late', async () => {})).rejects.toThrow('the daemon is stopping');
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toEqual(['reconcile:a(r)']);
    expect(s.nextRefreshAt('u')).toBeUndefined();
  });

  it('after close(), a request leaves nothing waiting', async () => {
    const { s, started } = setup();
    await s.close();
    s.requestReconcile('a', 'r');
    s.requestReconcile(null, 'full');
    s.requestRefresh('u');
    s.addPaths('b', ['x']);
    await s.whenIdle();
    expect(s.pendingPaths()).toBe(0);
    expect(started).toEqual([]);
  });

  it('abortCurrent() with nothing running, and dropSource() of a source with nothing waiting, do nothing', () => {
    const { s } = setup();
    expect(() => s.abortCurrent('stop')).not.toThrow();
    expect(() => s.dropSource('unknown')).not.toThrow();
  });

  it('close() with nothing running resolves at once', async () => {
    const { s } = setup();
    await s.close();
    s.setReconcileInterval(100);
    expect(s.nextReconcileAt).toBeUndefined();
  });
});
