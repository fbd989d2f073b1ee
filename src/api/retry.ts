import { LocalFileError } from '../errors.js';
import { ConnectionError } from './errors.js';
import { RateLimitError, ServerError, UploadError } from './errors.js';

/** Backoff parameters. The delay doubles from `initialDelayMs` to `maxDelayMs`, minus up to 25 % jitter. */
export const RETRY_TIMING = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 8000,
  /** The longest Retry-After we honour; a longer one is capped to this. */
  maxRetryAfterMs: 60_000,
});

/**
 * Whether a failed attempt is worth repeating. Only transient failures are: no response, a timeout, HTTP 429,
 * HTTP 5xx or business code 20000, or a storage error of that kind, and a local file that could not be opened for
 * want of file descriptors (EMFILE/ENFILE). Auth and validation errors never are.
 * Whether the *call* may be repeated at all (is it safe?) is the caller's decision.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RateLimitError || error instanceof ServerError) return true;
  if (error instanceof LocalFileError) return error.transient;
  if (error instanceof UploadError) return error.status >= 500 || error.status === 429;
  return error instanceof ConnectionError;
}

/**
 * Milliseconds to wait before retry number `attempt` (0 for the first retry). A server's Retry-After wins,
 * capped at 60 s; otherwise exponential backoff with jitter. `random` is injectable for tests.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  // Stryker disable next-line ConditionalExpression: undefined >= 0 is false as well
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, RETRY_TIMING.maxRetryAfterMs);
  const base = Math.min(RETRY_TIMING.initialDelayMs * 2 ** attempt, RETRY_TIMING.maxDelayMs);
  return Math.round(base * (1 - 0.25 * random()));
}

/** Parses a Retry-After header (seconds, or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  // Stryker disable next-line ConditionalExpression,MethodExpression,StringLiteral: a shortcut: a blank value is no number and no date below either
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Resolves after `ms` (any length: long waits go in steps), or rejects with the signal's reason when it fires first. */
export { sleep } from '../util/timers.js';
