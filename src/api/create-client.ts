import type { ResolvedConfig } from '../config/resolve.js';
import { LanyingClient, type LanyingClientOptions } from './client.js';

/**
 * Creates a client from client options, or from a loaded configuration's `api` section.
 *
 * ```ts
 * const client = createClient(await loadConfig({ cwd: process.cwd(), env: process.env }));
 * ```
 */
export function createClient(from: LanyingClientOptions | Pick<ResolvedConfig, 'api'>, extra: Partial<LanyingClientOptions> = {}): LanyingClient {
  if ('api' in from) {
    const { endpoint, appId, accessToken, timeoutMs, maxRetries } = from.api;
    return new LanyingClient({ endpoint, appId, accessToken, timeoutMs, maxRetries, ...extra });
  }
  return new LanyingClient({ ...from, ...extra });
}
