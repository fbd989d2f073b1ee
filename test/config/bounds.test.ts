import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const api = { endpoint: 'https://api.example.test', appId: 'app1', accessToken: 'token-1234567890' };
const urls = (extra: Record<string, unknown>) => ({ api, sources: [{ type: 'urls', name: 'web', urls: ['https://example.test/'], ...extra }] });

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, { baseDir: '/x', filepath: '/x/c.json', env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

// Every duration and timeout is bounded: a Node timer cannot wait 2^31 ms or more, and 0 would make a busy loop.
describe('configuration bounds', () => {
  it.each([
    [{ api: { ...api, timeoutMs: 3_000_000_000 } }, '/x/c.json: api.timeoutMs: must be at most 3600000 (1h; the value is in milliseconds)'],
    [{ api: { ...api, timeoutMs: 0 } }, '/x/c.json: api.timeoutMs: must be at least 1 (milliseconds)'],
    [urls({ refreshInterval: '400d' }), '/x/c.json: sources[0].refreshInterval: must be at most 365d (got "400d")'],
    [urls({ refreshInterval: 0 }), '/x/c.json: sources[0].refreshInterval: must be at least 100ms (got 0 ms)'],
    [urls({ refreshInterval: '1e40d' }), '/x/c.json: sources[0].refreshInterval: not a duration such as "30s", "15m" or "1h"'],
    [urls({ refreshInterval: `${'9'.repeat(400)}d` }), '/x/c.json: sources[0].refreshInterval: must be at most 365d (got "' + '9'.repeat(400) + 'd")'],
    [urls({ fetchTimeoutMs: 2 ** 31 }), '/x/c.json: sources[0].fetchTimeoutMs: must be at most 3600000 (1h; the value is in milliseconds)'],
    [{ api, daemon: { reconcileInterval: '1000d' } }, '/x/c.json: daemon.reconcileInterval: must be at most 365d (got "1000d")'],
    [{ api, daemon: { reconcileInterval: 5 } }, '/x/c.json: daemon.reconcileInterval: must be at least 100ms (or 0 to turn it off) (got 5 ms)'],
    [{ api, daemon: { debounceMs: 2 ** 31 } }, '/x/c.json: daemon.debounceMs: must be at most 3600000 (1h; the value is in milliseconds)'],
    [{ api, daemon: { shutdownTimeoutMs: 1e12 } }, '/x/c.json: daemon.shutdownTimeoutMs: must be at most 3600000 (1h; the value is in milliseconds)'],
    [{ api, sync: { requestsPerSecond: 1e-9 } }, '/x/c.json: sync.requestsPerSecond: must be at least 0.001 (one request every 1000 s)'],
    [{ api, daemon: { http: { port: 0, token: 'short' } } }, '/x/c.json: daemon.http.token: must be at least 16 characters; use "${LANYING_KB_OPS_TOKEN}" with a long random value'],
  ])('refuses %j with a message naming the key', (raw, message) => {
    expect(problems(raw)).toEqual([message]);
  });

  it('accepts the longest and shortest allowed values, and 0 to turn the periodic reconcile off', () => {
    const config = parseConfig(
      { ...urls({ refreshInterval: '365d', fetchTimeoutMs: 3_600_000 }), api: { ...api, timeoutMs: 3_600_000 }, daemon: { reconcileInterval: 0, debounceMs: 0 } },
      { baseDir: '/x', env: {} },
    );
    expect(config.sources[0]).toMatchObject({ refreshIntervalMs: 365 * 86_400_000, fetchTimeoutMs: 3_600_000, allowPrivateAddresses: false });
    expect(config.daemon.reconcileIntervalMs).toBe(0);
    expect(config.api.timeoutMs).toBe(3_600_000);
    expect(parseConfig(urls({ refreshInterval: '30d' }), { baseDir: '/x', env: {} }).sources[0]).toMatchObject({ refreshIntervalMs: 30 * 86_400_000 });
  });
});
