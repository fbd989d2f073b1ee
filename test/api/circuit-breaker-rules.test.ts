import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, type CircuitBreakerOptions } from '../../src/api/circuit-breaker.js';
import { AbortedError, ApiError, ConnectionError, RateLimitError, ServerError, UnavailableError } from '../../src/api/errors.js';
import { LocalFileError } from '../../src/errors.js';
import { caught } from '../helpers/errors.js';

// The breaker's rules one by one, under fake timers and an injected clock: every wait is exact, and "not yet" is
// checked at a known time.

const where = { method: 'GET', path: '/x' };
const down = (detail = 'connection failed (ECONNREFUSED)') => new ConnectionError(where, detail);
const limited = (retryAfterMs: number | undefined) => new RateLimitError({ ...where, status: 429 }, retryAfterMs);
const T0 = 1_000_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function breaker(options: CircuitBreakerOptions = {}) {
  const b = new CircuitBreaker({ failureThreshold: 2, openMs: 1000, maxOpenMs: 3000, maxWaitMs: 60_000, now: () => Date.now(), ...options });
  const changes: string[] = [];
  b.onChange((s) => changes.push(s.state));
  return { b, changes };
}

/** Fails `n` admitted attempts in a row. */
async function fail(b: CircuitBreaker, n: number, error: unknown = down()): Promise<void> {
  for (let i = 0; i < n; i++) b.record(await b.admit(), error);
}

/** Follows a pending admit: whether it settled, and how. */
function follow<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('CircuitBreaker: opening', () => {
  it('opens after failureThreshold failures in a row, with when and why', async () => {
    const { b, changes } = breaker();
    await fail(b, 1);
    expect(b.snapshot()).toEqual({ state: 'closed', reason: undefined, consecutiveFailures: 1, openedAt: undefined, retryAt: undefined, lastError: 'GET /x failed: connection failed (ECONNREFUSED)' });
    await fail(b, 1);
    expect(b.snapshot()).toEqual({ state: 'open', reason: 'unreachable', consecutiveFailures: 2, openedAt: T0, retryAt: T0 + 1000, lastError: 'GET /x failed: connection failed (ECONNREFUSED)' });
    expect(changes).toEqual(['open']);
  });

  const failures: [string, unknown][] = [
    ['no connection', down()],
    ['HTTP 502', new ServerError({ ...where, status: 502 })],
    ['HTTP 503', new ServerError({ ...where, status: 503 })],
    ['HTTP 504', new ServerError({ ...where, status: 504 })],
  ];
  for (const [what, error] of failures) {
    it(`${what} counts as a failure`, async () => {
      const { b } = breaker();
      await fail(b, 2, error);
      expect(b.state).toBe('open');
    });
  }

  const answers: [string, unknown][] = [
    ['a success', undefined],
    ['HTTP 500 (the server answered)', new ServerError({ ...where, status: 500 })],
    ['HTTP 404', ApiError.from({ ...where, status: 404 })],
    ['an envelope code', ApiError.from({ ...where, status: 200, code: 10002 })],
    ['a 429 with a short Retry-After', limited(1000)],
    ['a 429 without Retry-After', limited(undefined)],
    ['a 429 whose Retry-After is exactly longRetryAfterMs', limited(60_000)],
  ];
  for (const [what, answer] of answers) {
    it(`${what} is an answer: the failures in a row start again`, async () => {
      const { b } = breaker({ failureThreshold: 3 });
      await fail(b, 2);
      b.record(await b.admit(), answer);
      expect(b.snapshot().consecutiveFailures).toBe(0);
      await fail(b, 2);
      expect(b.state).toBe('closed');
    });
  }

  const neither: [string, unknown][] = [
    ['a local file error', new LocalFileError('/d/a.md', 'EIO')],
    ['an abort', new AbortedError(where)],
    ['an unknown error', new Error('boom')],
  ];
  for (const [what, error] of neither) {
    it(`${what} is neither: the count goes on`, async () => {
      const { b } = breaker({ failureThreshold: 3 });
      await fail(b, 2);
      b.record(await b.admit(), error);
      expect(b.snapshot().consecutiveFailures).toBe(2);
      await fail(b, 1);
      expect(b.state).toBe('open');
    });
  }

  it('keeps the first line of the failure', async () => {
    const { b } = breaker();
    await fail(b, 1, new Error('first line\nsecond line'));
    await fail(b, 1, down('refused\nmore detail'));
    expect(b.snapshot().lastError).toBe('GET /x failed: refused');
  });

  it('failures of calls that were in flight when it opened do not open it again', async () => {
    const { b, changes } = breaker();
    const inFlight = [await b.admit(), await b.admit()];
    await fail(b, 2);
    await vi.advanceTimersByTimeAsync(500);
    for (const ticket of inFlight) b.record(ticket, down());
    expect(b.snapshot()).toMatchObject({ state: 'open', openedAt: T0, retryAt: T0 + 1000, consecutiveFailures: 4 });
    expect(changes).toEqual(['open']);
  });

  it('a success while closed changes nothing it would tell', async () => {
    const { b, changes } = breaker();
    b.record(await b.admit(), undefined);
    expect(changes).toEqual([]);
    expect(b.state).toBe('closed');
  });

  it('a removed listener hears no more', async () => {
    const b = new CircuitBreaker({ failureThreshold: 1 });
    const heard: string[] = [];
    const off = b.onChange((s) => heard.push(s.state));
    off();
    await fail(b, 1);
    expect(heard).toEqual([]);
    b.dispose();
  });
});

describe('CircuitBreaker: the probe', () => {
  it('half-open when the open time is over: one probe goes out, the others wait; retryAt is shown only while open', async () => {
    const { b, changes } = breaker();
    await fail(b, 2);
    await vi.advanceTimersByTimeAsync(999);
    expect(b.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(b.snapshot()).toMatchObject({ state: 'half-open', retryAt: undefined });
    expect(await b.admit()).toEqual({ probe: true });
    const other = follow(b.admit());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(other.settled).toBe(false);
    expect(changes).toEqual(['open', 'half-open']);
  });

  it('a probe that fails opens it again for twice as long, up to maxOpenMs; one that succeeds closes it and starts again from openMs', async () => {
    const { b } = breaker({ openMs: 1000, maxOpenMs: 3000 });
    await fail(b, 2);
    const opened: number[] = [];
    for (let i = 0; i < 3; i++) {
      opened.push((b.snapshot().retryAt as number) - Date.now());
      await vi.advanceTimersByTimeAsync(opened[i] as number);
      b.record(await b.admit(), down());
      expect(b.snapshot().reason).toBe('unreachable');
    }
    opened.push((b.snapshot().retryAt as number) - Date.now());
    expect(opened).toEqual([1000, 2000, 3000, 3000]);
    await vi.advanceTimersByTimeAsync(3000);
    b.record(await b.admit(), undefined);
    expect(b.snapshot()).toEqual({ state: 'closed', reason: undefined, consecutiveFailures: 0, openedAt: undefined, retryAt: undefined, lastError: 'GET /x failed: connection failed (ECONNREFUSED)' });
    await fail(b, 2);
    expect((b.snapshot().retryAt as number) - Date.now()).toBe(1000);
  });

  it('never opens for less than openMs, even with a smaller maxOpenMs', async () => {
    const { b } = breaker({ openMs: 1000, maxOpenMs: 500 });
    await fail(b, 2);
    expect((b.snapshot().retryAt as number) - Date.now()).toBe(1000);
  });

  it('the failure of a call other than the probe neither frees the probe slot nor opens it again', async () => {
    const { b } = breaker();
    const earlier = await b.admit();
    await fail(b, 2);
    await vi.advanceTimersByTimeAsync(1000);
    const probe = await b.admit();
    expect(probe.probe).toBe(true);
    const waiting = follow(b.admit());
    b.record(earlier, down());
    await vi.advanceTimersByTimeAsync(0);
    expect(b.state).toBe('half-open');
    expect(waiting.settled).toBe(false);
    b.record(probe, undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.value).toEqual({ probe: false });
  });

  it('a probe that ends neither way (a local file error, an abort) frees the slot: the next waiter is the probe, at once', async () => {
    const { b } = breaker();
    await fail(b, 2);
    await vi.advanceTimersByTimeAsync(1000);
    const probe = await b.admit();
    const next = follow(b.admit());
    b.record(probe, new LocalFileError('/d/a.md', 'EIO'));
    await vi.advanceTimersByTimeAsync(0);
    expect(next.value).toEqual({ probe: true });
    expect(b.state).toBe('half-open');
  });

  it('waiting in half-open while the probe is out costs no busy loop', async () => {
    const { b } = breaker({ maxWaitMs: 600_000 });
    await fail(b, 2);
    const waiting = follow(b.admit());
    await vi.advanceTimersByTimeAsync(1000);
    expect(waiting.value).toEqual({ probe: true });
    const second = follow(b.admit());
    // A waiter that woke on every tick would exhaust the fake timers' loop limit here.
    await vi.advanceTimersByTimeAsync(120_000);
    expect(second.settled).toBe(false);
    expect(vi.getTimerCount()).toBeLessThanOrEqual(2);
  });
});

describe('CircuitBreaker: a long Retry-After', () => {
  it('opens for the whole Retry-After (no doubling, no cap), and a later shorter one does not shorten it', async () => {
    const { b, changes } = breaker({ maxWaitMs: 10_000_000 });
    b.record(await b.admit(), limited(600_000));
    expect(b.snapshot()).toEqual({ state: 'open', reason: 'rate-limited', consecutiveFailures: 0, openedAt: T0, retryAt: T0 + 600_000, lastError: 'GET /x failed: HTTP 429' });
    await vi.advanceTimersByTimeAsync(1000);
    b.record({ probe: false }, limited(120_000));
    expect(b.snapshot()).toMatchObject({ retryAt: T0 + 600_000, openedAt: T0 });
    b.record({ probe: false }, limited(900_000));
    expect(b.snapshot()).toMatchObject({ retryAt: T0 + 1000 + 900_000, openedAt: T0 });
    expect(changes).toEqual(['open']);
  });

  it('the doubling after it starts from openMs again', async () => {
    const { b } = breaker();
    b.record(await b.admit(), limited(600_000));
    await vi.advanceTimersByTimeAsync(600_000);
    b.record(await b.admit(), down());
    expect((b.snapshot().retryAt as number) - Date.now()).toBe(2000);
  });
});

describe('CircuitBreaker: how long a call waits', () => {
  it('admits at once while closed, even with an aborted signal', async () => {
    const { b } = breaker();
    const aborted = AbortSignal.abort(new Error('stop'));
    expect(await b.admit(aborted)).toEqual({ probe: false });
  });

  it('rejects at once with the signal\'s reason when it is aborted already, and when it fires while the call waits', async () => {
    const { b } = breaker();
    await fail(b, 2);
    const reason = new Error('stop');
    expect(await caught(b.admit(AbortSignal.abort(reason)))).toBe(reason);
    const controller = new AbortController();
    const waiting = follow(b.admit(controller.signal));
    await vi.advanceTimersByTimeAsync(100);
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.error).toBe(reason);
  });

  it('waits when the open time ends exactly at its deadline (and becomes the probe)', async () => {
    const { b } = breaker({ maxWaitMs: 1000 });
    await fail(b, 2);
    const waiting = follow(b.admit());
    await vi.advanceTimersByTimeAsync(999);
    expect(waiting.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiting.value).toEqual({ probe: true });
  });

  it('fails at once when the open time ends after its deadline', async () => {
    const { b } = breaker({ maxWaitMs: 999 });
    await fail(b, 2);
    const error = (await caught(b.admit())) as UnavailableError;
    expect(error).toBeInstanceOf(UnavailableError);
    expect(Date.now()).toBe(T0);
    expect(error).toMatchObject({ reason: 'unreachable', retryAfterMs: 1000 });
  });

  it('counts the deadline from when the call began to wait (`since`)', async () => {
    const { b } = breaker({ maxWaitMs: 1500 });
    await fail(b, 2);
    await vi.advanceTimersByTimeAsync(1000);
    await b.admit();
    const waiting = follow(b.admit(undefined, T0));
    await vi.advanceTimersByTimeAsync(499);
    expect(waiting.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiting.error).toBeInstanceOf(UnavailableError);
  });
});

describe('CircuitBreaker: the error a run gives up with', () => {
  it('unreachable: how many attempts failed and the last failure, and when to try again', async () => {
    const { b } = breaker();
    await fail(b, 2);
    await vi.advanceTimersByTimeAsync(400);
    const error = b.unavailableError();
    expect(error).toMatchObject({ reason: 'unreachable', retryAfterMs: 600 });
    expect(error.message).toBe('the Lanying API is unreachable: 2 attempt(s) in a row failed, the last with: GET /x failed: connection failed (ECONNREFUSED); try again later');
  });

  it('rate-limited: how long the server asked to wait, and its answer', async () => {
    const { b } = breaker();
    b.record(await b.admit(), limited(120_500));
    const error = b.unavailableError();
    expect(error).toMatchObject({ reason: 'rate-limited', retryAfterMs: 120_500 });
    expect(error.message).toBe('the Lanying API asked to wait: the server asked to wait 121 s more (GET /x failed: HTTP 429); try again later');
  });

  it('never opened: nothing known', () => {
    const error = new CircuitBreaker().unavailableError();
    expect(error).toMatchObject({ reason: 'unreachable', retryAfterMs: undefined });
    expect(error.message).toBe('the Lanying API is unreachable: 0 attempt(s) in a row failed, the last with: no answer; try again later');
  });

  it('a retry time in the past counts as now', async () => {
    const late = new CircuitBreaker({ failureThreshold: 1, openMs: 1000 });
    await fail(late, 1);
    vi.setSystemTime(T0 + 5000);
    expect(late.unavailableError().retryAfterMs).toBe(0);
    late.dispose();
  });
});

describe('CircuitBreaker: whenClosed and dispose', () => {
  it('whenClosed() resolves at once when closed, else when it closes (not when it goes half-open)', async () => {
    const { b } = breaker();
    await b.whenClosed();
    await fail(b, 2);
    const closed = follow(b.whenClosed());
    await vi.advanceTimersByTimeAsync(1000);
    expect(b.state).toBe('half-open');
    expect(closed.settled).toBe(false);
    b.record(await b.admit(), undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(closed.settled).toBe(true);
    expect(closed.error).toBeUndefined();
  });

  it('whenClosed() rejects with the signal\'s reason, at once or when it fires', async () => {
    const { b } = breaker();
    await fail(b, 2);
    const reason = new Error('stop');
    expect(await caught(b.whenClosed(AbortSignal.abort(reason)))).toBe(reason);
    const controller = new AbortController();
    const waiting = follow(b.whenClosed(controller.signal));
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.error).toBe(reason);
    // Without a signal it simply waits.
    const plain = follow(b.whenClosed());
    await vi.advanceTimersByTimeAsync(1000);
    b.record(await b.admit(), undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(plain.settled).toBe(true);
  });

  it('dispose() stops its timer: it no longer goes half-open by itself', async () => {
    const { b } = breaker();
    await fail(b, 2);
    b.dispose();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.state).toBe('open');
  });
});
