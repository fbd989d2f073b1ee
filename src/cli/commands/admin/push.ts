import type { PushAudience, PushMessage } from '../../../api/resources/push.js';
import { checkPushImage } from '../../../admin/push-image.js';
import { UsageError } from '../../../errors.js';
import type { CliContext, GlobalOptions } from '../../context.js';
import { writeLine, writeResult } from '../../context.js';
import { EXIT } from '../../exit-codes.js';
import { adminClient, confirmWithYes, parseJsonObject, plural } from './shared.js';

export interface PushNotifyOptions {
  all?: boolean;
  tag?: string[];
  alias?: string[];
  userId?: number[];
  pushToken?: string[];
  type?: 'text' | 'image' | 'cmd';
  title?: string;
  body?: string;
  attachmentUrl?: string;
  badge?: string;
  ext?: string;
  /** Do not ask before a push to every user. */
  yes?: boolean;
}

/**
 * `lanying-kb push notify (--all | --tag T... | --alias A... | --user-id ID... | --push-token P...) [...]`.
 * Exactly one audience; a list over 500 entries is sent in several calls. An image is checked before sending. A push
 * to every user (`--all`) asks for "yes" on a terminal, and needs `--yes` elsewhere.
 */
export async function pushNotifyCommand(options: PushNotifyOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const audience = audienceOf(options);
  const type = options.type ?? 'text';
  if (type !== 'cmd' && options.title === undefined && options.body === undefined) throw new UsageError(`a ${type} notification needs --title or --body`);
  if (type === 'image' && options.attachmentUrl === undefined) throw new UsageError('--type image needs --attachment-url');
  const ext = options.ext === undefined ? undefined : parseJsonObject(options.ext, '--ext');
  const message: PushMessage = {
    type,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.attachmentUrl !== undefined ? { attachment_url: options.attachmentUrl } : {}),
    ...(options.badge !== undefined ? { badge: options.badge } : {}),
    ...(ext ? { ext } : {}),
  };
  const { client } = await adminClient(globals, ctx);
  if (audience === 'all' && !options.yes) {
    await confirmWithYes(ctx, 'Send this push notification to every user of the app?', 'A push to every user cannot be called back');
  }
  // Swagger (api-docs.json:14049): the attachment may be an image, audio or video URL; only an image must be a
  // jpg/jpeg/png under 1 MB, so only an image push is checked.
  const image = type === 'image' && options.attachmentUrl !== undefined ? await checkPushImage(options.attachmentUrl, { field: '--attachment-url' }) : undefined;
  const result = await client.push.notify({ audience, message });

  const size = audience === 'all' ? undefined : (Object.values(audience)[0] as unknown[]).length;
  if (globals.json) {
    writeResult(ctx, globals, { ok: true, calls: result.calls, taskIds: result.taskIds, audienceSize: size ?? 'all', ...(image ? { imageBytes: image.size } : {}) });
    return EXIT.OK;
  }
  const who = audience === 'all' ? 'all users' : `${size} ${Object.keys(audience)[0]} entr${size === 1 ? 'y' : 'ies'}`;
  const split = result.calls > 1 ? ' (lists over 500 entries are split)' : '';
  writeLine(ctx.stdout, `push sent to ${who} in ${plural(result.calls, 'call')}${split}${result.taskIds.length ? `; task ID ${result.taskIds.join(', ')}` : ''}`);
  return EXIT.OK;
}

function audienceOf(options: PushNotifyOptions): PushAudience {
  const chosen: PushAudience[] = [];
  if (options.all) chosen.push('all');
  if (options.tag) chosen.push({ tag: options.tag });
  if (options.alias) chosen.push({ alias: options.alias });
  if (options.userId) chosen.push({ user_id: options.userId });
  if (options.pushToken) chosen.push({ push_token: options.pushToken });
  if (chosen.length !== 1) {
    throw new UsageError(`name exactly one audience: --all, --tag T..., --alias A..., --user-id ID... or --push-token P... (${chosen.length === 0 ? 'none given' : `${chosen.length} given`})`);
  }
  return chosen[0] as PushAudience;
}
