import { ApiFailure, badParam } from '../envelope.js';
import type { ApiRoute, RouteInput } from '../router.js';
import { conversationIdOf, type MessageRecord } from '../store.js';
import {
  objectBody,
  optionalBoolean,
  optionalId,
  optionalIdText,
  optionalJsonObjectString,
  optionalString,
  queryInt,
  requiredIdList,
  requiredInt,
  requiredString,
  type JsonObject,
} from '../validate.js';
import { findGroup } from './groups.js';

/** `content_type` values `/message/send` accepts (swagger `MessageRequest.content_type`, api-docs.json:13728-13735: 0..12; 8 is undefined). */
export const CONTENT_TYPES = Object.freeze([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12]);
/** Types that carry a file: their attachment is required and must have a `url`. */
const MEDIA_TYPES = new Set([1, 2, 3, 4]);
/** READ_ACK, RECALL, APPEND, REPLACE name the message they act on. */
const RELATED_TYPES = new Set([9, 10, 11, 12]);

/** A string field holding JSON: an object sent instead of a string is refused with 10002. */
function jsonStringField(input: JsonObject, field: string) {
  const value = input[field];
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw badParam(`${field} must be a string holding JSON (JSON-encode it), not ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return optionalJsonObjectString(input, field);
}

/**
 * `POST /message/send` (swagger `MessageRequest`, api-docs.json:13712-13780; the quick start, server-api-quick-start.md:391-431
 * and :512-572). Accepts what the vendor's own clients send: IDs as numbers or strings of digits, `related_mid: 0`
 * (`lanying_im_api.py:226,252` always sends it; 0 means none), `online_only`, and an admin send with no sender
 * (the quick start's example; recorded as sent by user 0, the app's administrator).
 */
function send({ ctx, body, caller }: RouteInput) {
  const { limits } = ctx.options;
  const input = objectBody(body);
  const targets = requiredIdList(input, 'targets', { max: limits.messageTargetsMax });
  const type = requiredInt(input, 'type', [1, 2]) as 1 | 2;
  const contentType = requiredInt(input, 'content_type', CONTENT_TYPES);
  // Swagger marks `content` required; the knowledge-base guide's file message has none (server-api-quick-start.md:557-572).
  // The real answer is unknown: accepted as "" unless `requireContent`.
  const content = ctx.options.requireContent
    ? requiredString(input, 'content', { maxLength: limits.messageContentMaxChars })
    : (optionalString(input, 'content', { maxLength: limits.messageContentMaxChars }) ?? '');
  const attachment = jsonStringField(input, 'attachment');
  if (MEDIA_TYPES.has(contentType)) {
    if (!attachment.value) throw badParam(`attachment is required for content_type ${contentType}`);
    if (typeof attachment.value.url !== 'string' || attachment.value.url === '') throw badParam('attachment.url is required (a string)');
  }
  const ext = jsonStringField(input, 'ext');
  const config = jsonStringField(input, 'config');
  const fromUserId = optionalId(input, 'from_user_id');
  const transactionId = optionalIdText(input, 'transaction_id');
  const onlineOnly = optionalBoolean(input, 'online_only');
  const relatedMid = optionalIdText(input, 'related_mid', { zeroIsNone: true });
  if (RELATED_TYPES.has(contentType) && relatedMid === undefined) throw badParam(`related_mid is required for content_type ${contentType}`);

  // The sender: from_user_id, or the user_id header; with neither, the app's administrator (user 0).
  const header = caller.actingUserId;
  if (fromUserId !== undefined && header !== undefined && fromUserId !== header) throw badParam('from_user_id and the user_id header name different users');
  const sender = fromUserId ?? header ?? ADMIN_SENDER;
  if (sender !== ADMIN_SENDER && !ctx.store.users.has(sender)) throw new ApiFailure(10000, `user ${sender} (the sender) does not exist`);

  // Swagger (api-docs.json:13766): a second request with the same transaction_id "within a short time" is not
  // executed. Assumed: keyed per sender, for `transactionWindowMs`, answered like the first (same msg_ids).
  const now = ctx.options.now();
  const txKey = transactionId === undefined ? undefined : `${sender}:${transactionId}`;
  const previous = txKey === undefined ? undefined : ctx.store.transactions.get(txKey, now);
  if (previous) return { data: true, siblings: previous.length === 1 ? { msg_ids: previous.map(BigInt) } : {} };

  if (type === 1) {
    for (const id of targets) if (!ctx.store.users.has(id)) throw new ApiFailure(10000, `user ${id} (targets) does not exist`);
  } else {
    for (const id of targets) {
      const group = findGroup(ctx.store, id);
      // The app's administrator may send to any group (assumed).
      if (sender !== ADMIN_SENDER && !group.members.has(sender)) throw new ApiFailure(20002, `user ${sender} is not a member of group ${id}`);
    }
  }

  const stored: MessageRecord[] = targets.map((to) =>
    ctx.store.addMessage({
      type,
      from_user_id: sender,
      to_id: to,
      content_type: contentType,
      content,
      attachment: attachment.text,
      ext: ext.text,
      config: config.text,
      ...(transactionId !== undefined ? { transaction_id: Number.isSafeInteger(Number(transactionId)) ? Number(transactionId) : transactionId } : {}),
      ...(onlineOnly !== undefined ? { online_only: onlineOnly } : {}),
      ...(relatedMid !== undefined ? { related_mid: relatedMid } : {}),
    }),
  );
  const msgIds = stored.map((m) => m.msg_id);
  if (txKey !== undefined) ctx.store.transactions.set(txKey, msgIds, now);
  for (const message of stored) ctx.onMessage(message);
  // msg_ids only when there is exactly one receiver (api-docs.json:15178), as JSON numbers (int64).
  return { data: true, siblings: msgIds.length === 1 ? { msg_ids: msgIds.map(BigInt) } : {} };
}

/** The sender of an admin send that names none (the quick start's example): the app's administrator. */
export const ADMIN_SENDER = 0;

/** A message as `/message/conversation` returns it. */
export function conversationMessage(m: MessageRecord): Record<string, unknown> {
  return {
    msg_id: BigInt(m.msg_id),
    ctype: m.ctype,
    content: m.content,
    attachment: m.attachment,
    ext: m.ext,
    config: m.config,
    from_xid: { uid: m.from_user_id, device_sn: 0 },
    to_xid: { uid: m.to_id, device_sn: 0 },
    status: m.status,
    timestamp: m.timestamp,
  };
}

/** The index of the last message whose msg_id is at most `msgId` (-1 when none). */
function lastAtOrBefore(list: readonly MessageRecord[], msgId: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (BigInt((list[mid] as MessageRecord).msg_id) <= msgId) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * One page of history, newest first, starting at `msg_id_start` inclusive (0 = the newest). `next_msg_id` is
 * the msg_id to pass as the next `msg_id_start`; it is 0 when `is_last`.
 */
function conversation({ ctx, query, actingUser }: RouteInput) {
  const user = actingUser('GET /message/conversation');
  const opposite = queryInt(query, 'opposite_id', { required: true, id: true });
  const startText = query.get('msg_id_start');
  if (startText === null || startText === '') throw badParam('query parameter msg_id_start is required');
  if (!/^\d{1,19}$/.test(startText) || BigInt(startText) >= 2n ** 63n) throw badParam('query parameter msg_id_start must be a message ID (0 for the newest)');
  const start = BigInt(startText);
  const limit = queryInt(query, 'limit', { required: true, min: 1, max: ctx.options.limits.conversationPageMax });
  let conversationId: string;
  if (ctx.store.users.has(opposite)) conversationId = conversationIdOf(1, user, opposite);
  else if (ctx.store.groups.has(opposite)) {
    const group = findGroup(ctx.store, opposite);
    if (!group.members.has(user)) throw new ApiFailure(20002, `user ${user} is not a member of group ${opposite}`);
    conversationId = conversationIdOf(2, user, opposite);
  } else throw new ApiFailure(10000, `no user or group ${opposite} (opposite_id)`);

  const list = ctx.store.conversations.get(conversationId) ?? [];
  const first = start === 0n ? list.length - 1 : lastAtOrBefore(list, start);
  const messages: Record<string, unknown>[] = [];
  let i = first;
  for (; i >= 0 && messages.length < limit; i--) messages.push(conversationMessage(list[i] as MessageRecord));
  const isLast = i < 0;
  return { data: { messages, next_msg_id: isLast ? 0 : BigInt((list[i] as MessageRecord).msg_id), is_last: isLast } };
}

export const messageRoutes: readonly ApiRoute[] = [
  // Swagger defines PUT and POST with identical parameters.
  { methods: ['POST', 'PUT'], path: '/message/send', auth: 'token', body: 'required', handle: send },
  { methods: ['GET'], path: '/message/conversation', auth: 'token', body: 'none', handle: conversation },
];
