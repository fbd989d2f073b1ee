import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceError } from '../../../src/errors.js';
import { normaliseUrl, parseUrlList, readUrlList } from '../../../src/sources/urls/list.js';

describe('parseUrlList', () => {
  it('ignores blank lines, whole-line and trailing comments, and trims', () => {
    const text = [
      '# the docs',
      '',
      '   https://example.com/a   ',
      'https://example.com/b # the second page',
      '\t# indented comment',
      'https://example.com/c?x=1&y=2\t#\ttab comment',
      '   ',
    ].join('\n');
    const { urls, problems } = parseUrlList(text);
    expect(urls).toEqual(['https://example.com/a', 'https://example.com/b', 'https://example.com/c?x=1&y=2']);
    expect(problems).toEqual([]);
  });

  it('reports bad lines with their 1-based line numbers and keeps the rest', () => {
    const text = 'https://example.com/ok\nnot a url\r\nftp://example.com/file\nhttps://example.com/ok2\n/relative/path\nhttps://user:pw@example.com/x\n';
    const { urls, problems } = parseUrlList(text);
    expect(urls).toEqual(['https://example.com/ok', 'https://example.com/ok2']);
    expect(problems.map((p) => [p.line, p.text])).toEqual([
      [2, 'not a url'],
      [3, 'ftp://example.com/file'],
      [5, '/relative/path'],
      [6, 'https://user:pw@example.com/x'],
    ]);
    expect(problems[1]?.reason).toMatch(/not an http\(s\) URL.*ftp/);
    expect(problems[3]?.reason).toMatch(/user name or password/);
  });

  it('de-duplicates in order, dropping #fragments but keeping the query', () => {
    const text = [
      'https://example.com/a#intro',
      'https://EXAMPLE.com:443/a',
      'https://example.com/a?page=2',
      'https://example.com/b#x',
      'https://example.com/a?page=2#y',
    ].join('\n');
    expect(parseUrlList(text).urls).toEqual(['https://example.com/a', 'https://example.com/a?page=2', 'https://example.com/b']);
  });

  it('keeps a # that is part of the URL (no whitespace before it) as a fragment, then drops it', () => {
    expect(parseUrlList('https://example.com/page#section').urls).toEqual(['https://example.com/page']);
  });

  it('ignores a leading byte-order mark', () => {
    expect(parseUrlList('\uFEFFhttps://example.com/').urls).toEqual(['https://example.com/']);
  });
});

describe('normaliseUrl', () => {
  it('refuses URLs with whitespace inside and non-http schemes', () => {
    expect(normaliseUrl('https://example.com/a b').ok).toBe(false);
    expect(normaliseUrl('mailto:x@example.com').ok).toBe(false);
    expect(normaliseUrl('https://example.com/a b'.replace(' ', '%20'))).toEqual({ ok: true, url: 'https://example.com/a%20b' });
  });
});

describe('readUrlList', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lanying-kb-url-list-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and parses a list file', async () => {
    const file = path.join(dir, 'urls.txt');
    await writeFile(file, '# list\nhttps://example.com/1\nbad\nhttps://example.com/1\n');
    const { urls, problems } = await readUrlList(file);
    expect(urls).toEqual(['https://example.com/1']);
    expect(problems).toEqual([{ line: 3, text: 'bad', reason: expect.stringMatching(/not an http/) }]);
  });

  it('throws SourceError for a missing list file', async () => {
    const file = path.join(dir, 'missing.txt');
    const error = await readUrlList(file, 'docs').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).source).toBe('docs');
    expect((error as SourceError).message).toContain(file);
    expect((error as SourceError).message).toContain('no such file');
  });

  it('throws SourceError when the list file is a folder', async () => {
    await expect(readUrlList(dir)).rejects.toBeInstanceOf(SourceError);
  });
});
