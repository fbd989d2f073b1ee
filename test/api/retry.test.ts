import { describe, expect, it } from 'vitest';
import { AbortedError, AuthError, ApiError, ConnectionError, RateLimitError, ServerError, TimeoutError, UnavailableError, UploadError } from '../../src/api/errors.js';
import { isRetryable, parseRetryAfter, RETRY_TIMING, retryDelay } from '../../src/api/retry.js';
import { LocalFileError, ValidationError } from '../../src/errors.js';

const at = { method: 'GET', path: '/x' };

describe('isRetryable: which failures are worth another attempt', () => {
  const cases: [string, unknown, boolean][] = [
    ['no connection (ECONNRESET)', new ConnectionError(at, 'ECONNRESET'), true],
    ['our own timeout', new TimeoutError(at, 10), true],
    ['HTTP 429', ApiError.from({ ...at, status: 429 }), true],
    ['HTTP 500', ApiError.from({ ...at, status: 500 }), true],
    ['HTTP 503', ApiError.from({ ...at, status: 503 }), true],
    ['HTTP 599', ApiError.from({ ...at, status: 599 }), true],
    ['code 20000 (server database error) in a 200 envelope', ApiError.from({ ...at, status: 200, code: 20000 }), true],
    ['code 20001 (group does not exist)', ApiError.from({ ...at, status: 200, code: 20001 }), false],
    ['code 10008 (invalid access-token)', ApiError.from({ ...at, status: 200, code: 10008 }), false],
    ['code 10002 (bad request parameter)', ApiError.from({ ...at, status: 200, code: 10002 }), false],
    ['HTTP 401', ApiError.from({ ...at, status: 401 }), false],
    ['HTTP 404', ApiError.from({ ...at, status: 404 }), false],
    ['HTTP 499', ApiError.from({ ...at, status: 499 }), false],
    ['storage: HTTP 403 SignatureDoesNotMatch', new UploadError({ ...at, status: 403, ossCode: 'SignatureDoesNotMatch' }), false],
    ['storage: HTTP 400 EntityTooLarge', new UploadError({ ...at, status: 400, ossCode: 'EntityTooLarge' }), false],
    ['storage: HTTP 499', new UploadError({ ...at, status: 499 }), false],
    ['storage: HTTP 500', new UploadError({ ...at, status: 500 }), true],
    ['storage: HTTP 502', new UploadError({ ...at, status: 502 }), true],
    ['storage: HTTP 429', new UploadError({ ...at, status: 429 }), true],
    ['a local file out of descriptors (EMFILE)', new LocalFileError('/d/a.md', 'EMFILE', { transient: true }), true],
    ['a local file that cannot be read (EACCES)', new LocalFileError('/d/a.md', 'EACCES'), false],
    ['a local file that changed while read', new LocalFileError('/d/a.md', 'changed', { changed: true }), false],
    ['the caller aborted', new AbortedError(at), false],
    ['the API stayed unavailable', new UnavailableError('unreachable', 'down'), false],
    ['a validation error', new ValidationError('to', 'must be a user ID'), false],
    ['a plain Error', new Error('boom'), false],
    ['not an error at all', 'ECONNRESET', false],
  ];
  for (const [what, error, retryable] of cases) {
    it(`${what}: ${retryable ? 'retried' : 'not retried'}`, () => {
      expect(isRetryable(error)).toBe(retryable);
    });
  }
});

describe('ApiError.from: status and business code to error class', () => {
  const cases: [string, Parameters<typeof ApiError.from>[0], unknown][] = [
    ['code 10003 (access-token header missing)', { ...at, status: 200, code: 10003 }, AuthError],
    ['code 10008', { ...at, status: 200, code: 10008 }, AuthError],
    ['code 401', { ...at, status: 200, code: 401 }, AuthError],
    ['code 402', { ...at, status: 200, code: 402 }, AuthError],
    ['HTTP 401', { ...at, status: 401 }, AuthError],
    ['HTTP 403', { ...at, status: 403 }, AuthError],
    ['HTTP 429', { ...at, status: 429 }, RateLimitError],
    ['HTTP 429 with code 10008 (the status wins)', { ...at, status: 429, code: 10008 }, RateLimitError],
    ['HTTP 500', { ...at, status: 500 }, ServerError],
    ['HTTP 502 with code 10008 (auth wins)', { ...at, status: 502, code: 10008 }, AuthError],
    ['code 20000', { ...at, status: 200, code: 20000 }, ServerError],
    ['HTTP 404', { ...at, status: 404 }, ApiError],
  ];
  for (const [what, fields, type] of cases) {
    it(`${what} → ${(type as { name: string }).name}`, () => {
      expect(ApiError.from(fields).constructor).toBe(type);
    });
  }

  it('keeps Retry-After on a 429 and the server\'s words in the message', () => {
    expect(ApiError.from({ ...at, status: 429, retryAfterMs: 2000 })).toMatchObject({ retryAfterMs: 2000 });
    const plain = ApiError.from({ ...at, status: 200, code: 20001, serverMessage: 'group not exist' });
    expect(plain.message).toBe('GET /x failed: code 20001, group does not exist (server said: group not exist)');
    expect(plain.meaning).toBe('group does not exist');
  });
});

describe('retryDelay: how long to wait before retry number `attempt`', () => {
  const cases: { name: string; attempt: number; retryAfterMs?: number; random?: number; delay: number }[] = [
    { name: 'the first retry waits 0.5 s', attempt: 0, random: 0, delay: 500 },
    { name: 'then 1 s', attempt: 1, random: 0, delay: 1000 },
    { name: 'then 2 s', attempt: 2, random: 0, delay: 2000 },
    { name: 'up to 8 s', attempt: 4, random: 0, delay: 8000 },
    { name: 'and no more', attempt: 10, random: 0, delay: 8000 },
    { name: 'minus up to 25 % jitter', attempt: 0, random: 1, delay: 375 },
    { name: 'minus half of that with half the jitter', attempt: 3, random: 0.5, delay: 3500 },
    { name: 'a Retry-After wins over the backoff', attempt: 3, retryAfterMs: 2500, random: 0, delay: 2500 },
    { name: 'a Retry-After of 0 means at once', attempt: 2, retryAfterMs: 0, random: 0, delay: 0 },
    { name: 'a Retry-After is capped at 60 s', attempt: 0, retryAfterMs: 120_000, random: 0, delay: RETRY_TIMING.maxRetryAfterMs },
    { name: 'exactly 60 s is kept', attempt: 0, retryAfterMs: 60_000, random: 0, delay: 60_000 },
    { name: 'a negative Retry-After is ignored', attempt: 1, retryAfterMs: -5, random: 0, delay: 1000 },
  ];
  for (const { name, attempt, retryAfterMs, random, delay } of cases) {
    it(`${name}: attempt ${attempt}, Retry-After ${retryAfterMs ?? 'none'}, random ${random} → ${delay} ms`, () => {
      expect(retryDelay(attempt, retryAfterMs, () => random ?? 0)).toBe(delay);
    });
  }

  it('uses Math.random when no random is given, within the jitter', () => {
    const delay = retryDelay(1, undefined);
    expect(delay).toBeGreaterThanOrEqual(750);
    expect(delay).toBeLessThanOrEqual(1000);
  });
});

describe('parseRetryAfter: the header in milliseconds from now', () => {
  const now = 4_000;
  const cases: [string, string | string[] | undefined, number | undefined][] = [
    ['seconds', '3', 3000],
    ['fractional seconds', '0.5', 500],
    ['two digits', '12', 12_000],
    ['two decimals', '0.25', 250],
    ['a number with a letter before', 'a5', undefined],
    ['a number with a word after', '5 seconds', undefined],
    ['seconds with spaces around', ' 7 ', 7000],
    ['zero', '0', 0],
    ['an HTTP date in the future', new Date(10_000).toUTCString(), 6000],
    ['an HTTP date in the past', new Date(1_000).toUTCString(), 0],
    ['the first of repeated headers', ['2', '9'], 2000],
    ['no header', undefined, undefined],
    ['an empty header', '', undefined],
    ['blanks only', '   ', undefined],
    ['a word', 'soon', undefined],
  ];
  for (const [what, header, ms] of cases) {
    it(`${what}: ${JSON.stringify(header)} → ${ms}`, () => {
      expect(parseRetryAfter(header, now)).toBe(ms);
    });
  }

  it('counts from Date.now() by default', () => {
    const ms = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString()) as number;
    expect(ms).toBeGreaterThan(55_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });
});
