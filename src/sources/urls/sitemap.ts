import { gunzipSync } from 'node:zlib';
import { Parser } from 'htmlparser2';
import { FetchError } from '../../errors.js';
import { type FetchOptions, discard, getWithRedirects, readBounded, statusError, tooBigError, withDeadline } from './http.js';
import { normaliseUrl } from './list.js';

/** How deep `<sitemapindex>` files may nest: the configured sitemap is level 0. */
export const MAX_SITEMAP_DEPTH = 3;

/** The most sitemap files fetched for one configured sitemap, indexes included. */
export const MAX_SITEMAP_FILES = 500;

/** A `<loc>` entry that was skipped, or a nested sitemap listed twice. */
export interface SitemapProblem {
  /** The sitemap file the entry is in. */
  where: string;
  reason: string;
}

/**
 * Fetches a sitemap and returns the page URLs of its `<url><loc>` entries, in order, normalised and
 * de-duplicated (see `normaliseUrl`). A `<sitemapindex>` is expanded by fetching each nested sitemap in
 * turn, at most {@link MAX_SITEMAP_DEPTH} levels deep. A gzip-compressed sitemap (`.xml.gz`) is accepted.
 * `<loc>` entries that are not http(s) URLs are skipped.
 *
 * @throws FetchError when the sitemap, or any sitemap nested in an index, cannot be fetched or is not a
 *   sitemap: a partial list would look like pages were removed.
 */
export async function expandSitemap(url: string, options: FetchOptions): Promise<string[]> {
  return (await expandSitemapWithProblems(url, options)).urls;
}

/** Like {@link expandSitemap}, and also says which `<loc>` entries were skipped and why. */
export async function expandSitemapWithProblems(
  url: string,
  options: FetchOptions,
): Promise<{ urls: string[]; problems: SitemapProblem[] }> {
  const urls: string[] = [];
  const seenUrls = new Set<string>();
  const problems: SitemapProblem[] = [];
  const fetched = new Set<string>();

  const visit = async (sitemapUrl: string, depth: number, root: string): Promise<void> => {
    if (fetched.size >= MAX_SITEMAP_FILES) {
      throw new FetchError(root, `the sitemap lists more than ${MAX_SITEMAP_FILES} sitemap files`, { transient: false });
    }
    fetched.add(sitemapUrl);
    const xml = await fetchSitemapText(sitemapUrl, options);
    const parsed = parseSitemap(xml);
    if (parsed.kind === 'other') {
      throw new FetchError(sitemapUrl, `not a sitemap: the root element is ${parsed.root ? `<${parsed.root}>` : 'missing'}`, {
        transient: false,
      });
    }
    const accept = (loc: string): string | undefined => {
      const result = normaliseUrl(loc);
      if (result.ok) return result.url;
      problems.push({ where: sitemapUrl, reason: `<loc> "${loc}": ${result.reason}` });
      return undefined;
    };
    if (parsed.kind === 'urlset') {
      for (const loc of parsed.locs) {
        const page = accept(loc);
        if (page !== undefined && !seenUrls.has(page)) {
          seenUrls.add(page);
          urls.push(page);
        }
      }
      return;
    }
    for (const loc of parsed.locs) {
      const nested = accept(loc);
      if (nested === undefined) continue;
      if (fetched.has(nested)) {
        problems.push({ where: sitemapUrl, reason: `<loc> "${loc}": sitemap already read, skipped` });
        continue;
      }
      if (depth + 1 > MAX_SITEMAP_DEPTH) {
        throw new FetchError(sitemapUrl, `sitemap indexes nested more than ${MAX_SITEMAP_DEPTH} levels deep`, { transient: false });
      }
      await visit(nested, depth + 1, root);
    }
  };

  const start = normaliseUrl(url);
  if (!start.ok) throw new FetchError(url, `invalid sitemap URL: ${start.reason}`, { transient: false });
  await visit(start.url, 0, start.url);
  return { urls, problems };
}

/** Fetches one sitemap file and returns its XML text, gunzipped when it is gzip data. */
async function fetchSitemapText(url: string, options: FetchOptions): Promise<string> {
  const body = await withDeadline(url, options, async (signal, noteStatus) => {
    const res = await getWithRedirects(
      url,
      options,
      { accept: 'application/xml, text/xml;q=0.9, application/gzip;q=0.8, */*;q=0.5' },
      signal,
      noteStatus,
    );
    if (res.statusCode !== 200) {
      discard(res.body);
      throw statusError(url, res);
    }
    return readBounded(url, res, options.maxBytes);
  });
  let xml = body;
  // Sniff the gzip magic rather than trusting Content-Type or a `.gz` name: servers disagree on both.
  if (body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b) {
    try {
      xml = gunzipSync(body, { maxOutputLength: options.maxBytes });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
        throw tooBigError(url, options.maxBytes, 200);
      }
      throw new FetchError(url, `the gzip sitemap cannot be decompressed: ${(error as Error).message}`, {
        status: 200,
        transient: false,
        cause: error,
      });
    }
  }
  return new TextDecoder('utf-8').decode(xml);
}

type ParsedSitemap = { kind: 'urlset' | 'sitemapindex'; locs: string[] } | { kind: 'other'; root: string | undefined };

/**
 * Parses sitemap XML. Only `<loc>` elements that are direct children of a `<url>` (in a `<urlset>`) or a
 * `<sitemap>` (in a `<sitemapindex>`) count, so `<image:loc>` and other extensions are ignored.
 * Namespace prefixes are ignored when matching names.
 */
export function parseSitemap(xml: string): ParsedSitemap {
  const stack: string[] = [];
  let root: string | undefined;
  const locs: string[] = [];
  let current: string[] | undefined;
  const local = (name: string) => name.slice(name.indexOf(':') + 1).toLowerCase();

  const parser = new Parser(
    {
      onopentag(name) {
        const n = local(name);
        if (root === undefined) root = n;
        stack.push(n);
        if (stack.length === 3 && n === 'loc' && (stack[1] === 'url' || stack[1] === 'sitemap')) current = [];
      },
      ontext(data) {
        current?.push(data);
      },
      onclosetag() {
        if (stack.length === 3 && current !== undefined) {
          const loc = current.join('').trim();
          if (loc !== '') locs.push(loc);
          current = undefined;
        }
        stack.pop();
      },
    },
    { xmlMode: true, decodeEntities: true, recognizeCDATA: true },
  );
  parser.write(xml);
  parser.end();

  if (root === 'urlset') return { kind: 'urlset', locs };
  if (root === 'sitemapindex') return { kind: 'sitemapindex', locs };
  return { kind: 'other', root };
}
