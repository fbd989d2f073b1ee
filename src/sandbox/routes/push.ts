import { request } from 'undici';
import { isSandboxUrl, type SandboxContext } from '../context.js';
import { ApiFailure, badParam } from '../envelope.js';
import type { ApiRoute, RouteInput } from '../router.js';
import { isPlainObject, objectBody, optionalInt, optionalString, type JsonObject } from '../validate.js';

/** The most entries an audience list may have (error 12005 beyond; server-api-quick-start.md:464, error table :600). */
export const PUSH_AUDIENCE_LIMIT = 500;
/** A push image must be smaller than this (error 12002; swagger `PushMessage.attachment_url`, api-docs.json:14049). */
export const PUSH_IMAGE_MAX_BYTES = 1024 * 1024;

const AUDIENCE_KEYS = ['tag', 'alias', 'user_id', 'push_token'] as const;
const MESSAGE_TYPES = ['text', 'image', 'cmd'];
const STRATEGIES = ['combined', 'mxpush_only', 'ospush_only'];
const OSPUSH = ['ups', 'fcm', 'huawei', 'xiaomi', 'oppo', 'vivo', 'meizu'];
const PLATFORMS = ['ios', 'android', 'huawei', 'xiaomi', 'oppo', 'vivo', 'flyme', 'fcm'];

function checkAudience(value: unknown): void {
  if (value === undefined || value === null) throw badParam('audience is required');
  if (value === 'all') return;
  if (!isPlainObject(value)) throw badParam('audience must be "all" or an object with one of tag, alias, user_id, push_token');
  const keys = Object.keys(value);
  const key = keys[0] as (typeof AUDIENCE_KEYS)[number] | undefined;
  if (keys.length !== 1 || key === undefined || !AUDIENCE_KEYS.includes(key)) {
    throw badParam(`audience must have exactly one of ${AUDIENCE_KEYS.join(', ')} (got ${keys.join(', ') || 'none'})`);
  }
  const list = value[key];
  if (!Array.isArray(list) || list.length === 0) throw badParam(`audience.${key} must be a non-empty array`);
  if (list.length > PUSH_AUDIENCE_LIMIT) throw new ApiFailure(12005, `audience.${key} has ${list.length} entries; at most ${PUSH_AUDIENCE_LIMIT}`);
  list.forEach((item, i) => {
    const ok = key === 'user_id' ? typeof item === 'number' && Number.isSafeInteger(item) && item > 0 : typeof item === 'string' && item !== '';
    if (!ok) throw badParam(`audience.${key}[${i}] must be ${key === 'user_id' ? 'a positive integer' : 'a non-empty string'}`);
  });
}

function checkMessage(value: unknown): JsonObject {
  if (value === undefined || value === null) throw badParam('message is required');
  if (!isPlainObject(value)) throw badParam('message must be an object');
  const type = optionalString(value, 'type', {}, 'message.type');
  if (type !== undefined && !MESSAGE_TYPES.includes(type)) throw badParam(`message.type must be one of ${MESSAGE_TYPES.join(', ')}`);
  for (const field of ['title', 'body', 'big_text', 'attachment_url']) optionalString(value, field, { maxLength: 4096 }, `message.${field}`);
  if (type === 'image' && !value.attachment_url) throw badParam('message.attachment_url is required for an image push');
  // Swagger (api-docs.json:14055-14058): a string; a number sets the badge, "+N" adds N. A JSON number is taken too.
  // What the service does with other text is unknown; the sandbox refuses it.
  const badge = value.badge;
  if (badge !== undefined && !(typeof badge === 'number' && Number.isSafeInteger(badge) && badge >= 0) && !(typeof badge === 'string' && /^\+?\d+$/.test(badge))) {
    throw badParam('message.badge must be a number, a string of digits, or "+N"');
  }
  if (value.ext !== undefined && !isPlainObject(value.ext)) throw badParam('message.ext must be a JSON object');
  optionalInt(value, 'show_begin_time', undefined, 'message.show_begin_time');
  optionalInt(value, 'show_end_time', undefined, 'message.show_end_time');
  for (const platform of PLATFORMS) {
    if (value[platform] !== undefined && !isPlainObject(value[platform])) throw badParam(`message.${platform} must be an object`);
  }
  return value;
}

function checkSetting(value: unknown): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw badParam('setting must be an object');
  optionalString(value, 'request_id', { maxLength: 128 }, 'setting.request_id');
  const strategy = optionalString(value, 'distribution_strategy', {}, 'setting.distribution_strategy');
  if (strategy !== undefined && !STRATEGIES.includes(strategy)) throw badParam(`setting.distribution_strategy must be one of ${STRATEGIES.join(', ')}`);
  const sequence = value.ospush_sequence;
  if (sequence !== undefined && (!Array.isArray(sequence) || !sequence.every((s) => typeof s === 'string' && OSPUSH.includes(s)))) {
    throw badParam(`setting.ospush_sequence must be a list of ${OSPUSH.join(', ')}`);
  }
  return value;
}

/**
 * The image rules (swagger `PushMessage.attachment_url`, api-docs.json:14049: "图片/音频/视频的URL地址…如果是图片地址，
 * 需要以jpg/jpeg/png结尾，图片大小需小于1M"). They apply to an image push only: a text or cmd push may carry an audio or
 * video URL. The extension (jpg, jpeg, png, case-insensitive, on the URL's path) must match, else 12002. An image
 * on this sandbox is also downloaded: it must answer 200 (else 12004) and be under 1 MB (else 12002). Other hosts
 * cannot be reached from here, so they are not downloaded.
 */
async function checkImage(ctx: SandboxContext, raw: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badParam('message.attachment_url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badParam('message.attachment_url must be an absolute http(s) URL');
  if (!/\.(jpe?g|png)$/i.test(url.pathname)) throw new ApiFailure(12002, 'push image must be a jpg, jpeg or png file under 1 MB');
  if (!isSandboxUrl(ctx, url)) return;
  let size = 0;
  try {
    const res = await request(url, { method: 'GET', dispatcher: ctx.dispatcher, signal: AbortSignal.any([ctx.lifecycle.signal, AbortSignal.timeout(10_000)]) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new ApiFailure(12004, `push image URL answered HTTP ${res.statusCode}`);
    }
    if (Number(res.headers['content-length'] ?? 0) >= PUSH_IMAGE_MAX_BYTES) {
      await res.body.dump();
      throw new ApiFailure(12002);
    }
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size >= PUSH_IMAGE_MAX_BYTES) {
        res.body.destroy();
        break;
      }
    }
  } catch (error) {
    if (error instanceof ApiFailure) throw error;
    throw new ApiFailure(12004, `push image URL cannot be downloaded: ${(error as Error).message}`);
  }
  if (size >= PUSH_IMAGE_MAX_BYTES) throw new ApiFailure(12002);
}

async function notify({ ctx, body }: RouteInput) {
  if (!ctx.options.pushEnabled) throw new ApiFailure(12006);
  const input = objectBody(body);
  checkAudience(input.audience);
  const message = checkMessage(input.message);
  const setting = checkSetting(input.setting);
  if (message.type === 'image' && typeof message.attachment_url === 'string') await checkImage(ctx, message.attachment_url);

  // Assumption: `setting.request_id` deduplicates like a message's transaction_id: a repeat within the
  // transaction window is not pushed again and answers the original task_id.
  const now = ctx.options.now();
  const requestId = typeof setting?.request_id === 'string' ? setting.request_id : undefined;
  const previous = requestId === undefined ? undefined : ctx.store.pushRequestIds.get(requestId, now);
  if (previous !== undefined) return { data: { task_id: previous } };

  const taskId = ctx.store.nextPushTaskId();
  ctx.store.push.push({ task_id: taskId, audience: input.audience, message, ...(setting ? { setting } : {}), at: now });
  if (requestId !== undefined) ctx.store.pushRequestIds.set(requestId, taskId, now);
  return { data: { task_id: taskId } };
}

export const pushRoutes: readonly ApiRoute[] = [{ methods: ['POST'], path: '/push/notify', auth: 'token', body: 'required', handle: notify }];
