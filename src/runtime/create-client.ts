import { LanyingClient, type LanyingClientOptions } from '../api/client.js';
import { createRateLimiter } from '../api/rate-limiter.js';
import type { ResolvedConfig } from '../config/resolve.js';

/**
 * Creates a client from client options, or from a loaded configuration: its `api` section, and the rate limit of
 * `sync.requestsPerSecond` when one is set (unless `extra.limiter` is given).
 *
 * ```ts
 * const client = createClient(await loadConfig({ cwd: process.cwd(), env: process.env }));
 * ```
 */
export function createClient(from: LanyingClientOptions | Pick<ResolvedConfig, 'api'> & Partial<Pick<ResolvedConfig, 'sync'>>, extra: Partial<LanyingClientOptions> = {}): LanyingClient {
  if (!('api' in from)) return new LanyingClient({ ...from, ...extra });
  const { endpoint, appId, accessToken, timeoutMs, maxRetries } = from.api;
  const perSecond = from.sync?.requestsPerSecond;
  const limiter = extra.limiter ?? (perSecond ? createRateLimiter(perSecond) : undefined);
  return new LanyingClient({ endpoint, appId, accessToken, timeoutMs, maxRetries, ...extra, limiter });
}
