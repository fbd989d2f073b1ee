/**
 * The one place that fetches a URL for a `urls` source: a deadline covering the whole fetch (body
 * included), redirects followed by hand with a limit and loop detection, a size cap on the body, and the
 * mapping of every failure to a `FetchError`. Used by `url-fetch.ts` and `sitemap.ts`; not exported from
 * the package.
 */
import { type Readable, type Transform, pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { loadUndici } from '../../api/lazy-modules.js';
import { FetchError } from '../../errors.js';
import { createGuardedAgent, findBlockedAddressError, isGuarded } from './address-guard.js';
import { deadlineSignal } from '../../util/timers.js';
import { USER_AGENT } from '../../version.js';
import { followAbort } from '../../util/abort.js';

/** How a URL is fetched. */
export interface FetchOptions {
  /** One deadline for the whole fetch: every redirect, the headers and the whole body. */
  timeoutMs: number;
  /** How many redirects are followed; one more is an error. */
  maxRedirects: number;
  /** The largest body accepted, in bytes (after any `Content-Encoding` is decoded). */
  maxBytes: number;
  /** Defaults to `lanying-kb/<version>`. */
  userAgent?: string;
  /**
   * Fetch from loopback, private, link-local, CGNAT, multicast and cloud-metadata addresses too (an intranet site).
   * By default they are refused, on the resolved address of every connection (redirects included).
   */
  allowPrivateAddresses?: boolean | undefined;
  /**
   * An undici dispatcher (Agent, ProxyAgent, ...). Used as given when `allowPrivateAddresses` is true, or when it
   * checks addresses itself (made by `createGuardedAgent`); otherwise the fetch goes through lanying-kb's own
   * address-checking Agent. Undici's global dispatcher when unset and private addresses are allowed.
   */
  dispatcher?: Dispatcher | undefined;
  /** Cancels the fetch; it then fails with a transient `FetchError` "aborted". */
  signal?: AbortSignal;
}

/** A final (non-redirect) response. Its body must be consumed or destroyed. */
export interface FinalResponse {
  /** The URL that answered, after redirects. */
  finalUrl: string;
  statusCode: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Undici error codes that mean the server did not answer in time. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * Runs `fn` under one deadline of `options.timeoutMs` (combined with `options.signal`), and turns whatever it
 * throws into a `FetchError`: the deadline -> "timed out after N ms" (transient), the caller's signal ->
 * "aborted" (transient), a network failure -> "connection failed: ..." (transient). A `FetchError` thrown
 * by `fn` passes through unchanged.
 *
 * `fn` must finish reading the body before it returns: the deadline stops when it does.
 */
export async function withDeadline<T>(
  url: string,
  options: FetchOptions,
  fn: (signal: AbortSignal, noteStatus: (status: number) => void) => Promise<T>,
): Promise<T> {
  if (options.signal?.aborted) throw new FetchError(url, 'aborted', { transient: true, cause: options.signal.reason });
  const deadline = deadlineSignal(options.timeoutMs, () => new Error(`timed out after ${options.timeoutMs} ms`));
  const { signal, release } = followAbort([options.signal, deadline.signal]);
  let status: number | undefined;
  try {
    return await fn(signal, (s) => {
      status = s;
    });
  } catch (error) {
    if (error instanceof FetchError) throw error;
    const withStatus = status === undefined ? {} : { status };
    const blocked = findBlockedAddressError(error);
    if (blocked) {
      throw new FetchError(url, `refused: ${blocked.message}; set "allowPrivateAddresses": true on the source to fetch from internal addresses`, {
        transient: false,
        cause: error,
      });
    }
    if (options.signal?.aborted) throw new FetchError(url, 'aborted', { ...withStatus, transient: true, cause: error });
    if (deadline.signal.aborted || TIMEOUT_CODES.has(errorCode(error))) {
      throw new FetchError(url, `timed out after ${options.timeoutMs} ms`, { ...withStatus, transient: true, cause: error });
    }
    if (error instanceof Error && (error.name === 'InvalidArgumentError' || errorCode(error) === 'ERR_INVALID_URL')) {
      throw new FetchError(url, `invalid request: ${error.message}`, { transient: false, cause: error });
    }
    if (isDecodeError(error)) {
      throw new FetchError(url, `cannot decode the response body: ${describe(error)}`, { ...withStatus, transient: false, cause: error });
    }
    throw new FetchError(url, `connection failed: ${describe(error)}`, { ...withStatus, transient: true, cause: error });
  } finally {
    deadline.clear();
    release();
  }
}

let sharedGuardedAgent: Promise<Dispatcher> | undefined;

/** The dispatcher a fetch goes through: see {@link FetchOptions}.dispatcher. */
async function dispatcherFor(options: FetchOptions): Promise<Dispatcher | undefined> {
  if (options.allowPrivateAddresses || isGuarded(options.dispatcher)) return options.dispatcher;
  sharedGuardedAgent ??= loadUndici().then((undici) => createGuardedAgent(undici));
  return sharedGuardedAgent;
}

/**
 * GETs `url`, following 301/302/303/307/308 by hand (relative `Location` resolved against the current URL),
 * at most `options.maxRedirects` times. A URL seen twice is a "redirect loop". Redirect bodies are discarded.
 * No cookies, no credentials: only `headers` and a User-Agent are sent; a user name or password in a
 * `Location` is dropped. Unless `options.allowPrivateAddresses`, every hop's address is checked (see
 * `address-guard.ts`): a refused one fails the fetch with a non-transient "refused: ..." error.
 *
 * @param signal the deadline from {@link withDeadline}.
 * @throws FetchError on a loop, too many redirects, a redirect without `Location` or to a non-http(s) URL.
 */
export async function getWithRedirects(
  url: string,
  options: FetchOptions,
  headers: Record<string, string>,
  signal: AbortSignal,
  noteStatus: (status: number) => void = () => {},
): Promise<FinalResponse> {
  const visited = [url];
  let current = url;
  const dispatcher = await dispatcherFor(options);
  for (;;) {
    const { request } = await loadUndici();
    // Note: every hop goes through the same dispatcher, so that each redirect target's address is checked too.
    const res = await request(current, {
      method: 'GET',
      headers: { ...headers, 'user-agent': options.userAgent ?? USER_AGENT },
      signal,
      dispatcher,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    if (!REDIRECTS.has(res.statusCode)) {
      noteStatus(res.statusCode);
      return { finalUrl: current, statusCode: res.statusCode, statusText: res.statusText ?? '', headers: res.headers, body: res.body };
    }
    discard(res.body);
    const location = headerValue(res.headers, 'location');
    if (location === undefined || location.trim() === '') {
      throw new FetchError(url, `HTTP ${res.statusCode} redirect without a Location header (at ${current})`, { status: res.statusCode });
    }
    let next: URL;
    try {
      next = new URL(location.trim(), current);
    } catch {
      throw new FetchError(url, `redirect to an invalid URL "${location}" (at ${current})`, { status: res.statusCode });
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new FetchError(url, `redirect to a non-http(s) URL "${next.protocol}..." (at ${current})`, { status: res.statusCode });
    }
    next.hash = '';
    next.username = '';
    next.password = '';
    const nextUrl = next.href;
    if (visited.includes(nextUrl)) {
      throw new FetchError(url, `redirect loop: ${[...visited, nextUrl].join(' -> ')}`, { status: res.statusCode });
    }
    if (visited.length > options.maxRedirects) {
      throw new FetchError(url, `more than ${options.maxRedirects} redirects (${[...visited, nextUrl].join(' -> ')})`, {
        status: res.statusCode,
      });
    }
    visited.push(nextUrl);
    current = nextUrl;
  }
}

/** Reads the `Content-Length` header; `undefined` when absent or not a number. */
export function contentLength(headers: FinalResponse['headers']): number | undefined {
  const value = headerValue(headers, 'content-length');
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

/** The first value of a header, by lower-case name. */
export function headerValue(headers: FinalResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The lower-case media type of a `Content-Type` header without parameters, e.g. `text/html`; "" when absent. */
export function mediaType(headers: FinalResponse['headers']): string {
  const value = headerValue(headers, 'content-type') ?? '';
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Refuses a response whose `Content-Length` is over the cap before anything is read (the body is destroyed).
 * An encoded body is checked again while it is decoded, by {@link boundedBody}.
 */
export function refuseIfDeclaredTooBig(url: string, res: FinalResponse, maxBytes: number): void {
  const declared = contentLength(res.headers);
  if (declared !== undefined && declared > maxBytes) {
    discard(res.body);
    throw new FetchError(url, `the response is too big: Content-Length ${declared} is over the limit of ${maxBytes} bytes`, {
      status: res.statusCode,
      transient: false,
    });
  }
}

/** The error for a streamed body that went over the cap. */
export function tooBigError(url: string, maxBytes: number, status: number): FetchError {
  return new FetchError(url, `the response is too big: the body is over the limit of ${maxBytes} bytes`, { status, transient: false });
}

/**
 * The response body as a stream of decoded bytes (any `Content-Encoding` of gzip, deflate or br undone).
 * The caller counts the bytes against the cap.
 *
 * @throws FetchError for an unknown `Content-Encoding`.
 */
export function decodedBody(url: string, res: FinalResponse): Readable {
  const encoding = (headerValue(res.headers, 'content-encoding') ?? '').trim().toLowerCase();
  let decoder: Transform | undefined;
  if (encoding === '' || encoding === 'identity') return res.body;
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
  else if (encoding === 'deflate') decoder = createInflate();
  else if (encoding === 'br') decoder = createBrotliDecompress();
  if (!decoder) {
    discard(res.body);
    throw new FetchError(url, `unsupported Content-Encoding "${encoding}"`, { status: res.statusCode, transient: false });
  }
  // Errors on either side destroy both; the caller sees them on the returned stream.
  return pipeline(res.body, decoder, () => {});
}

/**
 * Reads the whole (decoded) body into memory, failing as soon as it goes over `maxBytes`: never more than
 * `maxBytes` (plus one chunk being checked) is held.
 */
export async function readBounded(url: string, res: FinalResponse, maxBytes: number): Promise<Buffer> {
  refuseIfDeclaredTooBig(url, res, maxBytes);
  const stream = decodedBody(url, res);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > maxBytes) throw tooBigError(url, maxBytes, res.statusCode);
      chunks.push(buf);
    }
  } finally {
    if (!stream.destroyed) discard(stream);
    if (!res.body.destroyed && !res.body.readableEnded) discard(res.body);
  }
  return Buffer.concat(chunks, total);
}

/** Discards a body without waiting for it (the connection is closed if the body was not fully read). */
export function discard(body: Readable): void {
  body.on('error', () => {});
  if (!body.destroyed) body.destroy();
}

/** The `FetchError` for a final response whose status is not a success. */
export function statusError(url: string, res: FinalResponse): FetchError {
  const status = res.statusCode;
  const transient = status >= 500 || status === 429 || status === 408;
  const text = res.statusText ? ` ${res.statusText}` : '';
  const what = status >= 400 ? `HTTP ${status}${text}` : `unexpected HTTP status ${status}${text}`;
  return new FetchError(url, what, { status, transient });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const cause = (error as { cause?: unknown } | null)?.cause;
  const causeCode = errorCode(cause);
  const message = error instanceof Error ? error.message : String(error);
  if (causeCode && !message.includes(causeCode)) return `${message} (${causeCode})`;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function isDecodeError(error: unknown): boolean {
  const code = errorCode(error);
  return code.startsWith('Z_') || code.startsWith('ERR_BROTLI') || code === 'ERR__ERROR_FORMAT_PADDING_1';
}
