import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { WatcherFactory } from '../../src/sources/folder/watcher.js';
import { daemonEnv, logSink, useDaemon, waitFor } from './helpers.js';

/** A watcher the test drives: it reports what the test emits, and is ready when the test says so. */
function drivenWatcher() {
  const watchers: EventEmitter[] = [];
  const factory: WatcherFactory = () => {
    const watcher = Object.assign(new EventEmitter(), { close: async () => {} });
    watchers.push(watcher);
    return watcher as unknown as ReturnType<WatcherFactory>;
  };
  const current = () => watchers[watchers.length - 1] as EventEmitter;
  return {
    factory,
    add: (file: string) => current().emit('all', 'add', file, statSync(file)),
    ready: () => current().emit('ready'),
  };
}

describe('lanying-kb watch: before the first reconcile', () => {
  it('holds the paths a watcher reports until the first reconcile, which takes them over', async () => {
    const env = await daemonEnv();
    env.write('start.md', '# Start\n');
    const watcher = drivenWatcher();
    const logs = logSink();
    const daemon = await useDaemon(env.config(), { logs, watcherFactory: watcher.factory });

    // A change while the watcher still reads the tree: the first reconcile has not started.
    watcher.add(env.write('early.md', '# Early\n'));
    await waitFor(() => logs.lines.some((l) => l.event === 'paths-due'), 5000, 'the changed path to be due');
    expect(daemon.status().current).toBeNull();
    expect(daemon.status().queue.pendingPaths).toBe(1);
    expect(env.sends()).toHaveLength(0);

    watcher.ready();
    await daemon.ready;
    await daemon.whenIdle();
    const events = logs.lines.map((l) => l.event);
    expect(events.filter((e) => e === 'batch-finished')).toEqual([]);
    expect(events.indexOf('reconcile-started')).toBeLessThan(events.indexOf('sent'));
    expect(env.sentPaths().sort()).toEqual(['early.md', 'start.md']);
    expect(daemon.status().queue.pendingPaths).toBe(0);
  });
});
