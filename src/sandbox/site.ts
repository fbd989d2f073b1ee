import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { canRespond, type Exchange } from './exchange.js';
import type { Lifecycle } from './lifecycle.js';
import type { SitePage } from './types.js';

/** The URL prefix of the sandbox's web site. */
export const SITE_PREFIX = '/_sandbox/site/';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  zip: 'application/zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** A Content-Type by file extension; `text/html` when there is none (a page path like `docs/intro`). */
export function contentTypeFor(filepath: string): string {
  const base = filepath.slice(filepath.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot < 0) return CONTENT_TYPES.html as string;
  return CONTENT_TYPES[base.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** `a/b.html` from `/a/b.html`, `a//b.html`; undefined for a path that climbs out (`..`). */
export function normalizeSitePath(raw: string): string | undefined {
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..' || s.includes('\\') || s.includes('\0'))) return undefined;
  return segments.join('/') + (raw.endsWith('/') && segments.length > 0 ? '/' : '');
}

interface StoredPage extends SitePage {
  setAt: number;
}

function httpDate(value: string | number | undefined, fallback: number): string {
  if (value === undefined) return new Date(fallback).toUTCString();
  const date = typeof value === 'number' ? new Date(value) : new Date(Date.parse(value));
  return Number.isNaN(date.getTime()) ? new Date(fallback).toUTCString() : date.toUTCString();
}

/** Whether a conditional GET can be answered 304. If-None-Match wins over If-Modified-Since. */
function notModified(ex: Exchange, etag: string | undefined, lastModified: string | undefined): boolean {
  const inm = ex.req.headers['if-none-match'];
  if (inm !== undefined) {
    if (!etag) return false;
    const bare = (tag: string) => tag.trim().replace(/^W\//, '');
    return inm.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
  }
  const ims = ex.req.headers['if-modified-since'];
  if (ims === undefined || !lastModified) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && Math.floor(modified / 1000) <= Math.floor(since / 1000);
}

/** A body of `size` bytes, generated and streamed in 64 KiB pieces. */
function generatedBody(size: number): Readable {
  const piece = Buffer.alloc(64 * 1024, 'lanying sandbox generated body\n');
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const chunk = left >= piece.length ? piece : piece.subarray(0, left);
      left -= chunk.length;
      this.push(chunk);
    },
  });
}

/**
 * The sandbox's web site under `/_sandbox/site/`: pages set at run time first, then files under `siteDir`
 * (Content-Type by extension, ETag and Last-Modified, 304 for If-None-Match / If-Modified-Since).
 */
export class Site {
  readonly #pages = new Map<string, StoredPage>();

  constructor(
    readonly siteDir: string | undefined,
    private readonly now: () => number,
    private readonly lifecycle: Lifecycle,
  ) {}

  setPage(rawPath: string, page: SitePage): void {
    const key = normalizeSitePath(rawPath);
    if (key === undefined || key === '') throw new TypeError(`site page path "${rawPath}" is not valid`);
    this.#pages.set(key, { ...page, setAt: this.now() });
  }

  async serve(ex: Exchange): Promise<void> {
    ex.req.resume();
    let raw: string;
    try {
      raw = decodeURIComponent(ex.pathname.slice(SITE_PREFIX.length));
    } catch {
      return this.#notFound(ex);
    }
    const key = normalizeSitePath(raw);
    if (key === undefined) return this.#notFound(ex);
    if (ex.method !== 'GET' && ex.method !== 'HEAD') {
      if (canRespond(ex)) {
        ex.res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' });
        ex.res.end();
      }
      return;
    }
    const page = this.#pages.get(key);
    if (page) return this.#servePage(ex, key, page);
    return this.#serveFile(ex, key);
  }

  async #servePage(ex: Exchange, key: string, page: StoredPage): Promise<void> {
    if (page.delayMs) await this.lifecycle.sleep(page.delayMs);
    if (!canRespond(ex)) return;
    const headers: Record<string, string> = {};
    if (page.redirectTo !== undefined) {
      const target = /^[a-z][a-z0-9+.-]*:/i.test(page.redirectTo) || page.redirectTo.startsWith('/') ? page.redirectTo : SITE_PREFIX + page.redirectTo;
      ex.res.writeHead(page.status ?? 302, { location: target, 'content-length': '0', ...page.headers });
      ex.res.end();
      return;
    }
    const status = page.status ?? 200;
    const body = page.body === undefined ? undefined : typeof page.body === 'string' ? Buffer.from(page.body, 'utf8') : Buffer.from(page.body);
    const etag = page.etag ?? `"${createHash('sha1').update(body ?? `generated:${page.bodyBytes ?? 0}`).digest('hex').slice(0, 20)}"`;
    const lastModified = httpDate(page.lastModified, page.setAt);
    headers['content-type'] = page.contentType ?? contentTypeFor(key);
    headers.etag = etag;
    headers['last-modified'] = lastModified;
    if (status === 200 && notModified(ex, etag, lastModified)) {
      ex.res.writeHead(304, { etag, 'last-modified': lastModified, ...page.headers });
      ex.res.end();
      return;
    }
    const length = page.bodyBytes ?? body?.length ?? 0;
    if (!page.chunked) headers['content-length'] = String(length);
    Object.assign(headers, page.headers);
    ex.res.writeHead(status, headers);
    if (ex.method === 'HEAD') {
      ex.res.end();
      return;
    }
    if (page.bodyBytes !== undefined) {
      const stream = generatedBody(page.bodyBytes);
      stream.pipe(ex.res);
      await finished(ex.res).catch(() => undefined);
      return;
    }
    ex.res.end(body);
  }

  async #serveFile(ex: Exchange, key: string): Promise<void> {
    if (!this.siteDir) return this.#notFound(ex);
    const root = path.resolve(this.siteDir);
    let filepath = path.resolve(root, key);
    if (filepath !== root && !filepath.startsWith(root + path.sep)) return this.#notFound(ex);
    let stat = await fsp.stat(filepath).catch(() => undefined);
    if (stat?.isDirectory()) {
      filepath = path.join(filepath, 'index.html');
      stat = await fsp.stat(filepath).catch(() => undefined);
    }
    if (!stat?.isFile()) return this.#notFound(ex);
    if (!canRespond(ex)) return;
    const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const lastModified = stat.mtime.toUTCString();
    if (notModified(ex, etag, lastModified)) {
      ex.res.writeHead(304, { etag, 'last-modified': lastModified });
      ex.res.end();
      return;
    }
    ex.res.writeHead(200, { 'content-type': contentTypeFor(filepath), 'content-length': String(stat.size), etag, 'last-modified': lastModified });
    if (ex.method === 'HEAD') {
      ex.res.end();
      return;
    }
    const stream = createReadStream(filepath);
    stream.on('error', () => ex.res.destroy());
    stream.pipe(ex.res);
    await finished(ex.res).catch(() => undefined);
  }

  #notFound(ex: Exchange): void {
    if (!canRespond(ex)) return;
    const body = '<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1>\n';
    ex.res.writeHead(404, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
    ex.res.end(ex.method === 'HEAD' ? undefined : body);
  }
}
