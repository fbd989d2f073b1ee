import { describe, expect, it } from 'vitest';
import { isKbSupportedName, kbExtensionOf, KB_MAX_DOCUMENT_BYTES, KB_SUPPORTED_EXTENSIONS } from '../../src/protocol/kb-files.js';
import { usernameProblem } from '../../src/protocol/username.js';

describe('the swagger username rule (api-docs.json:15579)', () => {
  it.each(['alice', 'a1', '_1', 'A_b_9', '张三', '张三_2', '中文名字', 'Maxim_fan', 'MTA', 'xmaxim', 'amta'])('allows %j', (name) => {
    expect(usernameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['12345', /all digits/],
    ['mta', /mta/],
    ['mta_x', /mta/],
    ['maxim', /maxim/],
    ['maximus', /maxim/],
    ['a-b', /letters, digits, underscore/],
    ['a b', /letters/],
    ['名字!', /letters/],
    // Outside U+4E00..U+9FA5: not a letter here (U+9FA6, U+3400).
    ['\u9fa6', /letters/],
    ['\u3400', /letters/],
  ])('refuses %j', (name, reason) => {
    expect(usernameProblem(name)).toMatch(reason);
  });
});

describe('knowledge-base files (lanying_embedding.py:1784-1791, openai_service.py:3044-3045)', () => {
  it('lists the vendor extensions in order, plus zip, and the 50 MiB limit', () => {
    expect(KB_SUPPORTED_EXTENSIONS).toEqual(['html', 'htm', 'csv', 'txt', 'md', 'pdf', 'docx', 'doc', 'xlsx', 'xls', 'pptx', 'zip']);
    expect(KB_MAX_DOCUMENT_BYTES).toBe(52_428_800);
  });

  // os.path.splitext on Linux, lower-cased.
  it.each([
    ['a.md', 'md'],
    ['A.MD', 'md'],
    ['dir/b.PDF', 'pdf'],
    ['.md', ''],
    ['..md', ''],
    ['...md', ''],
    ['.a.md', 'md'],
    ['a.', ''],
    ['noext', ''],
    ['x.tar.gz', 'gz'],
    ['dir.v2/file', ''],
    ['back\\slash.md', 'md'],
  ])('%j has the extension %j', (name, ext) => {
    expect(kbExtensionOf(name)).toBe(ext);
  });

  it('takes a name by its extension', () => {
    expect(isKbSupportedName('Guide.DOCX')).toBe(true);
    expect(isKbSupportedName('data.json')).toBe(false);
    expect(isKbSupportedName('.md')).toBe(false);
  });
});
