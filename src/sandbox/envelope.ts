import { stringify as stringifyLossless } from 'lossless-json';
import { describeApiCode } from './vendor-texts.js';
import { canRespond, type Exchange } from './exchange.js';

/** A business failure: answered with HTTP 200 and `{code, message, data: null}`, as the real service does. */
export class ApiFailure extends Error {
  override name = 'ApiFailure';
  constructor(
    readonly code: number,
    message?: string,
  ) {
    super(message ?? describeApiCode(code));
  }
}

/** Code 10002 with a message naming what was wrong, e.g. `targets must be a non-empty array of integers`. */
export function badParam(detail: string): ApiFailure {
  return new ApiFailure(10002, `${describeApiCode(10002)}: ${detail}`);
}

/**
 * An API body as JSON: a bigint (a 64-bit message ID) is written as the JSON number it is, as the real service (Java,
 * int64) writes it; everything else as `JSON.stringify` would.
 */
export function apiJson(body: unknown): string {
  return stringifyLossless(body) as string;
}

/** Writes a JSON body with an exact Content-Length. */
export function sendJson(ex: Exchange, status: number, body: unknown, headers: Record<string, string> = {}, stringify: (body: unknown) => string = JSON.stringify): void {
  if (!canRespond(ex)) return;
  const text = stringify(body);
  ex.res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  ex.res.end(ex.method === 'HEAD' ? undefined : text);
}

/** A success envelope: `{code: 200, message: null, data, ...siblings}` (siblings such as `msg_ids`, `cursor`). */
export function sendEnvelope(ex: Exchange, data: unknown, siblings: Record<string, unknown> = {}): void {
  if (ex.log) ex.log.code = 200;
  sendJson(ex, 200, { code: 200, message: null, data, ...siblings }, {}, apiJson);
}

/** A business failure envelope, HTTP 200. */
export function sendFailure(ex: Exchange, failure: ApiFailure): void {
  if (ex.log) ex.log.code = failure.code;
  sendJson(ex, 200, { code: failure.code, message: failure.message, data: null });
}
