import { describe, expect, it } from 'vitest';
import { displayNameOf, linkFor } from '../../../src/sources/folder/adapter.js';

describe('displayNameOf: the name a file is sent under (its base name, the extension in lower case)', () => {
  it.each([
    ['a.md', 'a.md'],
    ['guide/setup/Intro.MD', 'Intro.md'],
    ['guide/Intro.Md', 'Intro.md'],
    ['deep/path/Report.Final.PDF', 'Report.Final.pdf'],
    ['notes/README', 'README'],
    ['notes/.hidden', '.hidden'],
    ['notes/.Hidden.TXT', '.Hidden.txt'],
    ['noext.', 'noext.'],
  ])('%s → %s', (key, name) => {
    expect(displayNameOf(key)).toBe(name);
  });
});

describe('linkFor: linkBase and the path, each segment percent-encoded', () => {
  it.each([
    [undefined, 'a.md', undefined],
    ['', 'a.md', undefined],
    ['https://docs.example.test/', 'guide/a b.md', 'https://docs.example.test/guide/a%20b.md'],
  ])('%s + %s', (base, key, link) => {
    expect(linkFor(base, key)).toBe(link);
  });
});
