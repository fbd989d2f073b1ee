import { describe, expect, it } from 'vitest';
import type { ObservedItem } from '../../src/sources/types.js';
import { folderDigest } from '../../src/sync/folder-digest.js';

function file(key: string, fields: Partial<ObservedItem> = {}): ObservedItem {
  return { key, kind: 'file', size: 10, stat: { size: 10, mtimeMs: 1000.5, ino: 7 }, ...fields };
}

const SETTINGS = '{"source":"docs"}';
const base = [file('a.md'), file('b.md', { size: 20, stat: { size: 20, mtimeMs: 2000, ino: 8 } })];

describe('folderDigest: the same digest exactly when the folder looks the same', () => {
  it('is stable for the same items and settings (a base64 SHA-1)', () => {
    const digest = folderDigest(base, SETTINGS);
    expect(digest).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    expect(folderDigest(base.map((i) => ({ ...i })), SETTINGS)).toBe(digest);
  });

  it('hashes the version, the count and the settings, each item\'s key and skip as one text, then each item\'s text length, size, time and inode as 64-bit numbers', async () => {
    const { createHash } = await import('node:crypto');
    const items = [file('a.md'), file('c.exe', { skip: { code: 'unsupported', reason: 'unsupported type (.exe)' } }), { key: 'd/', kind: 'file' as const, size: 0, isFolder: true, skip: { code: 'link', reason: 'link not followed' } }];
    const texts = ['a.md', 'c.exe\u0000unsupported\u0000unsupported type (.exe)', 'd/\u0000link\u0000link not followed'];
    const text = [`3 3 ${SETTINGS.length}`, SETTINGS, ...texts].join('\n');
    const numbers = new Float64Array([4, 10, 1000.5, 7, texts[1]!.length, 10, 1000.5, 7, texts[2]!.length, 0, -1, -1]);
    expect(folderDigest(items, SETTINGS)).toBe(createHash('sha1').update(text).update(numbers).digest('base64'));
  });

  it('tells apart names that hold a line feed, cut another way (a rename that keeps every inode, size and time)', () => {
    const stat = (ino: number) => ({ size: 10, mtimeMs: 1000, ino });
    const before = [file('x.md\ny.md', { stat: stat(1) }), file('z.md', { stat: stat(2) })];
    const after = [file('x.md', { stat: stat(1) }), file('y.md\nz.md', { stat: stat(2) })];
    expect(folderDigest(after, SETTINGS)).not.toBe(folderDigest(before, SETTINGS));
  });

  const changes: [string, ObservedItem[], string?][] = [
    ['another size', [file('a.md', { size: 11 }), base[1] as ObservedItem]],
    ['another time', [file('a.md', { stat: { size: 10, mtimeMs: 1000.6, ino: 7 } }), base[1] as ObservedItem]],
    ['another inode', [file('a.md', { stat: { size: 10, mtimeMs: 1000.5, ino: 9 } }), base[1] as ObservedItem]],
    ['a renamed file', [file('A.md'), base[1] as ObservedItem]],
    ['a file more', [...base, file('c.md')]],
    ['a file less', [base[0] as ObservedItem]],
    ['a file now skipped', [file('a.md', { skip: { code: 'too-large', reason: 'too large' } }), base[1] as ObservedItem]],
    ['two files trading their sizes', [file('a.md', { size: 20 }), file('b.md', { size: 10, stat: { size: 20, mtimeMs: 2000, ino: 8 } })]],
    ['a size moved into a key', [file('a.md10'), base[1] as ObservedItem]],
    ['another settings text', base, '{"source":"docs","metadata":{"team":"x"}}'],
  ];
  for (const [what, items, settings] of changes) {
    it(`changes with ${what}`, () => {
      expect(folderDigest(items, settings ?? SETTINGS)).not.toBe(folderDigest(base, SETTINGS));
    });
  }

  it('changes with the skip reason alone', () => {
    const one = folderDigest([file('a.md', { skip: { code: 'too-large', reason: 'larger than 1 MiB' } })], SETTINGS);
    expect(folderDigest([file('a.md', { skip: { code: 'too-large', reason: 'larger than 2 MiB' } })], SETTINGS)).not.toBe(one);
    expect(folderDigest([file('a.md', { skip: { code: 'other', reason: 'larger than 1 MiB' } })], SETTINGS)).not.toBe(one);
  });

  it('gives an empty folder a digest too', () => {
    expect(folderDigest([], SETTINGS)).toEqual(expect.any(String));
    expect(folderDigest([], SETTINGS)).not.toBe(folderDigest([], 'other'));
  });
});

describe('folderDigest: none when the folder must always be looked at', () => {
  const cases: [string, ObservedItem][] = [
    ['an item that could not be observed', file('a.md', { failure: 'EIO' })],
    ['an unreadable file (it may become readable without a visible change)', file('a.md', { skip: { code: 'unreadable', reason: 'unreadable (EACCES)' } })],
    ['an unreadable folder below', { key: 'locked/', kind: 'file', size: 0, isFolder: true, skip: { code: 'unreadable', reason: 'unreadable folder (EACCES)' } }],
    ['a file without a stat', file('a.md', { stat: undefined })],
  ];
  for (const [what, item] of cases) {
    it(what, () => {
      expect(folderDigest([...base, item], SETTINGS)).toBeUndefined();
    });
  }

  it('a folder reported without a stat still has one', () => {
    expect(folderDigest([...base, { key: 'link/', kind: 'file', size: 0, isFolder: true, skip: { code: 'link', reason: 'x' } }], SETTINGS)).toEqual(expect.any(String));
  });
});
