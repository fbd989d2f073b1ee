import { describe, expect, it } from 'vitest';
import { AuthError, ApiError, ConnectionError, RateLimitError, ServerError, TimeoutError, UploadError } from '../../src/api/errors.js';
import { isRetryable, parseRetryAfter, retryDelay } from '../../src/api/retry.js';

const at = { method: 'GET', path: '/x' };

describe('retry policy', () => {
  it('retries connection failures, timeouts, 429, 5xx and code 20000, never auth or validation errors', () => {
    expect(isRetryable(new ConnectionError(at, 'ECONNRESET'))).toBe(true);
    expect(isRetryable(new TimeoutError(at, 10))).toBe(true);
    expect(isRetryable(ApiError.from({ ...at, status: 429 }))).toBe(true);
    expect(isRetryable(ApiError.from({ ...at, status: 503 }))).toBe(true);
    expect(isRetryable(ApiError.from({ ...at, status: 200, code: 20000 }))).toBe(true);
    expect(isRetryable(ApiError.from({ ...at, status: 200, code: 10008 }))).toBe(false);
    expect(isRetryable(ApiError.from({ ...at, status: 200, code: 10002 }))).toBe(false);
    expect(isRetryable(new UploadError({ ...at, status: 403, ossCode: 'SignatureDoesNotMatch' }))).toBe(false);
    expect(isRetryable(new UploadError({ ...at, status: 502 }))).toBe(true);
  });

  it('maps status and business code to the error class', () => {
    expect(ApiError.from({ ...at, status: 200, code: 10003 })).toBeInstanceOf(AuthError);
    expect(ApiError.from({ ...at, status: 200, code: 402 })).toBeInstanceOf(AuthError);
    expect(ApiError.from({ ...at, status: 401 })).toBeInstanceOf(AuthError);
    expect(ApiError.from({ ...at, status: 403 })).toBeInstanceOf(AuthError);
    expect(ApiError.from({ ...at, status: 429, retryAfterMs: 2000 })).toMatchObject({ retryAfterMs: 2000 });
    expect(ApiError.from({ ...at, status: 429 })).toBeInstanceOf(RateLimitError);
    expect(ApiError.from({ ...at, status: 500 })).toBeInstanceOf(ServerError);
    const plain = ApiError.from({ ...at, status: 200, code: 20001, serverMessage: 'group not exist' });
    expect(plain.constructor).toBe(ApiError);
    expect(plain.message).toBe('GET /x failed: code 20001, group does not exist (server said: group not exist)');
    expect(plain.meaning).toBe('group does not exist');
  });

  it('backs off from about 0.5 s, doubling to 8 s, minus up to 25 % jitter', () => {
    expect(retryDelay(0, undefined, () => 0)).toBe(500);
    expect(retryDelay(1, undefined, () => 0)).toBe(1000);
    expect(retryDelay(4, undefined, () => 0)).toBe(8000);
    expect(retryDelay(10, undefined, () => 0)).toBe(8000);
    expect(retryDelay(0, undefined, () => 1)).toBe(375);
  });

  it('honours Retry-After up to 60 s', () => {
    expect(retryDelay(0, 2500)).toBe(2500);
    expect(retryDelay(0, 120_000)).toBe(60_000);
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
