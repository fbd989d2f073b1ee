import { describe, expect, it } from 'vitest';
import { type FileStamp, PathBatcher } from '../../src/daemon/path-batcher.js';
import { sleep, waitFor } from './helpers.js';

function setup(options: { debounceMs?: number; stat?: (p: string) => FileStamp | undefined } = {}) {
  const batches: { source: string; paths: string[]; at: number }[] = [];
  const stamps = new Map<string, FileStamp>();
  const batcher = new PathBatcher({
    debounceMs: options.debounceMs ?? 40,
    coalesceMs: 20,
    onReady: (source, paths) => batches.push({ source, paths: [...paths].sort(), at: Date.now() }),
    stat: options.stat ?? ((p) => stamps.get(p)),
  });
  return { batcher, batches, stamps };
}

describe('PathBatcher', () => {
  it('coalesces a burst of events per path and hands the due paths of a source over together', async () => {
    const { batcher, batches, stamps } = setup();
    stamps.set('/d/a.md', { size: 1, mtimeMs: 1 });
    stamps.set('/d/b.md', { size: 2, mtimeMs: 1 });
    for (let i = 0; i < 50; i++) batcher.touch('docs', '/d/a.md', { size: 1, mtimeMs: 1 });
    batcher.touch('docs', '/d/b.md', { size: 2, mtimeMs: 1 });
    batcher.touch('docs', '/d/gone.md', null);
    batcher.touch('other', '/o/x.md', null);
    expect(batcher.size()).toBe(4);
    expect(batcher.size('docs')).toBe(3);
    await waitFor(() => batches.length === 2, 2000, 'two batches');
    expect(batches.map(({ source, paths }) => ({ source, paths }))).toEqual([
      { source: 'docs', paths: ['/d/a.md', '/d/b.md', '/d/gone.md'] },
      { source: 'other', paths: ['/o/x.md'] },
    ]);
    expect(batcher.size()).toBe(0);
    batcher.close();
  });

  it('restarts the quiet period on every event', async () => {
    const { batcher, batches, stamps } = setup({ debounceMs: 80 });
    stamps.set('/d/a.md', { size: 1, mtimeMs: 1 });
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      batcher.touch('docs', '/d/a.md', { size: 1, mtimeMs: 1 });
      await sleep(40);
    }
    await waitFor(() => batches.length === 1, 2000, 'the batch');
    expect((batches[0]?.at ?? 0) - started).toBeGreaterThanOrEqual(5 * 40 + 80 - 20);
    batcher.close();
  });

  it('waits again while the file keeps changing without events (size or time differs from the last event)', async () => {
    const { batcher, batches, stamps } = setup({ debounceMs: 50 });
    stamps.set('/d/big.bin', { size: 10, mtimeMs: 1 });
    batcher.touch('docs', '/d/big.bin', { size: 10, mtimeMs: 1 });
    // The writer goes on, silently.
    await sleep(30);
    stamps.set('/d/big.bin', { size: 20, mtimeMs: 2 });
    await sleep(60);
    expect(batches).toHaveLength(0);
    stamps.set('/d/big.bin', { size: 30, mtimeMs: 3 });
    await sleep(60);
    expect(batches).toHaveLength(0);
    // Done writing: stable for a whole period.
    await waitFor(() => batches.length === 1, 2000, 'the finished file');
    expect(batches[0]?.paths).toEqual(['/d/big.bin']);
    batcher.close();
  });

  it('keeps bounded state for 10,000 events on 10,000 paths and forgets a dropped source', async () => {
    const { batcher, batches, stamps } = setup({ debounceMs: 30 });
    for (let i = 0; i < 10_000; i++) {
      const p = `/d/f${i}.md`;
      stamps.set(p, { size: i, mtimeMs: 1 });
      batcher.touch(i % 2 ? 'docs' : 'gone', p, { size: i, mtimeMs: 1 });
    }
    expect(batcher.size()).toBe(10_000);
    batcher.drop('gone');
    expect(batcher.size()).toBe(5000);
    await waitFor(() => batches.reduce((n, b) => n + b.paths.length, 0) === 5000, 5000, 'every path');
    expect(new Set(batches.flatMap((b) => b.paths)).size).toBe(5000);
    expect(batches.every((b) => b.source === 'docs')).toBe(true);
    batcher.close();
  });
});
