import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FileStamp, PathBatcher } from '../../src/daemon/path-batcher.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// More of the path batcher's rules (test/daemon/path-batcher.test.ts holds the main ones): the due order of paths
// touched again, several files still being written, a shorter quiet period, no timer left behind, and the real
// stat of the files. Fake timers and clock: every wait is exact.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(options: { debounceMs: number; realStat?: boolean }) {
  const batches: { paths: string[]; at: number }[] = [];
  const stamps = new Map<string, FileStamp>();
  const batcher = new PathBatcher({
    debounceMs: options.debounceMs,
    coalesceMs: 1,
    onReady: (_source, paths) => batches.push({ paths: [...paths].sort(), at: Date.now() }),
    ...(options.realStat ? {} : { stat: (p: string) => stamps.get(p) }),
  });
  return { batcher, batches, stamps };
}

describe('PathBatcher: more rules', () => {
  it('a path touched again goes behind the others: one due before it is not held back', async () => {
    const { batcher, batches } = setup({ debounceMs: 40 });
    batcher.touch('docs', '/a', null);
    await vi.advanceTimersByTimeAsync(10);
    batcher.touch('docs', '/b', null);
    await vi.advanceTimersByTimeAsync(10);
    batcher.touch('docs', '/a', null);
    // b is due at 50, a at 60.
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toEqual([
      { paths: ['/b'], at: 51 },
      { paths: ['/a'], at: 61 },
    ]);
  });

  it('every file still being written waits again, each under its own path', async () => {
    const { batcher, batches, stamps } = setup({ debounceMs: 40 });
    stamps.set('/a', { size: 1, mtimeMs: 1 });
    stamps.set('/b', { size: 1, mtimeMs: 1 });
    batcher.touch('docs', '/a', { size: 1, mtimeMs: 1 });
    batcher.touch('docs', '/b', { size: 1, mtimeMs: 1 });
    // Both grow before they are due: both wait another quiet period, then go together.
    stamps.set('/a', { size: 2, mtimeMs: 2 });
    stamps.set('/b', { size: 2, mtimeMs: 2 });
    await vi.advanceTimersByTimeAsync(200);
    expect(batches).toEqual([{ paths: ['/a', '/b'], at: 81 }]);
    expect(batcher.size()).toBe(0);
  });

  it('a path waiting again does not hold back another that becomes due first', async () => {
    const { batcher, batches, stamps } = setup({ debounceMs: 40 });
    stamps.set('/a', { size: 1, mtimeMs: 1 });
    batcher.touch('docs', '/a', { size: 1, mtimeMs: 1 });
    await vi.advanceTimersByTimeAsync(20);
    batcher.touch('docs', '/b', null);
    // a is due at 40 but still growing: due again at 80; b is due at 60.
    stamps.set('/a', { size: 2, mtimeMs: 2 });
    await vi.advanceTimersByTimeAsync(200);
    expect(batches).toEqual([
      { paths: ['/b'], at: 61 },
      { paths: ['/a'], at: 81 },
    ]);
  });

  it('a path touched again after a shorter quiet period was set is due after the new one', async () => {
    const { batcher, batches } = setup({ debounceMs: 100 });
    batcher.touch('docs', '/a', null);
    batcher.setDebounce(10);
    await vi.advanceTimersByTimeAsync(1);
    batcher.touch('docs', '/a', null);
    await vi.advanceTimersByTimeAsync(200);
    expect(batches).toEqual([{ paths: ['/a'], at: 12 }]);
  });

  it('leaves no timer behind once every path is handed over', async () => {
    const { batcher, batches } = setup({ debounceMs: 40 });
    batcher.touch('docs', '/a', null);
    await vi.advanceTimersByTimeAsync(41);
    expect(batches).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads the files\' real size and time when no stat is given', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'a.md');
    writeFileSync(file, 'hello');
    const st = statSync(file);
    const { batcher, batches } = setup({ debounceMs: 40, realStat: true });
    // As the event saw it: due at once after the quiet period.
    batcher.touch('docs', file, { size: st.size, mtimeMs: st.mtimeMs });
    // Seen otherwise (or not seen at all): one more quiet period, to see that it stopped changing.
    batcher.touch('docs', `${file}-other`, null);
    await vi.advanceTimersByTimeAsync(41);
    expect(batches).toEqual([{ paths: [file, `${file}-other`], at: 41 }]);
    writeFileSync(`${file}-2`, 'x');
    batcher.touch('docs', `${file}-2`, { size: 99, mtimeMs: 1 });
    batcher.touch('docs', `${file}-3`);
    // A path below a file cannot be read: nothing to wait for.
    batcher.touch('docs', path.join(file, 'below'), { size: 1, mtimeMs: 1 });
    await vi.advanceTimersByTimeAsync(41);
    expect(batches.at(-1)).toEqual({ paths: [`${file}-3`, path.join(file, 'below')].sort(), at: 82 });
    await vi.advanceTimersByTimeAsync(40);
    expect(batches.at(-1)).toEqual({ paths: [`${file}-2`], at: 122 });
  });
});
