// The scan as a stream: the order it yields folders in, that it yields before it has listed the whole tree, and the
// parts of a large folder (key ranges that SQLite's text order agrees with).
import fs, { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedFolderSource } from '../../../src/config/resolve.js';
import { compareKeys, openScan, scanFolder, scanFolders, type ScannedFolder } from '../../../src/sources/folder/scan.js';
import { tmpDir, writeFile } from '../../helpers/tmp-dir.js';

function folderSource(root: string, overrides: Partial<ResolvedFolderSource> = {}): ResolvedFolderSource {
  return { name: 'docs', type: 'folder', path: root, include: undefined, exclude: [], followSymlinks: false, maxFileSize: 1e9, metadata: {}, chatbotUserId: undefined, enabled: true, linkBase: undefined, ...overrides } as ResolvedFolderSource;
}

async function collect(source: ResolvedFolderSource, options: Parameters<typeof scanFolders>[1] = {}): Promise<ScannedFolder[]> {
  const out: ScannedFolder[] = [];
  for await (const folder of scanFolders(source, options)) out.push(folder);
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('the scan as a stream', () => {
  it('yields folders depth first (a folder, then its subfolders in name order), each with its files in name order, whatever the worker', async () => {
    const root = tmpDir();
    for (const rel of ['b/x.md', 'a/2/z.md', 'a/1/y.md', 'a/1/deep/w.md', 'a/f.md', 'top.md', 'c.md', 'a/1/e.md']) writeFile(root, rel, rel);
    mkdirSync(path.join(root, 'a/empty'));
    const expected = [
      ['', ['c.md', 'top.md']],
      ['a', ['a/f.md']],
      ['a/1', ['a/1/e.md', 'a/1/y.md']],
      ['a/1/deep', ['a/1/deep/w.md']],
      ['a/2', ['a/2/z.md']],
      ['a/empty', []],
      ['b', ['b/x.md']],
    ];
    for (const statWorker of ['never', 'always'] as const) {
      const folders = await collect(folderSource(root), { statWorker });
      expect(folders.map((f) => [f.dir, f.files.map((file) => file.key)])).toEqual(expected);
    }
  });

  it('yields the first folders before it has listed the whole tree', async () => {
    const root = tmpDir();
    for (let d = 0; d < 60; d++) for (let f = 0; f < 60; f++) writeFile(root, `d${String(d).padStart(2, '0')}/f${f}.md`, `${d}/${f}`);
    const readdir = vi.spyOn(fs, 'readdirSync');
    const scan = openScan(folderSource(root), { statWorker: 'never' });
    const iterator = scan[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.dir).toBe('');
    expect((await iterator.next()).value?.dir).toBe('d00');
    // A few folders are listed ahead (a few thousand entries at most), not the 61 of the tree.
    expect(readdir.mock.calls.length).toBeLessThan(61);
    expect(readdir.mock.calls.length).toBeGreaterThan(1);
    scan.close();
  });

  it('yields a large folder in parts whose key ranges hold exactly their files, in the order SQLite compares keys', async () => {
    const root = tmpDir();
    const names = ['a.md', 'b.md', 'Z.md', '%41.md', '50%.md', 'é.md', '\u{1F600}.md', '\uFFFD\uE000.md', 'ü.md', '.hidden.md', 'sub', 'k.md', 'x%FF.md'];
    for (const name of names) {
      if (name === 'sub') writeFile(root, 'sub/inner.md', 'inner');
      else writeFile(root, name, name);
    }
    writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x62, 0xff, 0x2e, 0x6d, 0x64])]), 'bytes'); // "b\xff.md"
    const whole = await collect(folderSource(root), { partEntries: 1000 });
    const parted = await collect(folderSource(root), { partEntries: 3 });
    const rootParts = parted.filter((f) => f.dir === '');
    expect(rootParts.length).toBe(Math.ceil((names.length + 1) / 3));
    rootParts.forEach((f, i) => expect(f.part).toMatchObject({ index: i, last: i === rootParts.length - 1 }));
    expect(rootParts[0]?.part?.from).toBeUndefined();
    expect(rootParts.at(-1)?.part?.to).toBeUndefined();
    // Consecutive parts share their bound, and every file lies in its part's range, in UTF-8 byte order.
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    for (let i = 0; i < rootParts.length; i++) {
      const part = rootParts[i]?.part;
      if (i > 0) expect(part?.from).toBe(rootParts[i - 1]?.part?.to);
      for (const file of rootParts[i]?.files ?? []) {
        if (part?.from !== undefined) expect(Buffer.compare(utf8(file.key), utf8(part.from))).toBeGreaterThanOrEqual(0);
        if (part?.to !== undefined) expect(Buffer.compare(utf8(file.key), utf8(part.to))).toBeLessThan(0);
      }
    }
    // The same files as when the folder is yielded whole, sorted by key.
    const keys = (folders: ScannedFolder[]) => folders.filter((f) => f.dir === '').flatMap((f) => f.files.map((file) => file.key));
    expect([...keys(parted)].sort(compareKeys)).toEqual(keys(parted));
    expect(new Set(keys(parted))).toEqual(new Set(keys(whole)));
    expect(parted.filter((f) => f.dir === 'sub').map((f) => f.files.map((file) => file.key))).toEqual([['sub/inner.md']]);
    expect(await scanFolder(folderSource(root), { partEntries: 3 })).toHaveLength(await scanFolder(folderSource(root)).then((f) => f.length));
  });

  it('compareKeys orders like UTF-8 bytes (SQLite text order)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))));
      }),
    );
    expect(compareKeys('\uFFFF', '\u{10000}')).toBeLessThan(0); // UTF-16 order says the opposite
  });
});
