import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from '../../src/api/circuit-breaker.js';
import { type CallEvent, LanyingClient } from '../../src/api/client.js';
import { ConnectionError, RateLimitError, ServerError, UnavailableError } from '../../src/api/errors.js';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import { caught } from '../helpers/errors.js';

const where = { method: 'GET', path: '/x' };
const down = () => new ConnectionError(where, 'connection failed (ECONNREFUSED)');

describe('CircuitBreaker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after 5 failures in a row, lets one probe out when the open time ends, and closes when it succeeds', async () => {
    vi.useFakeTimers();
    const breaker = new CircuitBreaker({ openMs: 1000, maxWaitMs: 60_000 });
    const changes: string[] = [];
    breaker.onChange((s) => changes.push(s.state));
    for (let i = 0; i < 4; i++) breaker.record(await breaker.admit(), down());
    expect(breaker.state).toBe('closed');
    breaker.record(await breaker.admit(), down());
    expect(breaker.snapshot()).toMatchObject({ state: 'open', reason: 'unreachable', consecutiveFailures: 5, lastError: 'GET /x failed: connection failed (ECONNREFUSED)' });

    // Three calls wait; when the open time ends exactly one of them goes out.
    const admitted: boolean[] = [];
    const waiting = [0, 1, 2].map(() => breaker.admit().then((ticket) => (admitted.push(ticket.probe), ticket)));
    await vi.advanceTimersByTimeAsync(999);
    expect(admitted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(admitted).toEqual([true]);
    expect(breaker.state).toBe('half-open');

    // The probe (the first waiter) fails: open again, for twice as long.
    breaker.record(await (waiting[0] as Promise<{ probe: boolean }>), down());
    expect(breaker.snapshot()).toMatchObject({ state: 'open', retryAt: Date.now() + 2000 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(admitted).toEqual([true, true]);
    breaker.record(await (waiting[1] as Promise<{ probe: boolean }>), undefined);
    expect(breaker.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(0);
    expect(admitted).toEqual([true, true, false]);
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('counts HTTP 502/503/504 as unreachable, any other answer as reachable', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    breaker.record(await breaker.admit(), new ServerError({ ...where, status: 503 }));
    breaker.record(await breaker.admit(), new ServerError({ ...where, status: 500 }));
    breaker.record(await breaker.admit(), new ServerError({ ...where, status: 502 }));
    expect(breaker.state).toBe('closed');
    breaker.record(await breaker.admit(), new ServerError({ ...where, status: 504 }));
    expect(breaker.state).toBe('open');
    breaker.dispose();
  });

  it('opens for a Retry-After longer than the threshold; a call that cannot wait that long fails at once with UnavailableError (exit 75)', async () => {
    const breaker = new CircuitBreaker({ maxWaitMs: 60_000 });
    breaker.record(await breaker.admit(), new RateLimitError({ ...where, status: 429 }, 600_000));
    expect(breaker.snapshot()).toMatchObject({ state: 'open', reason: 'rate-limited' });
    const error = await caught(breaker.admit());
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).message).toMatch(/^the Lanying API asked to wait: the server asked to wait 600 s more \(.*\); try again later$/);
    expect(exitCodeFor(error)).toBe(EXIT.TEMPFAIL);
    expect(EXIT.TEMPFAIL).toBe(75);
    breaker.dispose();
  });

  it('a call gives up with UnavailableError after maxWaitMs (here: while another probe is out)', async () => {
    vi.useFakeTimers();
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 10_000, maxWaitMs: 25_000 });
    breaker.record(await breaker.admit(), down());
    const probe = breaker.admit();
    const waiting = caught(breaker.admit());
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await probe).probe).toBe(true);
    await vi.advanceTimersByTimeAsync(14_999);
    let settled = false;
    void waiting.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await waiting;
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe('the Lanying API is unreachable: 1 attempt(s) in a row failed, the last with: GET /x failed: connection failed (ECONNREFUSED); try again later');
    breaker.dispose();
  });
});

describe('LanyingClient with the API down', () => {
  it('stops hammering: after 5 connection failures calls wait, one probe at a time, and end with UnavailableError', async () => {
    const events: CallEvent[] = [];
    // Port 9 (discard) on loopback: nothing listens, every connection is refused at once.
    const client = new LanyingClient({
      endpoint: 'http://127.0.0.1:9',
      appId: 'app',
      accessToken: 'token-1234567890',
      maxRetries: 3,
      sleep: async () => {},
      onCall: (e) => events.push(e),
      breaker: { openMs: 50, maxOpenMs: 100, maxWaitMs: 600 },
    });
    const results = await Promise.all(Array.from({ length: 40 }, () => caught(client.get('/user/profile'))));
    expect(results.every((e) => e instanceof UnavailableError || e instanceof ConnectionError)).toBe(true);
    expect(results.filter((e) => e instanceof UnavailableError).length).toBeGreaterThan(30);
    // Without the breaker: 40 calls x 4 attempts = 160 connection attempts; with it, the first 40 and a few probes.
    expect(events.length).toBeLessThan(60);
    expect(events.filter((e) => e.error === 'ConnectionError').length).toBe(events.length);
    expect(client.breaker?.state).not.toBe('closed');
    client.breaker?.dispose();
  });
});
