import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FileStamp, PathBatcher } from '../../src/daemon/path-batcher.js';

// Fake timers and clock: every wait is exact, and "nothing happened yet" is checked at a known time, not after a sleep.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(options: { debounceMs?: number; coalesceMs?: number; maxPerTick?: number } = {}) {
  const batches: { source: string; paths: string[]; at: number }[] = [];
  const stamps = new Map<string, FileStamp>();
  const statted: string[] = [];
  const batcher = new PathBatcher({
    debounceMs: options.debounceMs ?? 40,
    coalesceMs: options.coalesceMs ?? 20,
    maxPerTick: options.maxPerTick,
    onReady: (source, paths) => batches.push({ source, paths: [...paths].sort(), at: Date.now() }),
    stat: (p) => {
      statted.push(p);
      return stamps.get(p);
    },
  });
  /** Sets a file's stamp on "disk" and returns it (for the event that saw it). */
  const write = (p: string, size: number, mtimeMs = 1): FileStamp => {
    const stamp = { size, mtimeMs };
    stamps.set(p, stamp);
    return { ...stamp };
  };
  return { batcher, batches, stamps, statted, write };
}

describe('PathBatcher', () => {
  it('coalesces a burst of events per path and hands the due paths of each source over together', async () => {
    const { batcher, batches, write } = setup();
    for (let i = 0; i < 50; i++) batcher.touch('docs', '/d/a.md', write('/d/a.md', 1));
    batcher.touch('docs', '/d/b.md', write('/d/b.md', 2));
    batcher.touch('docs', '/d/gone.md', null);
    batcher.touch('other', '/o/x.md', null);
    expect(batcher.size()).toBe(4);
    expect(batcher.size('docs')).toBe(3);
    expect(batcher.size('other')).toBe(1);
    expect(batcher.size('none')).toBe(0);
    await vi.advanceTimersByTimeAsync(40);
    // Due, and waiting out the coalescing window: still counted.
    expect(batches).toEqual([]);
    expect(batcher.size()).toBe(4);
    expect(batcher.size('docs')).toBe(3);
    await vi.advanceTimersByTimeAsync(20);
    expect(batches).toEqual([
      { source: 'docs', paths: ['/d/a.md', '/d/b.md', '/d/gone.md'], at: 60 },
      { source: 'other', paths: ['/o/x.md'], at: 60 },
    ]);
    expect(batcher.size()).toBe(0);
    batcher.close();
  });

  it('restarts the quiet period on every event for a path', async () => {
    const { batcher, batches, write } = setup({ debounceMs: 80 });
    for (let i = 0; i < 5; i++) {
      batcher.touch('docs', '/d/a.md', write('/d/a.md', 1));
      await vi.advanceTimersByTimeAsync(40);
    }
    // The last event came at 160: due at 240, handed over at 260.
    await vi.advanceTimersByTimeAsync(259 - 200);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([{ source: 'docs', paths: ['/d/a.md'], at: 260 }]);
  });

  it('waits again while the file keeps changing without events (its size or time differs from the last seen)', async () => {
    const { batcher, batches, write, stamps } = setup({ debounceMs: 50 });
    batcher.touch('docs', '/d/big.bin', write('/d/big.bin', 10, 1));
    // The writer goes on, silently.
    stamps.set('/d/big.bin', { size: 20, mtimeMs: 1 });
    await vi.advanceTimersByTimeAsync(50);
    stamps.set('/d/big.bin', { size: 20, mtimeMs: 2 });
    await vi.advanceTimersByTimeAsync(50);
    await vi.advanceTimersByTimeAsync(69);
    expect(batches).toEqual([]);
    // Stable for a whole period since the check at 100: due at 150, handed over at 170.
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([{ source: 'docs', paths: ['/d/big.bin'], at: 170 }]);
  });

  const cases: { name: string; stamp: FileStamp | null | undefined; onDisk: FileStamp | undefined; handedAt: number }[] = [
    { name: 'a file as the event saw it: after one quiet period', stamp: { size: 5, mtimeMs: 1 }, onDisk: { size: 5, mtimeMs: 1 }, handedAt: 60 },
    { name: 'an event without a stamp: one more quiet period', stamp: undefined, onDisk: { size: 5, mtimeMs: 1 }, handedAt: 100 },
    { name: 'a deletion, the file gone: after one quiet period', stamp: null, onDisk: undefined, handedAt: 60 },
    { name: 'a deletion, the file there again: one more quiet period', stamp: null, onDisk: { size: 5, mtimeMs: 1 }, handedAt: 100 },
    { name: 'a file gone since the event: after one quiet period', stamp: { size: 5, mtimeMs: 1 }, onDisk: undefined, handedAt: 60 },
    { name: 'another mtime than the event saw: one more quiet period', stamp: { size: 5, mtimeMs: 1 }, onDisk: { size: 5, mtimeMs: 2 }, handedAt: 100 },
    { name: 'another size than the event saw: one more quiet period', stamp: { size: 5, mtimeMs: 1 }, onDisk: { size: 6, mtimeMs: 1 }, handedAt: 100 },
  ];
  for (const { name, stamp, onDisk, handedAt } of cases) {
    it(name, async () => {
      const { batcher, batches, stamps } = setup();
      if (onDisk) stamps.set('/d/a.md', onDisk);
      batcher.touch('docs', '/d/a.md', stamp);
      await vi.advanceTimersByTimeAsync(handedAt - 1);
      expect(batches).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(batches).toEqual([{ source: 'docs', paths: ['/d/a.md'], at: handedAt }]);
    });
  }

  it('an event without a stamp keeps the stamp an earlier event saw', async () => {
    const { batcher, batches, write } = setup();
    batcher.touch('docs', '/d/a.md', write('/d/a.md', 5));
    batcher.touch('docs', '/d/a.md');
    await vi.advanceTimersByTimeAsync(60);
    expect(batches).toEqual([{ source: 'docs', paths: ['/d/a.md'], at: 60 }]);
  });

  it('hands paths that became due within the coalescing window over together (the two halves of a rename)', async () => {
    const { batcher, batches, write } = setup({ debounceMs: 40, coalesceMs: 20 });
    batcher.touch('docs', '/d/old.md', null);
    await vi.advanceTimersByTimeAsync(10);
    batcher.touch('docs', '/d/new.md', write('/d/new.md', 1));
    await vi.advanceTimersByTimeAsync(20);
    batcher.touch('docs', '/d/later.md', write('/d/later.md', 1));
    await vi.advanceTimersByTimeAsync(30);
    // old.md due at 40, new.md at 50: handed over at 60. later.md (due at 70) comes in the next batch, at 90.
    expect(batches).toEqual([{ source: 'docs', paths: ['/d/new.md', '/d/old.md'], at: 60 }]);
    await vi.advanceTimersByTimeAsync(29);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches[1]).toEqual({ source: 'docs', paths: ['/d/later.md'], at: 90 });
  });

  it('checks at most maxPerTick paths per timer tick, and the rest at once after', async () => {
    const { batcher, batches, statted } = setup({ maxPerTick: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) batcher.touch('docs', `/d/${name}.md`, null);
    await vi.advanceTimersToNextTimerAsync();
    expect(Date.now()).toBe(40);
    expect(statted).toEqual(['/d/a.md', '/d/b.md']);
    await vi.advanceTimersToNextTimerAsync();
    expect(statted).toEqual(['/d/a.md', '/d/b.md', '/d/c.md', '/d/d.md']);
    // At once: a timer of 0 ms (which Node runs after 1 ms).
    expect(Date.now()).toBe(41);
    await vi.advanceTimersByTimeAsync(20);
    expect(batches).toEqual([{ source: 'docs', paths: ['/d/a.md', '/d/b.md', '/d/c.md', '/d/d.md', '/d/e.md'], at: 60 }]);
  });

  it('checks only the paths that are due', async () => {
    const { batcher, statted } = setup({ debounceMs: 40 });
    batcher.touch('docs', '/d/a.md', null);
    await vi.advanceTimersByTimeAsync(30);
    batcher.touch('docs', '/d/b.md', null);
    await vi.advanceTimersByTimeAsync(10);
    expect(statted).toEqual(['/d/a.md']);
    await vi.advanceTimersByTimeAsync(29);
    expect(statted).toEqual(['/d/a.md']);
    await vi.advanceTimersByTimeAsync(1);
    expect(statted).toEqual(['/d/a.md', '/d/b.md']);
  });

  it('applies a new quiet period to paths touched from then on', async () => {
    const { batcher, batches } = setup({ debounceMs: 40 });
    batcher.setDebounce(200);
    batcher.touch('docs', '/d/a.md', null);
    await vi.advanceTimersByTimeAsync(219);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([{ source: 'docs', paths: ['/d/a.md'], at: 220 }]);
  });

  it('keeps bounded state for 10,000 events on 10,000 paths and forgets a dropped source, waiting or due', async () => {
    const { batcher, batches } = setup({ debounceMs: 30 });
    for (let i = 0; i < 10_000; i++) batcher.touch(i % 2 ? 'docs' : 'gone', `/d/f${i}.md`, null);
    expect(batcher.size()).toBe(10_000);
    batcher.drop('gone');
    expect(batcher.size()).toBe(5000);
    batcher.touch('late', '/l/x.md', null);
    await vi.advanceTimersByTimeAsync(30);
    // Due, not handed over yet: dropped all the same.
    batcher.drop('late');
    expect(batcher.size('late')).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches.map((b) => b.source)).toEqual(['docs']);
    expect(new Set(batches.flatMap((b) => b.paths)).size).toBe(5000);
  });

  it('close() stops every timer, forgets every path and takes no new one', async () => {
    const { batcher, batches } = setup();
    batcher.touch('docs', '/d/a.md', null);
    await vi.advanceTimersByTimeAsync(40);
    batcher.touch('docs', '/d/b.md', null);
    batcher.close();
    expect(batcher.size()).toBe(0);
    batcher.touch('docs', '/d/c.md', null);
    expect(batcher.size()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(batches).toEqual([]);
  });
});
