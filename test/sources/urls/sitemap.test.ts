import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedUrlSource } from '../../../src/config/resolve.js';
import { FetchError, SourceError } from '../../../src/errors.js';
import { MAX_SITEMAP_DEPTH, expandSitemap, expandSitemapWithProblems, parseSitemap } from '../../../src/sources/urls/sitemap.js';
import { type FetchOptions, resolveSourceUrls } from '../../../src/sources/urls/fetch.js';
import { USER_AGENT } from '../../../src/version.js';
import { type PageServer, usePageServer } from '../../helpers/page-server.js';

const XML = { 'content-type': 'application/xml' };

function urlset(locs: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
${locs.map((l) => `  <url>\n    <loc>\n      ${l}\n    </loc>\n    <lastmod>2025-01-01</lastmod>\n    <image:image><image:loc>https://img.test/x.png</image:loc></image:image>\n  </url>`).join('\n')}
</urlset>`;
}

function index(locs: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
${locs.map((l) => `<sitemap><loc>${l}</loc></sitemap>`).join('\n')}
</sitemapindex>`;
}

// The page server is on 127.0.0.1: these tests opt in to private addresses (the address check has its own tests).
function opts(server: PageServer, extra: Partial<FetchOptions> = {}): FetchOptions {
  return { timeoutMs: 2000, maxRedirects: 5, maxBytes: 1024 * 1024, dispatcher: server.dispatcher, allowPrivateAddresses: true, ...extra };
}

describe('parseSitemap', () => {
  it('takes only <loc> directly under <url>, decoding entities and CDATA', () => {
    const parsed = parseSitemap(urlset(['https://a.test/1?x=1&amp;y=2', '<![CDATA[https://a.test/2]]>']));
    expect(parsed).toEqual({ kind: 'urlset', locs: ['https://a.test/1?x=1&y=2', 'https://a.test/2'] });
  });

  it('recognises a sitemap index and something that is not a sitemap', () => {
    expect(parseSitemap(index(['https://a.test/s1.xml']))).toEqual({ kind: 'sitemapindex', locs: ['https://a.test/s1.xml'] });
    expect(parseSitemap('<html><body><loc>x</loc></body></html>')).toEqual({ kind: 'other', root: 'html' });
  });
});

describe('expandSitemap', () => {
  it('returns the <loc> entries of a urlset in order, de-duplicated, fragments dropped', async () => {
    const server = await usePageServer();
    server.set('/sitemap.xml', {
      headers: XML,
      body: urlset(['https://site.test/a', 'https://site.test/b?page=2', 'https://site.test/a#top', 'https://site.test/c']),
    });
    expect(await expandSitemap(server.url('/sitemap.xml'), opts(server))).toEqual([
      'https://site.test/a',
      'https://site.test/b?page=2',
      'https://site.test/c',
    ]);
    expect(server.requestsTo('/sitemap.xml')[0]?.headers['user-agent']).toBe(USER_AGENT);
  });

  it('expands a sitemap index, including a gzip sitemap and a relative redirect', async () => {
    const server = await usePageServer();
    server.set('/index.xml', { headers: XML, body: index([server.url('/one.xml'), server.url('/two.xml.gz'), server.url('/moved.xml')]) });
    server.set('/one.xml', { headers: XML, body: urlset(['https://site.test/1', 'https://site.test/2']) });
    server.set('/two.xml.gz', { headers: { 'content-type': 'application/x-gzip' }, body: gzipSync(urlset(['https://site.test/3', 'https://site.test/1'])) });
    server.set('/moved.xml', { status: 301, headers: { location: '/three.xml' } });
    server.set('/three.xml', { headers: XML, body: urlset(['https://site.test/4']) });
    expect(await expandSitemap(server.url('/index.xml'), opts(server))).toEqual([
      'https://site.test/1',
      'https://site.test/2',
      'https://site.test/3',
      'https://site.test/4',
    ]);
  });

  it('skips bad <loc> entries and an index that lists a sitemap twice, reporting both', async () => {
    const server = await usePageServer();
    server.set('/index.xml', { headers: XML, body: index([server.url('/one.xml'), server.url('/one.xml'), 'not a url']) });
    server.set('/one.xml', { headers: XML, body: urlset(['https://site.test/1', 'javascript:alert(1)']) });
    const { urls, problems } = await expandSitemapWithProblems(server.url('/index.xml'), opts(server));
    expect(urls).toEqual(['https://site.test/1']);
    expect(problems).toHaveLength(3);
    expect(problems.map((p) => p.where)).toEqual([server.url('/one.xml'), server.url('/index.xml'), server.url('/index.xml')]);
    expect(server.requestsTo('/one.xml')).toHaveLength(1);
  });

  it(`refuses sitemap indexes nested more than ${MAX_SITEMAP_DEPTH} levels deep`, async () => {
    const server = await usePageServer();
    for (let i = 0; i <= MAX_SITEMAP_DEPTH + 1; i++) server.set(`/s${i}.xml`, { headers: XML, body: index([server.url(`/s${i + 1}.xml`)]) });
    const error = await expandSitemap(server.url('/s0.xml'), opts(server)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as FetchError).message).toContain('nested more than');
    expect(server.requests).toHaveLength(MAX_SITEMAP_DEPTH + 1);
  });

  it('throws FetchError when the sitemap, or a nested one, fails', async () => {
    const server = await usePageServer();
    server.set('/index.xml', { headers: XML, body: index([server.url('/ok.xml'), server.url('/broken.xml')]) });
    server.set('/ok.xml', { headers: XML, body: urlset(['https://site.test/1']) });
    server.set('/broken.xml', { status: 503 });
    const nested = await expandSitemap(server.url('/index.xml'), opts(server)).catch((e: unknown) => e);
    expect(nested).toBeInstanceOf(FetchError);
    expect((nested as FetchError).status).toBe(503);
    expect((nested as FetchError).transient).toBe(true);

    const missing = await expandSitemap(server.url('/missing.xml'), opts(server)).catch((e: unknown) => e);
    expect((missing as FetchError).status).toBe(404);
    expect((missing as FetchError).transient).toBe(false);
  });

  it('throws FetchError for a document that is not a sitemap, and for a sitemap over the size cap', async () => {
    const server = await usePageServer();
    server.set('/page', { headers: { 'content-type': 'text/html' }, body: '<html><body>hi</body></html>' });
    await expect(expandSitemap(server.url('/page'), opts(server))).rejects.toThrow(/not a sitemap: the root element is <html>/);
    server.set('/big.xml', { headers: XML, body: urlset(Array.from({ length: 100 }, (_, i) => `https://site.test/${i}`)) });
    await expect(expandSitemap(server.url('/big.xml'), opts(server, { maxBytes: 500 }))).rejects.toThrow(/over the limit of 500 bytes/);
    server.set('/bomb.xml.gz', { headers: { 'content-type': 'application/gzip' }, body: gzipSync(' '.repeat(100_000)) });
    await expect(expandSitemap(server.url('/bomb.xml.gz'), opts(server, { maxBytes: 5000 }))).rejects.toThrow(/over the limit of 5000 bytes/);
  });
});

describe('resolveSourceUrls', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lanying-kb-url-source-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function source(extra: Partial<ResolvedUrlSource>): ResolvedUrlSource {
    return {
      type: 'urls',
      name: 'web',
      metadata: {},
      chatbotUserId: undefined,
      enabled: true,
      urls: [],
      listFile: undefined,
      sitemap: undefined,
      refreshIntervalMs: 3_600_000,
      fetchTimeoutMs: 2000,
      maxRedirects: 5,
      maxBytes: 1024 * 1024,
      allowPrivateAddresses: true,
      ...extra,
    };
  }

  it('merges inline URLs, the list file and the sitemap in order, de-duplicated, with problems located', async () => {
    const server = await usePageServer();
    server.set('/sitemap.xml', { headers: XML, body: urlset(['https://site.test/c', 'https://site.test/d', 'ftp://site.test/e']) });
    const listFile = path.join(dir, 'urls.txt');
    await writeFile(listFile, 'https://site.test/b\n# comment\nhttps://site.test/a#again\nnope\nhttps://site.test/c\n');
    const result = await resolveSourceUrls(
      source({ urls: ['https://site.test/a', 'bad url', 'https://site.test/a#x'], listFile, sitemap: server.url('/sitemap.xml') }),
      opts(server),
    );
    expect(result.urls).toEqual(['https://site.test/a', 'https://site.test/b', 'https://site.test/c', 'https://site.test/d']);
    expect(result.problems.map((p) => p.where)).toEqual(['urls[1]', `${listFile}:4`, `sitemap ${server.url('/sitemap.xml')}`]);
  });

  it('throws SourceError for a missing list file', async () => {
    const error = await resolveSourceUrls(source({ listFile: path.join(dir, 'nope.txt') }), { timeoutMs: 1000, maxRedirects: 1, maxBytes: 1000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).source).toBe('web');
  });

  it('reports a sitemap that cannot be fetched as a failed problem and the list as incomplete, keeping the other URLs', async () => {
    const server = await usePageServer();
    server.set('/sitemap.xml', { status: 500 });
    const resolved = await resolveSourceUrls(source({ urls: ['https://site.test/a'], sitemap: server.url('/sitemap.xml') }), opts(server));
    expect(resolved.urls).toEqual(['https://site.test/a']);
    expect(resolved.complete).toBe(false);
    expect(resolved.problems).toEqual([{ where: server.url('/sitemap.xml'), reason: expect.stringMatching(/^sitemap: .*HTTP 500/), failed: true }]);
  });
});
