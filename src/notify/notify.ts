import type { LanyingClient } from '../api/client.js';
import type { PushAudience } from '../api/resources/push.js';
import type { ResolvedNotifyConfig } from '../config/resolve.js';
import type { RunSummary } from './run-summary.js';
import { notifyValues, renderTemplate } from './template.js';

export { notifyTemplateProblems, notifyValues, renderTemplate, templateProblems } from './template.js';

/** One notification sent (or not): a push, or a message to the users or to the groups. */
export interface NotifyDelivery {
  channel: 'push' | 'message';
  /** Who it went to, for people: `all`, `user_id (3)`, `users 1, 2`, `groups 7`. */
  target: string;
  ok: boolean;
  /** The rendered text (the push body, or the message text). */
  text: string;
  /** Push only: how many `/push/notify` calls were made (lists over 500 are split). */
  calls?: number;
  /** Why it failed: the error's one-line message. */
  error?: string;
  /** The API error code, when the server refused it. */
  code?: number;
}

export interface NotifyResult {
  /** Whether the run called for a summary (see `shouldNotify`) and a channel was configured. */
  due: boolean;
  /** Why nothing was sent, when nothing was. */
  skipped?: 'not configured' | 'dry run' | 'nothing changed';
  deliveries: NotifyDelivery[];
  /** True unless a delivery failed. */
  ok: boolean;
}

/** What `notifyRun` reports to its `log` callback. */
export type NotifyEvent =
  | { type: 'notify-skipped'; reason: NonNullable<NotifyResult['skipped']> }
  | { type: 'notify-sent'; channel: NotifyDelivery['channel']; target: string; calls?: number }
  | { type: 'notify-failed'; channel: NotifyDelivery['channel']; target: string; error: string; code?: number };

export interface NotifyOptions {
  /** The knowledge base name, for `{kb}`. */
  kbName?: string | undefined;
  /** Receives one event per delivery (sent or failed), or one `notify-skipped`. */
  log?: ((event: NotifyEvent) => void) | undefined;
}

/**
 * Whether a sync run calls for a summary: it was not a dry run, and it sent at least one document to the chatbot or
 * had a failure. A run that found nothing to send and nothing failing (only unchanged, skipped, moved or removed
 * documents) sends nothing: removing or moving a file changes nothing in the knowledge base, which has no delete
 * through the API.
 */
export function shouldNotify(report: RunSummary): boolean {
  return !report.dryRun && (report.counts.sent > 0 || report.counts.failed > 0);
}

/**
 * Sends a sync run's summary the ways the `notify` section says: a push notification to its audience, and/or a
 * chat message from `message.from` to its users and to its groups (one send each, as the API cannot mix them).
 * Sends nothing unless `shouldNotify(report)`.
 *
 * Never throws: a failed delivery is returned (and passed to `log`), so that it cannot fail the sync it reports on.
 *
 * ```ts
 * const result = await notifyRun(client, config.notify, report, { kbName: config.knowledgeBase?.name, log: console.warn });
 * ```
 */
export async function notifyRun(
  client: LanyingClient,
  notifyConfig: ResolvedNotifyConfig | undefined,
  report: RunSummary,
  options: NotifyOptions = {},
): Promise<NotifyResult> {
  const log = (event: NotifyEvent) => {
    try {
      options.log?.(event);
    } catch {
      // A logger that throws must not turn a notification into a sync failure.
    }
  };
  const skip = (reason: NonNullable<NotifyResult['skipped']>): NotifyResult => {
    log({ type: 'notify-skipped', reason });
    return { due: false, skipped: reason, deliveries: [], ok: true };
  };
  if (!notifyConfig?.push && !notifyConfig?.message) return skip('not configured');
  if (report.dryRun) return skip('dry run');
  if (!shouldNotify(report)) return skip('nothing changed');

  const values = notifyValues(report, options.kbName);
  const deliveries: NotifyDelivery[] = [];
  const deliver = async (channel: NotifyDelivery['channel'], target: string, text: string, send: () => Promise<number | undefined>) => {
    try {
      const calls = await send();
      deliveries.push({ channel, target, ok: true, text, ...(calls !== undefined ? { calls } : {}) });
      log({ type: 'notify-sent', channel, target, ...(calls !== undefined ? { calls } : {}) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : undefined;
      deliveries.push({ channel, target, ok: false, text, error: message, ...(code !== undefined ? { code } : {}) });
      log({ type: 'notify-failed', channel, target, error: message, ...(code !== undefined ? { code } : {}) });
    }
  };

  const push = notifyConfig.push;
  if (push) {
    const body = renderTemplate(push.body, values);
    const title = push.title === undefined ? undefined : renderTemplate(push.title, values);
    await deliver('push', describeAudience(push.audience), body, async () => {
      const result = await client.push.notify({ audience: push.audience, message: { type: 'text', body, ...(title !== undefined ? { title } : {}) } });
      return result.calls;
    });
  }

  const message = notifyConfig.message;
  if (message) {
    const text = renderTemplate(message.text, values);
    if (message.users.length > 0) {
      await deliver('message', `users ${message.users.join(', ')}`, text, async () => {
        await client.messages.sendText({ users: message.users }, text, { from: message.from });
        return undefined;
      });
    }
    if (message.groups.length > 0) {
      await deliver('message', `groups ${message.groups.join(', ')}`, text, async () => {
        await client.messages.sendText({ groups: message.groups }, text, { from: message.from });
        return undefined;
      });
    }
  }
  return { due: true, deliveries, ok: deliveries.every((d) => d.ok) };
}

function describeAudience(audience: PushAudience): string {
  if (audience === 'all') return 'all';
  const [key, list] = Object.entries(audience)[0] as [string, unknown[]];
  return `${key} (${list.length})`;
}
