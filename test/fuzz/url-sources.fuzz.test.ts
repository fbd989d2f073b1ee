import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FetchError } from '../../src/errors.js';
import { expandSitemapWithProblems, parseSitemap } from '../../src/sources/urls/sitemap.js';
import { parseUrlList } from '../../src/sources/urls/list.js';
import { usePageServer } from '../helpers/page-server.js';
import { assertTypedFailure, bounded } from './fuzz-helpers.js';

const urlish = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom('http://', 'https://a.test/x y', 'ftp://a.test/', 'https://user:pw@a.test/', 'http://[::1]/', 'https://a.test/%zz', '#', ' # c', '\r', '\u0000', '\ufeff'),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

describe('fuzz: URL lists', () => {
  it('parseUrlList: any text gives http(s) URLs and located problems, never an exception', () => {
    fc.assert(
      fc.property(fc.array(urlish, { maxLength: 30 }).map((lines) => lines.join('\n')), (text) => {
        const { urls, problems } = parseUrlList(text);
        const lineCount = text.split(/\r\n|\r|\n/).length;
        for (const url of urls) expect(['http:', 'https:']).toContain(new URL(url).protocol);
        expect(new Set(urls).size).toBe(urls.length);
        for (const p of problems) expect(p.line >= 1 && p.line <= lineCount).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

/** Sitemap-like text whose URLs come from `url`. */
function xmlText(url: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom('<urlset>', '</urlset>', '<url>', '</url>', '<loc>', '</loc>', '<sitemapindex>', '</sitemapindex>', '<sitemap>', '</sitemap>', '<image:loc>', '<?xml version="1.0"?>'),
    fc.constantFrom('<![CDATA[', ']]>', '&amp;', '&lt;', '&#0;', '&#x1F600;', '&bogus;', '<!DOCTYPE x [<!ENTITY e "eeeeeeee">]>', '&e;', '<!--', '-->', '"', "'", '<', '>', '/'),
    url,
    fc.string({ unit: 'binary', maxLength: 20 }),
  );
  return fc.array(piece, { maxLength: 60 }).map((pieces) => pieces.join(''));
}

describe('fuzz: sitemaps', () => {
  it('parseSitemap: any text gives a urlset, an index or "other", never an exception', () => {
    fc.assert(
      fc.property(xmlText(fc.webUrl()), (xml) => {
        const parsed = parseSitemap(xml);
        expect(['urlset', 'sitemapindex', 'other']).toContain(parsed.kind);
      }),
      { numRuns: 400 },
    );
  });

  it('expandSitemap: any body a server sends gives URLs or a FetchError, in bounded time', async () => {
    const server = await usePageServer();
    let n = 0;
    // Nested sitemaps point back at this server (some exist, most are 404s): no name needs DNS.
    const local = fc.integer({ min: 0, max: 80 }).map((i) => server.url(`/s${i}.xml`));
    await fc.assert(
      fc.asyncProperty(xmlText(local), fc.constantFrom('application/xml', 'text/html', ''), async (body, type) => {
        const path = `/s${n++}.xml`;
        server.set(path, { body, headers: type ? { 'content-type': type } : {} });
        await bounded(() =>
          expandSitemapWithProblems(server.url(path), { timeoutMs: 2000, maxRedirects: 2, maxBytes: 100_000, dispatcher: server.dispatcher, allowPrivateAddresses: true }).then(
            ({ urls }) => {
              for (const url of urls) expect(['http:', 'https:']).toContain(new URL(url).protocol);
            },
            (error: unknown) => assertTypedFailure(error, FetchError),
          ),
        );
      }),
      { numRuns: 60 },
    );
  });
});
