import { LanyingKbError } from '../errors.js';
import { AUTH_ERROR_CODES, SERVER_ERROR_CODES, describeApiCode } from '../protocol/error-codes.js';

/** Where a failed call went: method and path (never the query string, never a header). */
export interface RequestDescription {
  method: string;
  path: string;
}

export interface ApiErrorFields extends RequestDescription {
  /** HTTP status of the response. */
  status: number;
  /** Business code from the envelope, when the response had one. */
  code?: number | undefined;
  /** The server's own message text. */
  serverMessage?: string | undefined;
}

/**
 * The server answered, and the answer was a failure: an envelope whose `code` is not 200, or an HTTP error status.
 * Use `ApiError.from()` to get the right subclass.
 */
export class ApiError extends LanyingKbError {
  override name = 'ApiError';
  readonly status: number;
  readonly code: number | undefined;
  /** The English meaning of `code` from the API guide's error table. */
  readonly meaning: string;
  readonly serverMessage: string | undefined;
  readonly method: string;
  readonly path: string;

  constructor(fields: ApiErrorFields, options?: { cause?: unknown }) {
    const meaning = fields.code !== undefined ? describeApiCode(fields.code) : `HTTP ${fields.status}`;
    super(formatApiMessage(fields, meaning), options);
    this.status = fields.status;
    this.code = fields.code;
    this.meaning = meaning;
    this.serverMessage = fields.serverMessage;
    this.method = fields.method;
    this.path = fields.path;
  }

  /** The one place that maps an HTTP status and a business code to an error class. */
  static from(fields: ApiErrorFields & { retryAfterMs?: number | undefined }): ApiError {
    if (fields.status === 429) return new RateLimitError(fields, fields.retryAfterMs);
    if (fields.status === 401 || fields.status === 403) return new AuthError(fields);
    if (fields.code !== undefined && AUTH_ERROR_CODES.has(fields.code)) return new AuthError(fields);
    if (fields.status >= 500) return new ServerError(fields);
    if (fields.code !== undefined && SERVER_ERROR_CODES.has(fields.code)) return new ServerError(fields);
    return new ApiError(fields);
  }

  override toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      status: this.status,
      code: this.code,
      meaning: this.meaning,
      method: this.method,
      path: this.path,
    };
  }
}

function formatApiMessage(fields: ApiErrorFields, meaning: string): string {
  const head = `${fields.method} ${fields.path} failed`;
  const server = fields.serverMessage && fields.serverMessage !== meaning ? ` (server said: ${fields.serverMessage})` : '';
  if (fields.code !== undefined) return `${head}: code ${fields.code}, ${meaning}${server}`;
  return `${head}: HTTP ${fields.status}${server}`;
}

/** The token is missing, wrong or expired (codes 10003, 10008, 401, 402; HTTP 401/403). Never retried. */
export class AuthError extends ApiError {
  override name = 'AuthError';
}

/**
 * The response held an integer beyond Number.MAX_SAFE_INTEGER in a field read as a number (a user or group ID):
 * refused rather than rounded into a different ID. Message IDs are read as strings and never cause this.
 */
export class UnsafeIdError extends ApiError {
  override name = 'UnsafeIdError';
  /** Where in the response, e.g. `data.user_id`. */
  readonly field: string;
  /** The integer's decimal text. */
  readonly value: string;
  constructor(fields: ApiErrorFields & { field: string; value: string }) {
    super({ ...fields, serverMessage: `the response's ${fields.field} is ${fields.value}, an integer beyond 2^53 that lanying-kb cannot hold exactly` });
    this.field = fields.field;
    this.value = fields.value;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), field: this.field, value: this.value };
  }
}

/** HTTP 429. `retryAfterMs` is the server's Retry-After, when it sent one. */
export class RateLimitError extends ApiError {
  override name = 'RateLimitError';
  readonly retryAfterMs: number | undefined;
  constructor(fields: ApiErrorFields, retryAfterMs?: number) {
    super(fields);
    this.retryAfterMs = retryAfterMs;
  }
}

/** HTTP 5xx, or business code 20000. Retried for safe calls. */
export class ServerError extends ApiError {
  override name = 'ServerError';
}

/**
 * The object storage (OSS) refused an upload. `ossCode` is storage's own code, e.g. `SignatureDoesNotMatch`,
 * `EntityTooLarge` or `MissingContentLength`.
 */
export class UploadError extends ApiError {
  override name = 'UploadError';
  readonly ossCode: string | undefined;
  constructor(fields: ApiErrorFields & { ossCode?: string | undefined }) {
    super({ ...fields, serverMessage: [fields.ossCode, fields.serverMessage].filter(Boolean).join(': ') || undefined });
    this.ossCode = fields.ossCode;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), ossCode: this.ossCode };
  }
}

/** No response: the connection was refused, reset or failed. */
export class ConnectionError extends LanyingKbError {
  override name = 'ConnectionError';
  readonly method: string;
  readonly path: string;
  constructor(request: RequestDescription, detail: string, options?: { cause?: unknown }) {
    super(`${request.method} ${request.path} failed: ${detail}`, options);
    this.method = request.method;
    this.path = request.path;
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, method: this.method, path: this.path };
  }
}

/** Our own per-request timer fired before the response was complete. */
export class TimeoutError extends ConnectionError {
  override name = 'TimeoutError';
  readonly timeoutMs: number;
  constructor(request: RequestDescription, timeoutMs: number) {
    super(request, `no response within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired. Never retried. */
export class AbortedError extends LanyingKbError {
  override name = 'AbortedError';
  constructor(request?: RequestDescription) {
    super(request ? `${request.method} ${request.path} was aborted` : 'aborted');
  }
}

/**
 * The API cannot be used for now: it has been unreachable (no connection, timeouts, HTTP 502/503/504) for longer
 * than the caller waits, or it asked for a pause (Retry-After) longer than that. Nothing is wrong with the request
 * or the configuration: try again later. The CLI exits with 75 (EX_TEMPFAIL).
 */
export class UnavailableError extends LanyingKbError {
  override name = 'UnavailableError';
  /** `unreachable`: no usable answer; `rate-limited`: the server asked to wait (Retry-After). */
  readonly reason: 'unreachable' | 'rate-limited';
  /** When trying again makes sense, in ms from when the error was made, when known. */
  readonly retryAfterMs: number | undefined;
  constructor(reason: 'unreachable' | 'rate-limited', detail: string, options?: { retryAfterMs?: number | undefined; cause?: unknown }) {
    const what = reason === 'unreachable' ? 'the Lanying API is unreachable' : 'the Lanying API asked to wait';
    super(`${what}: ${detail}; try again later`, { cause: options?.cause });
    this.reason = reason;
    this.retryAfterMs = options?.retryAfterMs;
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, reason: this.reason, retryAfterMs: this.retryAfterMs };
  }
}
