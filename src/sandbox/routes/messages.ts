import { ApiFailure, badParam } from '../envelope.js';
import type { ApiRoute, RouteInput } from '../router.js';
import { conversationIdOf, type MessageRecord } from '../store.js';
import {
  objectBody,
  optionalBoolean,
  optionalId,
  optionalJsonObjectString,
  queryInt,
  requiredIdList,
  requiredInt,
  requiredString,
  type JsonObject,
} from '../validate.js';
import { findGroup } from './groups.js';

/** `content_type` values `/message/send` accepts (zh swagger: 0..12; 8 is undefined). */
export const CONTENT_TYPES = Object.freeze([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12]);
/** Types that carry a file: their attachment is required and must have a `url`. */
const MEDIA_TYPES = new Set([1, 2, 3, 4]);
/** READ_ACK, RECALL, APPEND, REPLACE name the message they act on. */
const RELATED_TYPES = new Set([9, 10, 11, 12]);
/** Most receivers in one send. Not documented; a stricter plausible bound. */
export const MAX_TARGETS = 1000;
/** Most messages one `/message/conversation` page returns. Not documented; a stricter plausible bound. */
export const MAX_CONVERSATION_LIMIT = 100;

/** A string field holding JSON: an object sent instead of a string is refused with 10002. */
function jsonStringField(input: JsonObject, field: string) {
  const value = input[field];
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw badParam(`${field} must be a string holding JSON (JSON-encode it), not ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return optionalJsonObjectString(input, field);
}

function send({ ctx, body, caller }: RouteInput) {
  const input = objectBody(body);
  const targets = requiredIdList(input, 'targets', { max: MAX_TARGETS });
  const type = requiredInt(input, 'type', [1, 2]) as 1 | 2;
  const contentType = requiredInt(input, 'content_type', CONTENT_TYPES);
  // Required even for files and media, as swagger says (the quick-start's file example omits it).
  const content = requiredString(input, 'content', { maxLength: 65_536 });
  const attachment = jsonStringField(input, 'attachment');
  if (MEDIA_TYPES.has(contentType)) {
    if (!attachment.value) throw badParam(`attachment is required for content_type ${contentType}`);
    if (typeof attachment.value.url !== 'string' || attachment.value.url === '') throw badParam('attachment.url is required (a string)');
  }
  const ext = jsonStringField(input, 'ext');
  const config = jsonStringField(input, 'config');
  const fromUserId = optionalId(input, 'from_user_id');
  const transactionId = optionalId(input, 'transaction_id');
  const onlineOnly = optionalBoolean(input, 'online_only');
  const relatedMid = optionalId(input, 'related_mid');
  if (RELATED_TYPES.has(contentType) && relatedMid === undefined) throw badParam(`related_mid is required for content_type ${contentType}`);

  // The sender: from_user_id, or the user_id header. With the admin token one of them is required.
  const header = caller.actingUserId;
  if (fromUserId !== undefined && header !== undefined && fromUserId !== header) throw badParam('from_user_id and the user_id header name different users');
  const sender = fromUserId ?? header;
  if (sender === undefined) throw badParam('from_user_id is required with the admin token (or a user_id header naming the sender)');
  if (!ctx.store.users.has(sender)) throw new ApiFailure(10000, `user ${sender} (the sender) does not exist`);

  // Assumption: a repeated transaction_id from the same sender within the window is not executed again, and the
  // answer is the original one (same msg_ids), so that a client retrying after a lost response sees success.
  const now = ctx.options.now();
  const txKey = transactionId === undefined ? undefined : `${sender}:${transactionId}`;
  const previous = txKey === undefined ? undefined : ctx.store.transactions.get(txKey, now);
  if (previous) return { data: true, siblings: previous.length === 1 ? { msg_ids: previous } : {} };

  if (type === 1) {
    for (const id of targets) if (!ctx.store.users.has(id)) throw new ApiFailure(10000, `user ${id} (targets) does not exist`);
  } else {
    for (const id of targets) {
      const group = findGroup(ctx.store, id);
      if (!group.members.has(sender)) throw new ApiFailure(20002, `user ${sender} is not a member of group ${id}`);
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
      ...(transactionId !== undefined ? { transaction_id: transactionId } : {}),
      ...(onlineOnly !== undefined ? { online_only: onlineOnly } : {}),
      ...(relatedMid !== undefined ? { related_mid: relatedMid } : {}),
    }),
  );
  const msgIds = stored.map((m) => m.msg_id);
  if (txKey !== undefined) ctx.store.transactions.set(txKey, msgIds, now);
  for (const message of stored) ctx.onMessage(message);
  // msg_ids only when there is exactly one receiver (zh swagger).
  return { data: true, siblings: msgIds.length === 1 ? { msg_ids: msgIds } : {} };
}

/** A message as `/message/conversation` returns it. */
export function conversationMessage(m: MessageRecord): Record<string, unknown> {
  return {
    msg_id: m.msg_id,
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
function lastAtOrBefore(list: readonly MessageRecord[], msgId: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as MessageRecord).msg_id <= msgId) lo = mid + 1;
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
  const start = queryInt(query, 'msg_id_start', { required: true, min: 0 });
  const limit = queryInt(query, 'limit', { required: true, min: 1, max: MAX_CONVERSATION_LIMIT });
  let conversationId: string;
  if (ctx.store.users.has(opposite)) conversationId = conversationIdOf(1, user, opposite);
  else if (ctx.store.groups.has(opposite)) {
    const group = findGroup(ctx.store, opposite);
    if (!group.members.has(user)) throw new ApiFailure(20002, `user ${user} is not a member of group ${opposite}`);
    conversationId = conversationIdOf(2, user, opposite);
  } else throw new ApiFailure(10000, `no user or group ${opposite} (opposite_id)`);

  const list = ctx.store.conversations.get(conversationId) ?? [];
  const first = start === 0 ? list.length - 1 : lastAtOrBefore(list, start);
  const messages: Record<string, unknown>[] = [];
  let i = first;
  for (; i >= 0 && messages.length < limit; i--) messages.push(conversationMessage(list[i] as MessageRecord));
  const isLast = i < 0;
  return { data: { messages, next_msg_id: isLast ? 0 : (list[i] as MessageRecord).msg_id, is_last: isLast } };
}

export const messageRoutes: readonly ApiRoute[] = [
  // Swagger defines PUT and POST with identical parameters.
  { methods: ['POST', 'PUT'], path: '/message/send', auth: 'token', body: 'required', handle: send },
  { methods: ['GET'], path: '/message/conversation', auth: 'token', body: 'none', handle: conversation },
];
