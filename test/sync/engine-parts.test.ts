// A large folder is observed in parts (key ranges) and never held whole: the engine decides each part against the
// state's rows of that range only, records one digest per part, and skips the parts that look as they did.
import { unlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scanLimits } from '../../src/sources/folder/scan.js';
import { StateStore } from '../../src/state/store.js';
import type { SyncEvent } from '../../src/sync/engine.js';
import { setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

const saved = scanLimits.partEntries;
beforeEach(() => void (scanLimits.partEntries = 3));
afterEach(() => {
  scanLimits.partEntries = saved;
  vi.restoreAllMocks();
});

describe('sync engine: a folder observed in parts', () => {
  it('sends each document once, skips unchanged parts, and finds additions and removals in any part', async () => {
    const s = await setupSync();
    for (let i = 0; i < 10; i++) writeFile(s.root, `big/f${i}.md`, `file ${i}`);
    writeFile(s.root, 'big/sub/inner.md', 'inner');
    const first = await s.sync();
    expect(first.counts).toMatchObject({ new: 11, sent: 11, failed: 0 });
    // Settled (a later write to a row, e.g. a confirmation, clears a folder's digest until a run records it again).
    expect((await s.sync()).counts).toMatchObject({ unchanged: 11, new: 0, removed: 0, sent: 0 });
    const store = s.state();
    expect(store.folderDigest('docs', 'big')).toMatch(/^parts:(\S+ ){3}\S+$/); // 11 entries (10 files and sub) in 4 parts
    store.close();

    // Unchanged: no part is read from the state.
    const read = vi.spyOn(StateStore.prototype, 'documentsInDir');
    expect((await s.sync()).counts).toMatchObject({ unchanged: 11, new: 0, removed: 0, sent: 0 });
    expect(read).not.toHaveBeenCalled();

    // A file removed from the middle shifts the later parts' ranges: nothing but it is taken for removed.
    unlinkSync(`${s.root}/big/f4.md`);
    writeFile(s.root, 'big/f7.md', 'file 7, changed');
    writeFile(s.root, 'big/f99.md', 'new at the end');
    const third = await s.sync();
    expect(third.counts).toMatchObject({ new: 1, changed: 1, removed: 1, sent: 2, unchanged: 9 });
    expect(third.entries.filter((e) => e.action === 'removed').map((e) => e.key)).toEqual(['big/f4.md']);
    expect(read.mock.calls.every(([, , range]) => range === undefined || range.from !== undefined || range.to !== undefined)).toBe(true);

    // Settled again: after one run that records the digests, the next reads nothing.
    expect((await s.sync()).counts).toMatchObject({ unchanged: 11, sent: 0, new: 0, removed: 0 });
    read.mockClear();
    expect((await s.sync()).counts).toMatchObject({ unchanged: 11, sent: 0, new: 0, removed: 0 });
    expect(read).not.toHaveBeenCalled();
    expect(s.sends()).toHaveLength(13);
  });

  it('a hidden file that moves the part bounds does not make a document look removed', async () => {
    const s = await setupSync();
    for (const name of ['b.md', 'd.md', 'f.md', 'h.md', 'j.md', 'l.md']) writeFile(s.root, name, name);
    await s.sync();
    // ".a" sorts first: every later entry moves one place, and so does every bound.
    writeFile(s.root, '.a.md', 'hidden');
    const report = await s.sync();
    expect(report.counts).toMatchObject({ unchanged: 6, removed: 0, new: 0, sent: 0 });
  });
});

describe('sync engine: a report that streams (collectEntries: false)', () => {
  it('keeps no entry, and hands every decision and outcome to onEvent (unchanged ones when they are to be listed)', async () => {
    const s = await setupSync();
    for (let i = 0; i < 8; i++) writeFile(s.root, `d${i % 2}/f${i}.md`, `file ${i}`);
    writeFile(s.root, 'd0/x.exe', 'binary');
    const events: SyncEvent[] = [];
    const first = await s.sync({ collectEntries: false, onEvent: (e) => events.push(e) });
    expect(first.entries).toEqual([]);
    expect(first.counts).toMatchObject({ new: 8, sent: 8, skipped: 1 });
    const decided = events.filter((e) => e.type === 'decision').map((e) => (e.type === 'decision' ? `${e.entry.action} ${e.entry.key}` : ''));
    expect(decided.sort()).toEqual([...Array.from({ length: 8 }, (_, i) => `new d${i % 2}/f${i}.md`), 'skipped d0/x.exe'].sort());
    expect(events.filter((e) => e.type === 'sent')).toHaveLength(8);

    events.length = 0;
    const second = await s.sync({ collectEntries: false, listUnchanged: true, onEvent: (e) => events.push(e) });
    expect(second.entries).toEqual([]);
    expect(events.filter((e) => e.type === 'decision' && e.entry.action === 'unchanged')).toHaveLength(8);
    events.length = 0;
    await s.sync({ collectEntries: false, onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'decision' && e.entry.action === 'unchanged')).toHaveLength(0);
  });
});
