import type { LanyingClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { notifyRun } from '../notify/notify.js';
import type { RunSummary } from '../notify/run-summary.js';
import { emptyCounts, type SyncCounts, type SyncReport } from '../sync/report.js';
import type { Logger } from './logger.js';

/**
 * The daemon's `notify` summaries: what watched changes sent is gathered and goes out with the next reconcile's
 * summary, one notification per reconcile that sent something (never one per changed file).
 */
export class NotificationBatcher {
  #counts: SyncCounts = emptyCounts();
  readonly #sources = new Set<string>();
  readonly #sending = new Set<Promise<unknown>>();

  constructor(
    private readonly options: {
      enabled: boolean;
      config: () => ResolvedConfig;
      client: () => LanyingClient;
      log: Logger;
    },
  ) {}

  /** A watched change's report: kept for the next reconcile's summary when it sent or failed something. */
  add(report: SyncReport): void {
    if (report.counts.sent === 0 && report.counts.failed === 0) return;
    this.#counts = sumCounts([this.#counts, report.counts]);
    for (const source of report.sources) this.#sources.add(source);
  }

  /** After a reconcile: sends the summary of it and of what was gathered, when something was sent. */
  afterReconcile(reports: readonly SyncReport[]): void {
    const counts = sumCounts([this.#counts, ...reports.map((r) => r.counts)]);
    const sources = [...new Set([...this.#sources, ...reports.flatMap((r) => r.sources)])];
    this.#counts = emptyCounts();
    this.#sources.clear();
    const notify = this.options.config().notify;
    if (!this.options.enabled || (!notify.push && !notify.message) || counts.sent === 0) return;
    const summary: RunSummary = {
      dryRun: false,
      runId: reports[reports.length - 1]?.runId,
      sources,
      durationMs: reports.reduce((sum, r) => sum + r.durationMs, 0),
      counts,
    };
    const log = this.options.log;
    const sending = notifyRun(this.options.client(), notify, summary, {
      kbName: this.options.config().knowledgeBase?.name,
      log: (event) => {
        if (event.type === 'notify-sent') log.info({ event: 'notify-sent', channel: event.channel, target: event.target }, `summary sent (${event.channel} to ${event.target})`);
        else if (event.type === 'notify-failed') log.warn({ event: 'notify-failed', channel: event.channel, target: event.target, error: event.error }, `the ${event.channel} notification failed: ${event.error}`);
      },
    });
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
  }

  /** Resolves when every summary being sent is sent. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#sending]);
  }
}

/** The sum of several runs' counts. */
export function sumCounts(list: readonly SyncCounts[]): SyncCounts {
  const total = emptyCounts();
  for (const counts of list) for (const key of Object.keys(total) as (keyof SyncCounts)[]) total[key] += counts[key];
  return total;
}
