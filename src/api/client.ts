import { inspect } from 'node:util';

export type { CallEvent, CallSpec, Envelope, QueryValue, RawCallSpec, RawResponse, RequestOptions } from './request.js';
import type { Dispatcher } from 'undici';
import { loadUndici } from './lazy-modules.js';
import { USER_AGENT } from '../version.js';
import { LocalFileError } from '../errors.js';
import { setLongTimeout } from '../util/timers.js';
import { type BreakerTicket, CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { AbortedError, ApiError, ConnectionError, TimeoutError, UnsafeIdError, type RequestDescription } from './errors.js';
import type { ApiTransport, CallEvent, CallSpec, Envelope, QueryValue, RawCallSpec, RawResponse, RequestOptions } from './request.js';
import { containsSecretFragment, WITHHELD_SERVER_TEXT } from './secret-fragments.js';
import { Files } from './resources/files.js';
import { Groups } from './resources/groups.js';
import { Messages } from './resources/messages.js';
import { Push } from './resources/push.js';
import { Rosters } from './resources/rosters.js';
import { Users } from './resources/users.js';
import { parseResponseJson, stringifyJson, UnsafeIntegerInResponse } from './response-json.js';
import { isRetryable, parseRetryAfter, retryDelay, sleep as defaultSleep } from './retry.js';
import { followAbort } from '../util/abort.js';

export interface LanyingClientOptions {
  /** The app's API endpoint, e.g. `https://s-1-3-s-api.maximtop.cn`. */
  endpoint: string;
  /** Sent as the `app_id` header on every call. */
  appId: string;
  /** The admin token, sent as `access-token`. Never logged, never part of an error or of `toJSON()`. */
  accessToken: string;
  /** Per-attempt timeout in milliseconds. @default 20000 */
  timeoutMs?: number | undefined;
  /** Retries of a failed safe call (GET, or a send that carries a transaction_id). @default 3 */
  maxRetries?: number | undefined;
  /** An undici dispatcher (Agent, Pool, ProxyAgent, ...) for every request. */
  dispatcher?: Dispatcher | undefined;
  /** Called once per attempt, after it ended: for logs and metrics. */
  onCall?: ((event: CallEvent) => void) | undefined;
  /** Waits between retries. Injectable so that tests need not wait. */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Runs every attempt (API call or upload), e.g. through a rate-limiting queue. See `createRateLimiter`. */
  limiter?: (<T>(attempt: () => Promise<T>) => Promise<T>) | undefined;
  /**
   * The run-level circuit breaker (see `CircuitBreaker`): its options, a breaker to share (a daemon that makes a new
   * client on reload), or `false` for none. @default a breaker with the default options
   */
  breaker?: CircuitBreakerOptions | CircuitBreaker | false | undefined;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_MAX_RETRIES = 3;

/**
 * A typed client for the Lanying IM server API.
 *
 * ```ts
 * const client = new LanyingClient({ endpoint, appId, accessToken });
 * const { user_id } = await client.users.register({ username: 'alice', password: 's3cret' });
 * ```
 */
export class LanyingClient implements ApiTransport {
  readonly endpoint: string;
  readonly appId: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly users: Users;
  readonly rosters: Rosters;
  readonly groups: Groups;
  readonly messages: Messages;
  readonly files: Files;
  readonly push: Push;
  /**
   * Opens after repeated connection failures or a long Retry-After; attempts then wait and one probe at a time goes
   * out. Watch it to pause work (`onChange`, `whenClosed`) or stop a run (`unavailableError()`). Undefined when the
   * client was made with `breaker: false`.
   */
  readonly breaker: CircuitBreaker | undefined;

  readonly #accessToken: string;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #onCall: ((event: CallEvent) => void) | undefined;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #limiter: (<T>(attempt: () => Promise<T>) => Promise<T>) | undefined;

  constructor(options: LanyingClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.appId = options.appId;
    this.#accessToken = options.accessToken;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.#dispatcher = options.dispatcher;
    this.#onCall = options.onCall;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#limiter = options.limiter;
    this.breaker = options.breaker === false ? undefined : options.breaker instanceof CircuitBreaker ? options.breaker : new CircuitBreaker(options.breaker);
    this.users = new Users(this);
    this.rosters = new Rosters(this);
    this.groups = new Groups(this);
    this.messages = new Messages(this);
    this.files = new Files(this);
    this.push = new Push(this);
  }

  /** Calls the API and returns the whole envelope. Throws an `ApiError` subclass unless `code` is 200. */
  async call<T>(spec: CallSpec): Promise<Envelope<T>> {
    const url = new URL(this.endpoint + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { app_id: this.appId, 'user-agent': USER_AGENT, accept: 'application/json' };
    if (spec.auth !== false) headers['access-token'] = this.#accessToken;
    if (spec.actAs !== undefined) headers.user_id = String(spec.actAs);
    // lossless-json writes a LosslessNumber (a 64-bit message ID) as the JSON number it holds.
    const json = spec.body === undefined ? undefined : stringifyJson(spec.body);
    if (json !== undefined) headers['content-type'] = 'application/json';
    const describe = { method: spec.method, path: spec.path };

    const response = await this.raw({
      ...spec,
      url: url.toString(),
      headers,
      body: json === undefined ? undefined : () => ({ body: json }),
      retry: spec.retry ?? spec.method === 'GET',
      describe,
      toError: (res) => this.#errorFromResponse(describe, res),
    });
    const envelope = this.#parseEnvelope<T>(describe, response);
    if (envelope.code !== 200) throw this.#errorFromResponse(describe, response, envelope);
    return envelope;
  }

  get<T>(path: string, query?: Record<string, QueryValue>, options?: RequestOptions): Promise<Envelope<T>> {
    return this.call<T>({ ...options, method: 'GET', path, query });
  }

  /**
   * Sends one HTTP request with this client's timeout, retry and abort handling, without the API envelope.
   * Only sends what `spec.headers` holds: the access token is never added to a request outside the API.
   */
  async raw(spec: RawCallSpec): Promise<RawResponse> {
    const maxRetries = spec.retry ? (spec.maxRetries ?? this.maxRetries) : 0;
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs;
    let waitingSince: number | undefined;
    for (let attempt = 0; ; attempt++) {
      if (waitingSince === undefined && this.breaker && this.breaker.state !== 'closed') waitingSince = Date.now();
      const ticket = await this.#admit(spec, waitingSince);
      const started = performance.now();
      let status: number | undefined;
      try {
        const response = this.#limiter ? await this.#limiter(() => this.#attempt(spec, timeoutMs)) : await this.#attempt(spec, timeoutMs);
        status = response.status;
        if (status < 200 || status >= 300) throw spec.toError(response);
        // An envelope code is checked by call(); a 200 envelope that carries a retryable code (20000) must be
        // retried here, where the attempt loop is.
        if (spec.retry) this.#throwIfRetryableEnvelope(spec, response);
        if (ticket) this.breaker?.record(ticket);
        this.#emit(spec.describe, attempt, started, status, undefined, false);
        return response;
      } catch (error) {
        if (ticket) this.breaker?.record(ticket, error);
        const retryable = isRetryable(error) && attempt < maxRetries && !spec.signal?.aborted;
        this.#emit(spec.describe, attempt, started, status, error, retryable);
        if (!retryable) throw error;
        // While the breaker is open the next attempt waits for it anyway (for a long Retry-After, the whole of it).
        const wait = this.breaker && this.breaker.state !== 'closed' ? 0 : retryDelay(attempt, (error as { retryAfterMs?: number }).retryAfterMs);
        try {
          await this.#sleep(wait, spec.signal);
        } catch {
          throw new AbortedError(spec.describe);
        }
      }
    }
  }

  /** Waits for the circuit breaker to let an attempt go out. */
  async #admit(spec: RawCallSpec, since: number | undefined): Promise<BreakerTicket | undefined> {
    if (!this.breaker) return undefined;
    try {
      return await this.breaker.admit(spec.signal, since);
    } catch (error) {
      if (spec.signal?.aborted) throw new AbortedError(spec.describe);
      throw error;
    }
  }

  /**
   * `text` as it may be shown, or a placeholder when it holds any long fragment of the access token (split, in
   * another case, percent-encoded): server-supplied text (an error message, an echoed body) is never printed then.
   */
  screenServerText(text: string): string;
  screenServerText(text: string | undefined): string | undefined;
  screenServerText(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    return containsSecretFragment(text, this.#accessToken) ? WITHHELD_SERVER_TEXT : text;
  }

  async #attempt(spec: RawCallSpec, timeoutMs: number): Promise<RawResponse> {
    if (spec.signal?.aborted) throw new AbortedError(spec.describe);
    const timer = new AbortController();
    const timeout = setLongTimeout(() => timer.abort(), timeoutMs);
    // Not `AbortSignal.any`: the caller's signal (a run's) outlives millions of requests (src/util/abort.ts).
    const { signal, release } = followAbort([spec.signal, timer.signal]);
    try {
      // Building the body may fail on a local file: that error is the caller's, not a connection failure.
      const built = spec.body ? await spec.body() : undefined;
      return await this.#request(spec, built, signal, timer.signal, timeoutMs);
    } finally {
      timeout.clear();
      release();
    }
  }

  async #request(spec: RawCallSpec, built: Awaited<ReturnType<NonNullable<RawCallSpec['body']>>> | undefined, signal: AbortSignal, timer: AbortSignal, timeoutMs: number): Promise<RawResponse> {
    try {
      const { request } = await loadUndici();
      const res = await request(spec.url, {
        method: spec.method,
        headers: { ...spec.headers, ...built?.headers },
        body: built?.body,
        signal,
        dispatcher: this.#dispatcher,
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text };
    } catch (error) {
      if (spec.signal?.aborted) throw new AbortedError(spec.describe);
      if (timer.aborted) throw new TimeoutError(spec.describe, timeoutMs);
      if (isLocalReadError(error)) throw error;
      throw new ConnectionError(spec.describe, describeNetworkError(error), { cause: error });
    }
  }

  #throwIfRetryableEnvelope(spec: RawCallSpec, response: RawResponse): void {
    if (!response.text.startsWith('{')) return;
    let code: unknown;
    try {
      code = (JSON.parse(response.text) as { code?: unknown }).code;
    } catch {
      return;
    }
    if (code === 20000) throw spec.toError(response);
  }

  #parseEnvelope<T>(describe: RequestDescription, response: RawResponse): Envelope<T> {
    let parsed: unknown;
    try {
      // Lossless: message IDs are 64-bit (see response-json.ts).
      parsed = parseResponseJson(response.text);
    } catch (error) {
      if (error instanceof UnsafeIntegerInResponse) throw new UnsafeIdError({ ...describe, status: response.status, field: error.field, value: error.value });
      throw new ApiError({ ...describe, status: response.status, serverMessage: 'the response is not JSON' });
    }
    if (parsed === null || typeof parsed !== 'object' || typeof (parsed as { code?: unknown }).code !== 'number') {
      throw new ApiError({ ...describe, status: response.status, serverMessage: 'the response is not an API envelope' });
    }
    return parsed as Envelope<T>;
  }

  #errorFromResponse(describe: RequestDescription, response: RawResponse, envelope?: Envelope<unknown>): ApiError {
    let body = envelope as { code?: unknown; message?: unknown } | undefined;
    if (!body) {
      try {
        body = JSON.parse(response.text) as { code?: unknown; message?: unknown };
      } catch {
        body = undefined;
      }
    }
    const code = typeof body?.code === 'number' ? body.code : undefined;
    const message = typeof body?.message === 'string' ? this.screenServerText(body.message) : undefined;
    return ApiError.from({
      ...describe,
      status: response.status,
      code,
      serverMessage: message,
      retryAfterMs: parseRetryAfter(response.headers['retry-after']),
    });
  }

  #emit(describe: RequestDescription, attempt: number, started: number, status: number | undefined, error: unknown, willRetry: boolean): void {
    if (!this.#onCall) return;
    this.#onCall({
      method: describe.method,
      path: describe.path,
      attempt,
      durationMs: performance.now() - started,
      status: status ?? (error as { status?: number } | undefined)?.status,
      code: (error as { code?: unknown } | undefined)?.code as number | undefined,
      error: error instanceof Error ? error.name : undefined,
      willRetry,
    });
  }

  /** Safe to log: no token. */
  toJSON(): Record<string, unknown> {
    return { endpoint: this.endpoint, appId: this.appId, timeoutMs: this.timeoutMs, maxRetries: this.maxRetries };
  }

  [inspect.custom](): string {
    return `LanyingClient ${inspect(this.toJSON())}`;
  }
}

/** Error codes of a socket: a read or write that failed with one of these is the connection's, not a file's. */
const SOCKET_ERROR_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ENOTCONN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
]);

/**
 * Whether a failed request failed on the local file it was sending rather than on the connection. A socket's
 * `read ECONNRESET` looks like a file's `read EIO` (both have `syscall: 'read'`); a file error names its `path` or
 * has a code no socket has, and a Blob that cannot be read is a `NotReadableError`.
 */
export function isLocalReadError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof LocalFileError || error.name === 'NotReadableError') return true;
  const { syscall, code, path } = error as NodeJS.ErrnoException;
  if (typeof path === 'string') return true;
  return (syscall === 'open' || syscall === 'read') && !(code !== undefined && SOCKET_ERROR_CODES.has(code));
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code ?? (error.cause as { code?: string } | undefined)?.code;
  const detail = code ? `${code}` : error.message;
  return `connection failed (${detail})`;
}
