import type { Dispatcher } from 'undici';
import type { LanyingClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { notifyRun, type NotifyOptions } from '../notify/notify.js';
import { openRuntime } from '../runtime/open-runtime.js';
import { type ReconcileOptions, type SyncEvent, SyncEngine } from './engine.js';
import type { SyncReport } from './report.js';

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
  await using runtime = openRuntime(config, { command: 'sync', readonly: dryRun, client: options.client, dispatcher: options.dispatcher });
  const { client, store } = runtime;
  const engine = new SyncEngine({ config, client, store, onEvent: options.onEvent, dispatcher: options.dispatcher });
  let report: SyncReport;
  try {
    report = await engine.reconcile({ ...options, mode: options.mode ?? (dryRun ? 'dry-run' : 'sync') });
  } finally {
    await engine.closeLifecycles();
  }
  // A summary for the people who follow the knowledge base; it never fails the run it reports on.
  if (config.notify.push || config.notify.message) {
    report.notify = await notifyRun(client, config.notify, report, { kbName: config.knowledgeBase?.name, log: options.onNotify });
  }
  return report;
}
