import { notifyRun, type NotifyResult } from '../../../admin/notify.js';
import { createClient } from '../../../api/create-client.js';
import type { ResolvedConfig } from '../../../config/resolve.js';
import type { SyncReport } from '../../../sync/report.js';
import type { CliContext } from '../../context.js';
import { writeLine } from '../../context.js';

/**
 * After `sync`: sends the run's summary the ways the `notify` section says (when it sent or failed something).
 * A failed notification is a warning on stderr, never a failure of the sync. Undefined when `notify` is not set.
 */
export async function notifyAfterSync(config: Pick<ResolvedConfig, 'notify' | 'knowledgeBase' | 'api'>, report: SyncReport, ctx: CliContext): Promise<NotifyResult | undefined> {
  if (!config.notify.push && !config.notify.message) return undefined;
  return notifyRun(createClient(config, { maxRetries: 1 }), config.notify, report, {
    kbName: config.knowledgeBase?.name,
    log: (event) => {
      if (event.type === 'notify-failed') writeLine(ctx.stderr, `lanying-kb: warning: the ${event.channel} notification (${event.target}) failed: ${event.error}`);
    },
  });
}
