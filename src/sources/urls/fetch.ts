import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mime from 'mime-types';
import type { ResolvedUrlSource } from './config.js';
import { FetchError } from '../../errors.js';
import { sha256 } from '../../util/sha256.js';
import { htmlToText } from '../../util/html-text.js';
import { expandSitemapWithProblems } from './sitemap.js';
import { isKbSupportedExtension, kbExtensionOf } from '../../protocol/kb-files.js';
import {
  type FetchOptions,
  type FinalResponse,
  contentLength,
  decodedBody,
  discard,
  getWithRedirects,
  headerValue,
  mediaType,
  readBounded,
  refuseIfDeclaredTooBig,
  statusError,
  tooBigError,
  withDeadline,
} from './http.js';
import { normaliseUrl, readUrlList } from './list.js';

export type { FetchOptions } from './http.js';

/** The validators of a fetched URL, sent back on the next fetch for a conditional GET. */
export interface Validators {
  /** The `ETag` header, as sent (weak tags keep their `W/`). */
  etag?: string | undefined;
  /** The `Last-Modified` header, as sent. */
  lastModified?: string | undefined;
}

/**
 * The outcome of {@link fetchUrl}.
 *
 * - `not-modified`: a conditional GET got 304; `validators` are the new ones (or the previous ones).
 * - `page`: an HTML page. `sha256` is the hash of its normalised visible text (see `htmlToText`); the body
 *   is not kept: the page is sent to the chatbot as a URL.
 * - `file`: any other document, saved at `filePath` (in the caller's `downloadDir`; the caller deletes it).
 *   `sha256` is the hash of the bytes; `fileName` is the name to upload it under and `ext` its lower-case
 *   extension without the dot, always a supported one.
 * - `unsupported`: nothing to send: a type the knowledge base does not accept, or an empty response.
 *   No file is left behind.
 *
 * `contentType` is the lower-case media type without parameters (`""` when the server sent none).
 */
export type FetchedUrl =
  | { status: 'not-modified'; url: string; finalUrl: string; validators: Validators }
  | {
      status: 'page';
      url: string;
      finalUrl: string;
      validators: Validators;
      sha256: string;
      title: string | undefined;
      bytes: number;
      contentType: string;
    }
  | {
      status: 'file';
      url: string;
      finalUrl: string;
      validators: Validators;
      sha256: string;
      filePath: string;
      fileName: string;
      ext: string;
      bytes: number;
      contentType: string;
    }
  | { status: 'unsupported'; url: string; finalUrl: string; validators: Validators; reason: string; contentType: string; bytes: number };

/** Options of {@link fetchUrl}. */
export interface FetchUrlOptions extends FetchOptions {
  /** The validators of the previous successful fetch: sends `If-None-Match` / `If-Modified-Since`. */
  previous?: Validators | undefined;
  /** Folder for downloaded documents; created when missing. */
  downloadDir: string;
}

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

/** The longest file name produced for an upload, in characters. */
const MAX_FILE_NAME = 200;

/**
 * Fetches one URL of a `urls` source: one deadline for the whole fetch, redirects followed up to
 * `maxRedirects`, the body capped at `maxBytes`, `User-Agent: lanying-kb/<version>`, no cookies, no
 * credentials, and a conditional GET when `previous` validators are given.
 *
 * An HTML page (`text/html`, `application/xhtml+xml`) is read into memory and hashed on its normalised text.
 * Anything else is named from `Content-Disposition` or the final URL's last path segment (with an extension
 * from the `Content-Type` when that name has no supported one) and, when the type is supported, streamed to a
 * temporary file in `downloadDir` and hashed on its bytes. See {@link FetchedUrl}.
 *
 * @throws FetchError for any status other than 200 (or 304 after a conditional GET), a timeout, a connection
 *   failure, too many redirects, a redirect loop, or a body over the cap. `transient` is true for timeouts,
 *   connection failures, 5xx, 408 and 429.
 */
export async function fetchUrl(url: string, options: FetchUrlOptions): Promise<FetchedUrl> {
  const normalised = normaliseUrl(url);
  if (!normalised.ok) throw new FetchError(url, normalised.reason, { transient: false });
  const target = normalised.url;

  const headers: Record<string, string> = {
    accept: 'text/html, application/xhtml+xml;q=0.9, */*;q=0.8',
  };
  const previous = options.previous;
  if (previous?.etag) headers['if-none-match'] = previous.etag;
  if (previous?.lastModified) headers['if-modified-since'] = previous.lastModified;
  const conditional = headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined;

  // Errors name the normalised URL (fragment dropped), the same key `resolveSourceUrls` returns.
  return withDeadline(target, options, async (signal, noteStatus) => {
    const res = await getWithRedirects(target, options, headers, signal, noteStatus);
    const finalUrl = res.finalUrl;
    const validators: Validators = {
      etag: headerValue(res.headers, 'etag'),
      lastModified: headerValue(res.headers, 'last-modified'),
    };

    if (res.statusCode === 304 && conditional) {
      discard(res.body);
      return {
        status: 'not-modified',
        url,
        finalUrl,
        validators: {
          etag: validators.etag ?? previous?.etag,
          lastModified: validators.lastModified ?? previous?.lastModified,
        },
      };
    }
    if (res.statusCode !== 200) {
      discard(res.body);
      throw statusError(target, res);
    }

    const contentType = mediaType(res.headers);
    const common = { url, finalUrl, validators, contentType };

    if (HTML_TYPES.has(contentType)) {
      const body = await readBounded(target, res, options.maxBytes);
      if (body.length === 0) return { ...common, status: 'unsupported', reason: 'empty response', bytes: 0 };
      const { text, title } = htmlToText(decodeHtml(body, headerValue(res.headers, 'content-type')));
      return { ...common, status: 'page', sha256: sha256(text), title, bytes: body.length };
    }

    const named = chooseFileName(finalUrl, headerValue(res.headers, 'content-disposition'), contentType);
    if (!named.ok) {
      // Decided from the headers alone: the body of an unsupported document is never downloaded.
      discard(res.body);
      return { ...common, status: 'unsupported', reason: named.reason, bytes: contentLength(res.headers) ?? 0 };
    }
    const saved = await download(target, res, options.downloadDir, named.ext, options.maxBytes);
    if (saved.bytes === 0) {
      await rm(saved.filePath, { force: true });
      return { ...common, status: 'unsupported', reason: 'empty response', bytes: 0 };
    }
    return { ...common, status: 'file', ...saved, fileName: named.name, ext: named.ext };
  });
}

/**
 * Streams a body to a new file in `dir`, hashing it on the way. Fails as soon as the body goes over
 * `maxBytes`; on any failure the partial file is removed.
 */
async function download(
  url: string,
  res: FinalResponse,
  dir: string,
  ext: string,
  maxBytes: number,
): Promise<{ filePath: string; sha256: string; bytes: number }> {
  refuseIfDeclaredTooBig(url, res, maxBytes);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    discard(res.body);
    throw new FetchError(url, `cannot create the download folder ${dir}: ${(error as Error).message}`, { status: 200, cause: error });
  }
  const filePath = path.join(dir, `url-${randomUUID()}.${ext}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        callback(tooBigError(url, maxBytes, res.statusCode));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  const source = decodedBody(url, res);
  const out = createWriteStream(filePath, { flags: 'wx' });
  // Tell a local write failure (disk full, ...) from a body failure that the pipeline passes on to `out`.
  let upstreamError: unknown;
  let writeError: unknown;
  source.on('error', (error) => (upstreamError ??= error));
  meter.on('error', (error) => (upstreamError ??= error));
  out.on('error', (error) => {
    if (upstreamError === undefined) writeError ??= error;
  });
  try {
    await pipeline(source, meter, out);
  } catch (error) {
    discard(res.body);
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    await rm(filePath, { force: true });
    if (writeError !== undefined && error === writeError) {
      throw new FetchError(url, `cannot save the download to ${filePath}: ${(error as Error).message}`, {
        status: res.statusCode,
        cause: error,
      });
    }
    throw error;
  }
  return { filePath, sha256: hash.digest('hex'), bytes };
}

/**
 * Decodes an HTML body: a byte-order mark wins, then the `Content-Type` charset, then a `<meta charset>` in
 * the first 1024 bytes, then UTF-8. An unknown charset falls back to UTF-8.
 */
function decodeHtml(body: Buffer, contentTypeHeader: string | undefined): string {
  let label: string | undefined;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) label = 'utf-8';
  else if (body[0] === 0xfe && body[1] === 0xff) label = 'utf-16be';
  else if (body[0] === 0xff && body[1] === 0xfe) label = 'utf-16le';
  label ??= /charset\s*=\s*["']?([^"';\s]+)/i.exec(contentTypeHeader ?? '')?.[1];
  label ??= /<meta[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(body.subarray(0, 1024).toString('latin1'))?.[1];
  try {
    return new TextDecoder(label ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

/**
 * The upload name of a downloaded document: the `Content-Disposition` file name when there is one, else the
 * final URL's last non-empty path segment (percent-decoded), else the host name; sanitised. When that name has
 * no supported extension, one is added from the `Content-Type`; when that is not supported either, the
 * document is unsupported.
 */
export function chooseFileName(
  finalUrl: string,
  contentDisposition: string | undefined,
  contentType: string,
): { ok: true; name: string; ext: string } | { ok: false; reason: string } {
  const raw = dispositionFileName(contentDisposition) ?? urlFileName(finalUrl);
  let name = sanitiseFileName(raw);
  let ext = kbExtensionOf(name);
  if (!isKbSupportedExtension(ext)) {
    const fromType = contentType === '' ? false : mime.extension(contentType);
    if (fromType === false || !isKbSupportedExtension(fromType)) {
      return {
        ok: false,
        reason: contentType === '' ? `unsupported file type: "${name}" has no supported extension and no Content-Type` : `unsupported content type ${contentType}`,
      };
    }
    ext = fromType.toLowerCase();
    name = limitLength(`${name}.${ext}`, ext);
  }
  return { ok: true, name, ext };
}

function urlFileName(finalUrl: string): string {
  const parsed = new URL(finalUrl);
  const segments = parsed.pathname.split('/').filter((s) => s !== '');
  const last = segments.at(-1);
  if (last === undefined) return parsed.hostname;
  return percentDecode(last);
}

/** The file name of a `Content-Disposition` header: `filename*` (RFC 5987) first, then `filename`. */
export function dispositionFileName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const star = /(?:^|;)\s*filename\*\s*=\s*([\w!#$%&+^`{}~-]*)'[^']*'([^;\s]+)/i.exec(header);
  if (star?.[2]) {
    const charset = (star[1] ?? '').toLowerCase();
    const value = star[2];
    try {
      if (charset === 'iso-8859-1' || charset === 'latin1') {
        const bytes = Buffer.from(value.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
        return bytes.toString('latin1');
      }
      return decodeURIComponent(value);
    } catch {
      // A malformed extended value: fall back to the plain one.
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i.exec(header);
  if (!plain) return undefined;
  let value = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : (plain[2] ?? '').trim();
  if (value === '') return undefined;
  // Servers often send raw UTF-8 bytes, which arrive here as Latin-1 characters.
  if (/[\u0080-\u00ff]/.test(value) && !/[\u0100-\uffff]/.test(value)) {
    const utf8 = Buffer.from(value, 'latin1').toString('utf8');
    if (!utf8.includes('\uFFFD')) value = utf8;
  }
  if (/%[0-9a-f]{2}/i.test(value)) value = percentDecode(value);
  return value;
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Makes a name safe to upload and to show: no folder part, no control characters, none of `<>:"/\|?*`,
 * no leading dots or surrounding spaces, at most {@link MAX_FILE_NAME} characters; `download` when nothing is left.
 */
export function sanitiseFileName(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const cleaned = base
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  return cleaned === '' ? 'download' : limitLength(cleaned, kbExtensionOf(cleaned));
}

function limitLength(name: string, ext: string): string {
  if (name.length <= MAX_FILE_NAME) return name;
  const suffix = ext ? `.${ext}` : '';
  return name.slice(0, MAX_FILE_NAME - suffix.length) + suffix;
}

/**
 * All URLs of a `urls` source: the inline `urls`, then the list file's, then the sitemap's, normalised
 * (fragment dropped, see `normaliseUrl`) and de-duplicated, keeping the first position.
 *
 * Entries that are not http(s) URLs are skipped and returned as problems: `where` is `urls[<index>]`,
 * `<listFile>:<line>`, or `sitemap <sitemap file URL>`.
 *
 * A sitemap (or one nested in a sitemap index) that cannot be fetched is a `failed` problem and makes the list
 * incomplete (`complete: false`): a partial list must not be taken for removed pages.
 *
 * @throws SourceError when the list file does not exist or cannot be read.
 */
export async function resolveSourceUrls(
  source: ResolvedUrlSource,
  options: FetchOptions,
): Promise<ResolvedSourceUrls> {
  const urls: string[] = [];
  const seen = new Set<string>();
  const problems: ResolvedSourceUrls['problems'] = [];
  const add = (url: string) => {
    if (seen.has(url)) return;
    seen.add(url);
    urls.push(url);
  };

  source.urls.forEach((text, index) => {
    const result = normaliseUrl(text);
    if (result.ok) add(result.url);
    else problems.push({ where: `urls[${index}]`, reason: `"${text}": ${result.reason}` });
  });

  if (source.listFile !== undefined) {
    const list = await readUrlList(source.listFile, source.name);
    list.urls.forEach(add);
    for (const p of list.problems) problems.push({ where: `${source.listFile}:${p.line}`, reason: `"${p.text}": ${p.reason}` });
  }

  let complete = true;
  if (source.sitemap !== undefined) {
    try {
      const expanded = await expandSitemapWithProblems(source.sitemap, options);
      expanded.urls.forEach(add);
      for (const p of expanded.problems) problems.push({ where: `sitemap ${p.where}`, reason: p.reason });
    } catch (error) {
      // The other URLs still sync; but with the sitemap unknown, no URL may be taken for removed.
      if (!(error instanceof FetchError)) throw error;
      complete = false;
      problems.push({ where: source.sitemap, reason: `sitemap: ${error.message}`, failed: true });
    }
  }

  return { urls, problems, complete };
}

/** A URL source's URL list: inline, list file and sitemap, de-duplicated in that order. */
export interface ResolvedSourceUrls {
  urls: string[];
  /** Lines or entries that are not usable URLs (skipped), and a sitemap that could not be read (`failed`). */
  problems: { where: string; reason: string; failed?: boolean }[];
  /** False when part of the list could not be read: then nothing may be counted as removed. */
  complete: boolean;
}
