import type { Dispatcher } from 'undici';
import { notifyRun, type NotifyOptions } from '../admin/notify.js';
import type { LanyingClient } from '../api/client.js';
import { createClient } from '../api/create-client.js';
import { createRateLimiter } from '../api/rate-limiter.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { type ReconcileOptions, type SyncEvent, SyncEngine } from './engine.js';
import type { SyncReport } from './report.js';
import { acquireStateLock } from './state-lock.js';
import { StateStore } from './state-store.js';

export interface SyncOnceOptions extends ReconcileOptions {
  config: ResolvedConfig;
  /** A client to use; by default one is made from `config.api`, limited to `sync.requestsPerSecond`. */
  client?: LanyingClient | undefined;
  onEvent?: ((event: SyncEvent) => void) | undefined;
  /** For URL fetches and, when no client is given, API calls. */
  dispatcher?: Dispatcher | undefined;
  /** Receives what the `notify` section's summary did (sent, skipped, failed). */
  onNotify?: NotifyOptions['log'];
}

/**
 * One sync run: takes the state folder's lock, plans every selected source, sends what is new or changed, records
 * the outcome, sends the `notify` section's summary when the run changed the knowledge base, and releases the lock.
 * A dry run takes no lock, sends nothing and writes nothing.
 *
 * ```ts
 * const report = await syncOnce({ config: await loadConfig({ cwd: process.cwd(), env: process.env }) });
 * console.log(report.counts);
 * ```
 */
export async function syncOnce(options: SyncOnceOptions): Promise<SyncReport> {
  const { config } = options;
  const dryRun = options.dryRun ?? false;
  const lock = dryRun ? undefined : acquireStateLock(config.sync.stateDir, 'sync');
  let store: StateStore | undefined;
  try {
    store = StateStore.open(config.sync.stateDir, { readonly: dryRun });
    if (!dryRun) store.abortStaleRuns();
    const limiter = config.sync.requestsPerSecond ? createRateLimiter(config.sync.requestsPerSecond) : undefined;
    const client = options.client ?? createClient(config, { dispatcher: options.dispatcher, limiter });
    const engine = new SyncEngine({ config, client, store, onEvent: options.onEvent, dispatcher: options.dispatcher });
    const report = await engine.reconcile({ ...options, mode: options.mode ?? (dryRun ? 'dry-run' : 'sync') });
    // A summary for the people who follow the knowledge base; it never fails the run it reports on.
    if (config.notify.push || config.notify.message) {
      report.notify = await notifyRun(client, config.notify, report, { kbName: config.knowledgeBase?.name, log: options.onNotify });
    }
    return report;
  } finally {
    store?.close();
    lock?.release();
  }
}
