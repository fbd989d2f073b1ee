import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FetchError } from '../../../src/errors.js';
import { sha256 } from '../../../src/util/sha256.js';
import { htmlToText } from '../../../src/util/html-text.js';
import { type FetchedUrl, type FetchUrlOptions, chooseFileName, dispositionFileName, fetchUrl } from '../../../src/sources/urls/fetch.js';
import { USER_AGENT } from '../../../src/version.js';
import { type PageServer, usePageServer } from '../../helpers/page-server.js';
import { rejectionOf } from '../../helpers/errors.js';

let downloadDir: string;
beforeEach(async () => {
  downloadDir = await mkdtemp(path.join(tmpdir(), 'lanying-kb-url-fetch-'));
});
afterEach(async () => {
  await rm(downloadDir, { recursive: true, force: true });
});

// The page server is on 127.0.0.1: these tests opt in to private addresses (the address check has its own tests).
function opts(server: PageServer, extra: Partial<FetchUrlOptions> = {}): FetchUrlOptions {
  return { timeoutMs: 2000, maxRedirects: 5, maxBytes: 1024 * 1024, dispatcher: server.dispatcher, allowPrivateAddresses: true, downloadDir, ...extra };
}

function fetchError(promise: Promise<unknown>): Promise<FetchError> {
  return rejectionOf(promise, FetchError);
}

function expectStatus<S extends FetchedUrl['status']>(result: FetchedUrl, status: S): Extract<FetchedUrl, { status: S }> {
  expect(result.status).toBe(status);
  return result as Extract<FetchedUrl, { status: S }>;
}

const HTML = '<!doctype html><html><head><title>Guide</title><script>x()</script></head><body><h1>Install</h1><p>Run it.</p></body></html>';

describe('fetchUrl: HTML pages', () => {
  it('returns a page hashed on its normalised text, with title, validators and the User-Agent sent', async () => {
    const server = await usePageServer();
    server.set('/guide', {
      headers: { 'content-type': 'text/html; charset=utf-8', etag: '"v1"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT' },
      body: HTML,
    });
    const result = expectStatus(await fetchUrl(server.url('/guide#top'), opts(server)), 'page');
    expect(result.url).toBe(server.url('/guide#top'));
    expect(result.finalUrl).toBe(server.url('/guide'));
    expect(result.title).toBe('Guide');
    expect(result.sha256).toBe(sha256('Guide Install Run it.'));
    expect(result.sha256).toBe(sha256(htmlToText(HTML).text));
    expect(result.bytes).toBe(Buffer.byteLength(HTML));
    expect(result.contentType).toBe('text/html');
    expect(result.validators).toEqual({ etag: '"v1"', lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT' });

    const [req] = server.requestsTo('/guide');
    expect(req?.headers['user-agent']).toBe(USER_AGENT);
    expect(USER_AGENT).toMatch(/^lanying-kb\/\d+\.\d+\.\d+/);
    expect(req?.headers['cookie']).toBeUndefined();
    expect(req?.headers['authorization']).toBeUndefined();
    expect(req?.headers['if-none-match']).toBeUndefined();
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('hashes two pages that differ only in scripts, styles, attributes and whitespace the same', async () => {
    const server = await usePageServer();
    server.set('/a', { headers: { 'content-type': 'text/html' }, body: '<p class="x">Hello   world</p><script>a()</script><style>p{}</style>' });
    server.set('/b', { headers: { 'content-type': 'text/html' }, body: '\n<p class="y">Hello\nworld</p>\n<script>b(); c()</script>' });
    server.set('/c', { headers: { 'content-type': 'text/html' }, body: '<p class="x">Hello there</p>' });
    const a = expectStatus(await fetchUrl(server.url('/a'), opts(server)), 'page');
    const b = expectStatus(await fetchUrl(server.url('/b'), opts(server)), 'page');
    const c = expectStatus(await fetchUrl(server.url('/c'), opts(server)), 'page');
    expect(b.sha256).toBe(a.sha256);
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('decodes the charset from the Content-Type and from <meta>', async () => {
    const server = await usePageServer();
    const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好 in GBK
    server.set('/header', { headers: { 'content-type': 'text/html; charset=gbk' }, body: Buffer.concat([Buffer.from('<p>'), gbk, Buffer.from('</p>')]) });
    server.set('/meta', {
      headers: { 'content-type': 'text/html' },
      body: Buffer.concat([Buffer.from('<html><head><meta charset="gb2312"><title>'), gbk, Buffer.from('</title></head></html>')]),
    });
    expect(expectStatus(await fetchUrl(server.url('/header'), opts(server)), 'page').sha256).toBe(sha256('你好'));
    expect(expectStatus(await fetchUrl(server.url('/meta'), opts(server)), 'page').title).toBe('你好');
  });

  it('decodes a gzip Content-Encoding the server sent anyway', async () => {
    const server = await usePageServer();
    server.set('/gz', { headers: { 'content-type': 'text/html', 'content-encoding': 'gzip' }, body: gzipSync('<p>zipped page</p>') });
    expect(expectStatus(await fetchUrl(server.url('/gz'), opts(server)), 'page').sha256).toBe(sha256('zipped page'));
  });

  it('reports an empty HTML page as unsupported "empty response"', async () => {
    const server = await usePageServer();
    server.set('/empty', { headers: { 'content-type': 'text/html' }, body: '' });
    const result = expectStatus(await fetchUrl(server.url('/empty'), opts(server)), 'unsupported');
    expect(result.reason).toBe('empty response');
  });
});

describe('fetchUrl: conditional GET', () => {
  it('sends If-None-Match from the previous ETag; 304 means not modified', async () => {
    const server = await usePageServer();
    server.set('/p', (req, res) => {
      if (req.headers['if-none-match'] === '"abc"') {
        res.writeHead(304, { etag: '"abc"' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html', etag: '"abc"' });
      res.end('<p>x</p>');
    });
    const result = expectStatus(await fetchUrl(server.url('/p'), opts(server, { previous: { etag: '"abc"' } })), 'not-modified');
    expect(result.validators).toEqual({ etag: '"abc"', lastModified: undefined });
    const [req] = server.requestsTo('/p');
    expect(req?.headers['if-none-match']).toBe('"abc"');
    expect(req?.headers['if-modified-since']).toBeUndefined();
  });

  it('sends If-Modified-Since from the previous Last-Modified and keeps the previous validators on a bare 304', async () => {
    const server = await usePageServer();
    const lastModified = 'Tue, 01 Apr 2025 10:00:00 GMT';
    server.set('/p', (req, res) => {
      res.writeHead(req.headers['if-modified-since'] === lastModified ? 304 : 200, { 'content-type': 'text/html' });
      res.end(req.headers['if-modified-since'] === lastModified ? undefined : '<p>x</p>');
    });
    const result = expectStatus(await fetchUrl(server.url('/p'), opts(server, { previous: { lastModified, etag: 'W/"7"' } })), 'not-modified');
    expect(result.validators).toEqual({ etag: 'W/"7"', lastModified });
    const [req] = server.requestsTo('/p');
    expect(req?.headers['if-modified-since']).toBe(lastModified);
    expect(req?.headers['if-none-match']).toBe('W/"7"');
  });

  it('treats a 304 to an unconditional request as an error', async () => {
    const server = await usePageServer();
    server.set('/p', { status: 304 });
    const error = await fetchError(fetchUrl(server.url('/p'), opts(server)));
    expect(error.status).toBe(304);
    expect(error.transient).toBe(false);
  });
});

describe('fetchUrl: errors', () => {
  it.each([
    [404, false],
    [410, false],
    [403, false],
    [429, true],
    [500, true],
    [503, true],
  ])('HTTP %i -> FetchError with status and transient=%s', async (status, transient) => {
    const server = await usePageServer();
    server.set('/x', { status, body: 'nope' });
    const error = await fetchError(fetchUrl(server.url('/x'), opts(server)));
    expect(error.status).toBe(status);
    expect(error.transient).toBe(transient);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.url).toBe(server.url('/x'));
  });

  it('times out on a server that never answers', async () => {
    const server = await usePageServer();
    server.set('/slow', { hang: true });
    const started = Date.now();
    const error = await fetchError(fetchUrl(server.url('/slow'), opts(server, { timeoutMs: 300 })));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.message).toContain('timed out after 300 ms');
    expect(error.transient).toBe(true);
  });

  it('times out when the body dribbles in past the deadline, though each chunk is quick', async () => {
    const server = await usePageServer();
    server.set('/dribble', {
      headers: { 'content-type': 'application/pdf' },
      chunks: Array.from({ length: 20 }, () => 'x'.repeat(10)),
      chunkIntervalMs: 50,
    });
    const started = Date.now();
    const error = await fetchError(fetchUrl(server.url('/dribble'), opts(server, { timeoutMs: 300 })));
    expect(Date.now() - started).toBeLessThan(900);
    expect(error.message).toContain('timed out');
    expect(error.transient).toBe(true);
    expect(error.status).toBe(200);
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('times out while reading a slow HTML body too', async () => {
    const server = await usePageServer();
    server.set('/dribble', { headers: { 'content-type': 'text/html' }, chunks: Array.from({ length: 20 }, () => '<p>x</p>'), chunkIntervalMs: 50 });
    const error = await fetchError(fetchUrl(server.url('/dribble'), opts(server, { timeoutMs: 300 })));
    expect(error.message).toContain('timed out');
  });

  it('reports a connection failure as transient', async () => {
    const server = await usePageServer();
    const url = server.url('/gone');
    await server.close();
    const error = await fetchError(fetchUrl(url, { timeoutMs: 2000, maxRedirects: 5, maxBytes: 1000, allowPrivateAddresses: true, downloadDir }));
    expect(error.message).toContain('connection failed');
    expect(error.transient).toBe(true);
    expect(error.status).toBeUndefined();
  });

  it('fails with "aborted" when the caller aborts', async () => {
    const server = await usePageServer();
    server.set('/slow', { hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await fetchError(fetchUrl(server.url('/slow'), opts(server, { signal: controller.signal, timeoutMs: 5000 })));
    expect(error.message).toContain('aborted');
  });

  it('refuses non-http URLs and URLs with credentials without sending anything', async () => {
    const server = await usePageServer();
    const withCredentials = server.url('/p').replace('http://', 'http://user:secret@');
    expect((await fetchError(fetchUrl(withCredentials, opts(server)))).message).toContain('user name or password');
    expect((await fetchError(fetchUrl('ftp://example.com/x', opts(server)))).transient).toBe(false);
    expect(server.requests).toEqual([]);
  });
});

describe('fetchUrl: redirects', () => {
  function chain(server: PageServer, hops: number): void {
    for (let i = 0; i < hops; i++) server.set(`/r${i}`, { status: i % 2 === 0 ? 301 : 307, headers: { location: `/r${i + 1}` } });
    server.set(`/r${hops}`, { headers: { 'content-type': 'text/html' }, body: '<title>End</title><p>end</p>' });
  }

  it('follows a chain within the limit, resolving relative Locations, and reports the final URL', async () => {
    const server = await usePageServer();
    chain(server, 3);
    const result = expectStatus(await fetchUrl(server.url('/r0'), opts(server, { maxRedirects: 3 })), 'page');
    expect(result.finalUrl).toBe(server.url('/r3'));
    expect(result.title).toBe('End');
    expect(server.requests.map((r) => r.path)).toEqual(['/r0', '/r1', '/r2', '/r3']);
    expect(server.requests.every((r) => r.headers['user-agent'] === USER_AGENT)).toBe(true);
  });

  it('follows 302 and 303 with an absolute Location', async () => {
    const server = await usePageServer();
    server.set('/a', { status: 302, headers: { location: server.url('/b?q=1') } });
    server.set('/b', { status: 303, headers: { location: 'c' } });
    server.set('/c', { headers: { 'content-type': 'text/html' }, body: 'ok' });
    expect((await fetchUrl(server.url('/a'), opts(server))).finalUrl).toBe(server.url('/c'));
  });

  it('fails on more redirects than the limit', async () => {
    const server = await usePageServer();
    chain(server, 4);
    const error = await fetchError(fetchUrl(server.url('/r0'), opts(server, { maxRedirects: 3 })));
    expect(error.message).toContain('more than 3 redirects');
    expect(error.transient).toBe(false);
    expect(server.requestsTo('/r4')).toEqual([]);
  });

  it('detects a redirect loop', async () => {
    const server = await usePageServer();
    server.set('/a', { status: 301, headers: { location: '/b' } });
    server.set('/b', { status: 302, headers: { location: '/a' } });
    const error = await fetchError(fetchUrl(server.url('/a'), opts(server, { maxRedirects: 10 })));
    expect(error.message).toContain('redirect loop');
    expect(error.transient).toBe(false);
    expect(server.requests).toHaveLength(2);
  });

  it('fails on a redirect without Location', async () => {
    const server = await usePageServer();
    server.set('/a', { status: 301 });
    const error = await fetchError(fetchUrl(server.url('/a'), opts(server)));
    expect(error.message).toContain('without a Location');
    expect(error.status).toBe(301);
  });
});

describe('fetchUrl: size cap', () => {
  it('refuses a Content-Length over the cap before reading the body', async () => {
    const server = await usePageServer();
    let bytesWritten = 0;
    server.set('/big.pdf', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(10 * 1024 * 1024) });
      bytesWritten += 100;
      res.write(Buffer.alloc(100)); // and never finishes: only a reader that waits for the body would hang
    });
    const error = await fetchError(fetchUrl(server.url('/big.pdf'), opts(server, { maxBytes: 1000, timeoutMs: 1000 })));
    expect(error.message).toContain('Content-Length 10485760 is over the limit of 1000 bytes');
    expect(error.transient).toBe(false);
    expect(error.status).toBe(200);
    expect(bytesWritten).toBe(100);
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('stops a streamed body without Content-Length as soon as it passes the cap and leaves no file', async () => {
    const server = await usePageServer();
    let chunksSent = 0;
    server.set('/stream.pdf', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      const timer = setInterval(() => {
        if (res.destroyed || chunksSent >= 1000) {
          clearInterval(timer);
          res.end();
          return;
        }
        chunksSent += 1;
        res.write(Buffer.alloc(1024, 1));
      }, 2);
      res.on('close', () => clearInterval(timer));
    });
    const error = await fetchError(fetchUrl(server.url('/stream.pdf'), opts(server, { maxBytes: 10 * 1024 })));
    expect(error.message).toContain('over the limit of 10240 bytes');
    expect(error.transient).toBe(false);
    expect(chunksSent).toBeLessThan(1000);
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('stops a streamed HTML body over the cap', async () => {
    const server = await usePageServer();
    server.set('/huge', { headers: { 'content-type': 'text/html' }, chunks: Array.from({ length: 50 }, () => '<p>' + 'x'.repeat(1000) + '</p>') });
    const error = await fetchError(fetchUrl(server.url('/huge'), opts(server, { maxBytes: 5000 })));
    expect(error.message).toContain('over the limit of 5000 bytes');
  });

  it('accepts a body of exactly the cap', async () => {
    const server = await usePageServer();
    server.set('/exact.pdf', { headers: { 'content-type': 'application/pdf' }, chunks: [Buffer.alloc(600, 2), Buffer.alloc(400, 3)] });
    const result = expectStatus(await fetchUrl(server.url('/exact.pdf'), opts(server, { maxBytes: 1000 })), 'file');
    expect(result.bytes).toBe(1000);
  });
});

describe('fetchUrl: documents', () => {
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5000, 7), Buffer.from('\n%%EOF\n')]);
  const sha = createHash('sha256').update(pdf).digest('hex');

  it('downloads a PDF to a temp file named from the URL, with the sha256 of its bytes', async () => {
    const server = await usePageServer();
    server.set('/docs/Annual%20Report.pdf', { headers: { 'content-type': 'application/pdf', etag: '"pdf1"' }, body: pdf });
    const result = expectStatus(await fetchUrl(server.url('/docs/Annual%20Report.pdf?download=1'), opts(server)), 'file');
    expect(result.fileName).toBe('Annual Report.pdf');
    expect(result.ext).toBe('pdf');
    expect(result.sha256).toBe(sha);
    expect(result.bytes).toBe(pdf.length);
    expect(result.contentType).toBe('application/pdf');
    expect(result.validators.etag).toBe('"pdf1"');
    expect(path.dirname(result.filePath)).toBe(downloadDir);
    expect(await readFile(result.filePath)).toEqual(pdf);
    expect(await readdir(downloadDir)).toEqual([path.basename(result.filePath)]);
  });

  it('names the file from Content-Disposition when present', async () => {
    const server = await usePageServer();
    server.set('/download', {
      headers: { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="fallback.pdf"; filename*=UTF-8''%E6%89%8B%E5%86%8C.docx` },
      body: pdf,
    });
    server.set('/plain', { headers: { 'content-type': 'application/pdf', 'content-disposition': 'attachment; filename="../../etc/Guide v2.pdf"' }, body: pdf });
    const a = expectStatus(await fetchUrl(server.url('/download'), opts(server)), 'file');
    expect(a.fileName).toBe('手册.docx');
    expect(a.ext).toBe('docx');
    const b = expectStatus(await fetchUrl(server.url('/plain'), opts(server)), 'file');
    expect(b.fileName).toBe('Guide v2.pdf');
  });

  it('takes the extension from the Content-Type when the URL has none', async () => {
    const server = await usePageServer();
    server.set('/files/1234', { headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }, body: pdf });
    server.set('/notes/', { headers: { 'content-type': 'text/markdown; charset=utf-8' }, body: '# Notes\n' });
    const docx = expectStatus(await fetchUrl(server.url('/files/1234'), opts(server)), 'file');
    expect(docx.fileName).toBe('1234.docx');
    expect(docx.ext).toBe('docx');
    expect(docx.filePath.endsWith('.docx')).toBe(true);
    const md = expectStatus(await fetchUrl(server.url('/notes/'), opts(server)), 'file');
    expect(md.fileName).toBe('notes.md');
    expect(md.sha256).toBe(sha256('# Notes\n'));
  });

  it('reports an unsupported type and leaves no file', async () => {
    const server = await usePageServer();
    server.set('/logo', { headers: { 'content-type': 'image/png' }, body: Buffer.alloc(300, 9) });
    const result = expectStatus(await fetchUrl(server.url('/logo'), opts(server)), 'unsupported');
    expect(result.reason).toBe('unsupported content type image/png');
    expect(result.contentType).toBe('image/png');
    expect(result.bytes).toBe(300);
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('reports an empty body as unsupported "empty response" and leaves no file', async () => {
    const server = await usePageServer();
    server.set('/empty.pdf', { headers: { 'content-type': 'application/pdf' }, body: '' });
    const result = expectStatus(await fetchUrl(server.url('/empty.pdf'), opts(server)), 'unsupported');
    expect(result.reason).toBe('empty response');
    expect(result.bytes).toBe(0);
    expect(await readdir(downloadDir)).toEqual([]);
  });

  it('creates the download folder when missing', async () => {
    const server = await usePageServer();
    server.set('/a.txt', { headers: { 'content-type': 'text/plain' }, body: 'hello' });
    const nested = path.join(downloadDir, 'nested', 'dir');
    const result = expectStatus(await fetchUrl(server.url('/a.txt'), opts(server, { downloadDir: nested })), 'file');
    expect(path.dirname(result.filePath)).toBe(nested);
    expect(await readFile(result.filePath, 'utf8')).toBe('hello');
  });
});

describe('file naming helpers', () => {
  it('parses Content-Disposition forms', () => {
    expect(dispositionFileName('attachment; filename=report.pdf')).toBe('report.pdf');
    expect(dispositionFileName('attachment; filename="a \\"quoted\\" name.pdf"')).toBe('a "quoted" name.pdf');
    expect(dispositionFileName("attachment; filename*=utf-8''%E4%B8%AD%E6%96%87.pdf")).toBe('中文.pdf');
    expect(dispositionFileName(`attachment; filename="${Buffer.from('中文.pdf').toString('latin1')}"`)).toBe('中文.pdf');
    expect(dispositionFileName('inline')).toBeUndefined();
    expect(dispositionFileName(undefined)).toBeUndefined();
  });

  it('adds an extension from the Content-Type, or says the type is unsupported', () => {
    expect(chooseFileName('https://x.test/v1.2', undefined, 'application/pdf')).toEqual({ ok: true, name: 'v1.2.pdf', ext: 'pdf' });
    expect(chooseFileName('https://x.test/a/b.PDF', undefined, 'application/octet-stream')).toEqual({ ok: true, name: 'b.PDF', ext: 'pdf' });
    expect(chooseFileName('https://x.test/', undefined, 'text/csv')).toEqual({ ok: true, name: 'x.test.csv', ext: 'csv' });
    expect(chooseFileName('https://x.test/blob', undefined, 'application/octet-stream')).toEqual({
      ok: false,
      reason: 'unsupported content type application/octet-stream',
    });
    expect(chooseFileName('https://x.test/blob', undefined, '')).toMatchObject({ ok: false });
  });
});
