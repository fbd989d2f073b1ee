import type { Dispatcher } from 'undici';
import type { RequestDescription } from './errors.js';

/**
 * The shapes of a call to the API, shared by the client (`client.ts`) and its resources (`resources/*.ts`), which
 * reach the client only through `ApiTransport`.
 */

/** Options every call accepts. */
export interface RequestOptions {
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number | undefined;
  /** Aborts the call, including a wait between retries. */
  signal?: AbortSignal | undefined;
  /** Act as this user: sends the `user_id` header, which lets the admin token act on a user's behalf. */
  actAs?: number | undefined;
  /** Overrides the client's `maxRetries`. */
  maxRetries?: number | undefined;
}

/** What one attempt did, for logs and metrics. Never carries a header value. */
export interface CallEvent {
  method: string;
  path: string;
  attempt: number;
  durationMs: number;
  status?: number | undefined;
  code?: number | undefined;
  error?: string | undefined;
  willRetry: boolean;
}

/** The response envelope. `data` plus the top-level siblings some calls add. */
export interface Envelope<T> {
  code: number;
  message: string | null;
  data: T;
  /** Message IDs (64-bit) as decimal strings. */
  msg_ids?: string[];
  cursor?: string | number | null;
  total?: number;
  version?: number;
  [sibling: string]: unknown;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type QueryValue = string | number | boolean | undefined;

export interface CallSpec extends RequestOptions {
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue> | undefined;
  body?: unknown;
  /** Send the access token. False only for registration. @default true */
  auth?: boolean | undefined;
  /** May this call be repeated after a transient failure? @default true for GET, false otherwise */
  retry?: boolean | undefined;
}

/** A request body with the headers that belong to it. */
export interface BuiltBody {
  body: Dispatcher.DispatchOptions['body'];
  headers?: Record<string, string> | undefined;
}

/** A raw HTTP response, for calls outside the API envelope (uploads). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RawCallSpec extends RequestOptions {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string> | undefined;
  /**
   * Builds the body, and any headers that depend on it (Content-Length), anew for each attempt, so that a stream
   * or a one-shot form can be sent again on retry.
   */
  body?: (() => Promise<BuiltBody> | BuiltBody) | undefined;
  retry?: boolean | undefined;
  /** How the call is named in errors and events (never the URL's query string). */
  describe: RequestDescription;
  /** Turns a non-2xx response into the error to throw. */
  toError: (response: RawResponse) => Error;
}

/** What a resource needs of the client: the calls. `LanyingClient` is one. */
export interface ApiTransport {
  /** Calls the API and returns the whole envelope. Throws an `ApiError` subclass unless `code` is 200. */
  call<T>(spec: CallSpec): Promise<Envelope<T>>;
  get<T>(path: string, query?: Record<string, QueryValue>, options?: RequestOptions): Promise<Envelope<T>>;
  /** One HTTP request outside the API envelope (uploads to storage). */
  raw(spec: RawCallSpec): Promise<RawResponse>;
  /** Server-supplied text as it may be shown: withheld whole when it holds any long fragment of the access token. */
  screenServerText(text: string): string;
  screenServerText(text: string | undefined): string | undefined;
}
