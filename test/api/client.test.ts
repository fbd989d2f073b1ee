import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LanyingClient } from '../../src/api/client.js';
import { AbortedError, AuthError, ApiError, ConnectionError, RateLimitError, ServerError, TimeoutError } from '../../src/api/errors.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';
import { caught } from '../helpers/errors.js';
import { waitFor } from '../helpers/sync.js';

function requestsTo(state: { requests: { method: string; path: string }[] }, method: string, path: string) {
  return state.requests.filter((r) => r.method === method && r.path === path);
}

describe('LanyingClient against the sandbox', () => {
  it('sends app_id on every call and access-token on all but registration, and unwraps the envelope', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [alice] = await registerUsers(client, ['alice']);
    const profile = await client.users.profile({ actAs: alice as number });
    expect(profile).toMatchObject({ user_id: alice, username: 'alice' });
    const envelope = await client.get<unknown>('/user/profile', undefined, { actAs: alice });
    expect(envelope.code).toBe(200);
  });

  it('turns codes 10003, 10008 and 40000 into typed errors with the code and its meaning', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [alice] = await registerUsers(client, ['alice']);

    const missing = await caught(client.call({ method: 'GET', path: '/user/profile', auth: false, actAs: alice }));
    expect(missing).toBeInstanceOf(AuthError);
    expect(missing).toMatchObject({ code: 10003, meaning: 'access-token header missing', method: 'GET', path: '/user/profile' });

    const wrong = new LanyingClient({ endpoint: sandbox.url, appId: sandbox.appId, accessToken: 'not-the-token' });
    const invalid = await caught(wrong.users.profile({ actAs: alice as number }));
    expect(invalid).toBeInstanceOf(AuthError);
    expect((invalid as ApiError).code).toBe(10008);
    expect((invalid as ApiError).message).toBe('GET /user/profile failed: code 10008, invalid access-token' + ((invalid as ApiError).serverMessage ? ` (server said: ${(invalid as ApiError).serverMessage})` : ''));

    const unknownApp = new LanyingClient({ endpoint: sandbox.url, appId: 'no-such-app', accessToken: sandbox.accessToken });
    const app = await caught(unknownApp.users.profile({ actAs: alice as number }));
    expect(app).toBeInstanceOf(ApiError);
    expect((app as ApiError).code).toBe(40000);
    expect((app as ApiError).meaning).toBe('app_id does not exist');
  });

  it('retries a GET after 5xx and counts the attempts at the sandbox', async () => {
    const sandbox = await useSandbox();
    const { client, sleeps } = clientFor(sandbox);
    const [alice] = await registerUsers(client, ['alice']);
    sandbox.setFaults([{ route: 'GET /user/profile', status: 503, times: 2 }]);
    await client.users.profile({ actAs: alice as number });
    expect(requestsTo(sandbox.state(), 'GET', '/user/profile')).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(375);
    expect(sleeps[0]).toBeLessThanOrEqual(500);
    expect(sleeps[1]).toBeGreaterThanOrEqual(750);
    expect(sleeps[1]).toBeLessThanOrEqual(1000);
  });

  it('retries a GET answered with code 20000 (server database error) in a 200 envelope', async () => {
    const sandbox = await useSandbox();
    const { client, sleeps } = clientFor(sandbox, { maxRetries: 3 });
    const [alice] = await registerUsers(client, ['alice']);
    sandbox.setFaults([{ route: 'GET /user/profile', code: 20000, times: 2 }]);
    expect(await client.users.profile({ actAs: alice as number })).toMatchObject({ user_id: alice });
    expect(requestsTo(sandbox.state(), 'GET', '/user/profile')).toHaveLength(3);
    expect(sleeps).toHaveLength(2);

    sandbox.setFaults([{ route: 'GET /user/profile', code: 20000 }]);
    const error = await caught(client.users.profile({ actAs: alice as number }));
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 20000, status: 200 });
    expect(requestsTo(sandbox.state(), 'GET', '/user/profile')).toHaveLength(3 + 4);
  });

  it('does not retry another code in a 200 envelope, nor code 20000 of a call that is not safe to repeat', async () => {
    const sandbox = await useSandbox();
    const { client, sleeps } = clientFor(sandbox, { maxRetries: 3 });
    const [alice] = await registerUsers(client, ['alice']);
    sandbox.setFaults([{ route: 'GET /user/profile', code: 10002, times: 1 }]);
    expect(await caught(client.users.profile({ actAs: alice as number }))).toMatchObject({ code: 10002 });
    expect(requestsTo(sandbox.state(), 'GET', '/user/profile')).toHaveLength(1);
    sandbox.setFaults([{ route: 'POST /group/create', code: 20000, times: 1 }]);
    const error = await caught(client.groups.create({ name: 'g' }, { actAs: alice as number }));
    expect(error).toBeInstanceOf(ServerError);
    expect(requestsTo(sandbox.state(), 'POST', '/group/create')).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('honours Retry-After on 429, and gives up after maxRetries with a RateLimitError', async () => {
    const sandbox = await useSandbox();
    const { client, sleeps } = clientFor(sandbox, { maxRetries: 2 });
    const [alice] = await registerUsers(client, ['alice']);
    sandbox.setFaults([{ route: 'GET /user/profile', status: 429, retryAfterSeconds: 7 }]);
    const error = await caught(client.users.profile({ actAs: alice as number }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(7000);
    expect(sleeps).toEqual([7000, 7000]);
    expect(requestsTo(sandbox.state(), 'GET', '/user/profile')).toHaveLength(3);
  });

  it('waits for real on Retry-After when no sleep is injected', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox, { realSleep: true });
    const [alice] = await registerUsers(client, ['alice']);
    sandbox.setFaults([{ route: 'GET /user/profile', status: 429, retryAfterSeconds: 1, times: 1 }]);
    const started = Date.now();
    await client.users.profile({ actAs: alice as number });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('never retries an auth error or a refused request', async () => {
    const sandbox = await useSandbox();
    const { client, sleeps } = clientFor(sandbox);
    const bad = new LanyingClient({ endpoint: sandbox.url, appId: sandbox.appId, accessToken: 'wrong', sleep: async () => {} });
    await caught(bad.get('/user/rosters', undefined, {}));
    expect(requestsTo(sandbox.state(), 'GET', '/user/rosters')).toHaveLength(1);
    await caught(client.groups.info(424242));
    expect(requestsTo(sandbox.state(), 'GET', '/group/info')).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a send (it carries a transaction_id) but not another POST', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [alice, bob] = await registerUsers(client, ['alice', 'bob']);

    sandbox.setFaults([{ route: 'POST /message/send', status: 502, times: 1 }]);
    const sent = await client.messages.sendText({ users: [bob as number] }, 'hello', { from: alice as number });
    const sends = requestsTo(sandbox.state(), 'POST', '/message/send') as { transaction_id?: number }[];
    expect(sends).toHaveLength(2);
    expect(sends[0]?.transaction_id).toBe(sent.transactionId);
    expect(sends[1]?.transaction_id).toBe(sent.transactionId);

    sandbox.setFaults([{ route: 'POST /group/create', status: 500, times: 1 }]);
    const error = await caught(client.groups.create({ name: 'g' }, { actAs: alice as number }));
    expect(error).toBeInstanceOf(ServerError);
    expect(requestsTo(sandbox.state(), 'POST', '/group/create')).toHaveLength(1);
  });

  it('a send retried after its response was lost is delivered once (transaction_id dedup)', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox, { timeoutMs: 300 });
    const [alice, bob] = await registerUsers(client, ['alice', 'bob']);
    sandbox.setFaults([{ route: 'POST /message/send', slowBodyMs: 1000, times: 1 }]);
    await client.messages.sendText({ users: [bob as number] }, 'only once', { from: alice as number });
    const delivered = sandbox.state().messages.filter((m: { content: string }) => m.content === 'only once');
    expect(delivered).toHaveLength(1);
  });

  it('times out per attempt, and retries a GET that timed out', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox, { timeoutMs: 100, maxRetries: 1 });
    const [alice] = await registerUsers(client, ['alice']);
    sandbox.setFaults([{ route: 'GET /user/profile', latencyMs: 400 }]);
    const error = await caught(client.users.profile({ actAs: alice as number }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toBe('GET /user/profile failed: no response within 100 ms');
    // The sandbox still serves both attempts (each waits out its 400 ms); none more is made.
    await sandbox.idle();
    expect(requestsTo(sandbox.state(), 'GET', '/user/profile')).toHaveLength(2);
  });

  it('gives a ConnectionError when the connection is reset, after retrying', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox, { maxRetries: 2 });
    const [alice] = await registerUsers(client, ['alice']);
    sandbox.setFaults([{ route: 'GET /user/profile', reset: true }]);
    const error = await caught(client.users.profile({ actAs: alice as number }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(requestsTo(sandbox.state(), 'GET', '/user/profile')).toHaveLength(3);
  });

  it('stops at once when the caller aborts, also during a wait between retries', async () => {
    const sandbox = await useSandbox();
    const willRetry: string[] = [];
    const { client } = clientFor(sandbox, { realSleep: true, onCall: (call) => void (call.willRetry && willRetry.push(call.path)) });
    const [alice] = await registerUsers(client, ['alice']);
    const before = new AbortController();
    before.abort();
    expect(await caught(client.users.profile({ actAs: alice as number, signal: before.signal }))).toBeInstanceOf(AbortedError);

    sandbox.setFaults([{ route: 'GET /user/profile', status: 429, retryAfterSeconds: 30 }]);
    const during = new AbortController();
    const pending = caught(client.users.profile({ actAs: alice as number, signal: during.signal }));
    // Aborted once the 429 came back, while the client waits its 30 s.
    await waitFor(() => willRetry.includes('/user/profile'), 5000, 'the 429');
    during.abort();
    const started = Date.now();
    expect(await pending).toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('leaves nothing on the caller\'s signal once a request is over (a run\'s signal outlives millions of them)', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [alice] = await registerUsers(client, ['alice']);
    const run = new AbortController();
    for (let i = 0; i < 20; i++) await client.users.profile({ actAs: alice as number, signal: run.signal });
    // A failed attempt and its retry, and a request that fails for good.
    sandbox.setFaults([{ route: 'GET /user/profile', status: 500, times: 1 }]);
    await client.users.profile({ actAs: alice as number, signal: run.signal });
    sandbox.setFaults([{ route: 'GET /user/profile', status: 403 }]);
    await caught(client.users.profile({ actAs: alice as number, signal: run.signal }));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('keeps the token out of every error text, toJSON and inspect output', async () => {
    const sandbox = await useSandbox({ accessToken: 'sbx_TOKEN_must_not_leak_1234' });
    const { client } = clientFor(sandbox, { maxRetries: 0, timeoutMs: 100 });
    const [alice] = await registerUsers(client, ['alice']);
    const errors: unknown[] = [];
    errors.push(await caught(client.groups.info(1)));
    errors.push(await caught(new LanyingClient({ endpoint: sandbox.url, appId: 'x', accessToken: sandbox.accessToken }).users.profile({ actAs: alice as number })));
    sandbox.setFaults([{ route: '*', latencyMs: 300, times: 1 }]);
    errors.push(await caught(client.users.profile({ actAs: alice as number })));
    sandbox.setFaults([{ route: '*', reset: true, times: 1 }]);
    errors.push(await caught(client.users.profile({ actAs: alice as number })));
    sandbox.setFaults([]);
    const texts = [
      ...errors.flatMap((e) => [String(e), (e as Error).message, JSON.stringify(e), inspect(e, { depth: 5 })]),
      JSON.stringify(client),
      inspect(client, { depth: 5 }),
      JSON.stringify(sandbox.state()),
    ];
    for (const text of texts) expect(text).not.toContain('sbx_TOKEN_must_not_leak_1234');
  });
});
