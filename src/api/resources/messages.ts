import { randomInt } from 'node:crypto';
import { LosslessNumber } from 'lossless-json';
import { ValidationError } from '../../errors.js';
import type { RequestOptions } from '../request.js';
import { Resource } from './resource.js';

/** `content_type` values of `/message/send`. */
export const ContentType = Object.freeze({
  TEXT: 0,
  IMAGE: 1,
  AUDIO: 2,
  VIDEO: 3,
  FILE: 4,
  LOCATION: 5,
  COMMAND: 6,
  FORWARD: 7,
  READ_ACK: 9,
  RECALL: 10,
  APPEND: 11,
  REPLACE: 12,
});

/** Who receives a message: users or groups, never both (the API's `type` 1 or 2). */
export type MessageTarget = { users: number[] } | { groups: number[] };

export interface SendMessageInput {
  to: MessageTarget;
  /** One of `ContentType`. */
  contentType: number;
  /** Message text; `""` for files and media (the API requires the field). @default "" */
  content?: string;
  /** Encoded as a JSON string, as the API wants. For a file: `{ dName, fLen, url }`. */
  attachment?: Record<string, unknown> | string;
  /** Encoded as a JSON string. The AI chatbot reads `{"ai": {...}}` here. */
  ext?: Record<string, unknown> | string;
  /** Encoded as a JSON string. */
  config?: Record<string, unknown> | string;
  /**
   * The sender, when the admin token sends on a user's behalf. Without it the admin token sends as the app's
   * administrator, as the quick start's example does (who the receiver sees as the sender is not documented).
   */
  from?: number;
  /** Deduplication key: the server does not execute a second send with the same ID. Generated when absent. */
  transactionId?: number;
  /** Deliver only to users who are online. */
  onlineOnly?: boolean;
  /**
   * The message a READ_ACK, RECALL, APPEND or REPLACE acts on: a message ID (decimal text; message IDs are 64-bit).
   */
  relatedMid?: string;
}

export interface SendResult {
  /** The new message's ID (64-bit, as decimal text); present when there was exactly one receiver. */
  msgIds: string[];
  /** The transaction ID the send carried (generated unless given). */
  transactionId: number;
}

export interface ConversationMessage {
  /** 64-bit, as decimal text. */
  msg_id: string;
  ctype: string;
  content: string;
  attachment?: string;
  ext?: string;
  config?: string;
  from_xid: { uid: number; device_sn?: number };
  to_xid: { uid: number; device_sn?: number };
  status?: string;
  timestamp: number;
  [field: string]: unknown;
}

export interface ConversationPage {
  messages: ConversationMessage[];
  /** Where the next page starts (a message ID as decimal text); undefined after the last page. */
  nextMsgId: string | undefined;
  isLast: boolean;
}

/** A random transaction ID: a positive integer well inside JavaScript's safe range. */
export function generateTransactionId(): number {
  return randomInt(1, 2 ** 47);
}

/**
 * A message ID for a request body: the JSON number (int64) the API wants, written from its decimal text without
 * passing through a JavaScript number (the client writes bodies with `lossless-json`).
 */
function messageIdForJson(id: string): LosslessNumber {
  if (!/^\d+$/.test(id)) throw new ValidationError('relatedMid', `"${id}" is not a message ID (decimal digits)`);
  return new LosslessNumber(id);
}

function encodeJson(field: string, value: Record<string, unknown> | string | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, 'must be a JSON object');
  return JSON.stringify(value);
}

/** Messages: sending, and reading a conversation's history. */
export class Messages extends Resource {
  /**
   * `POST /message/send`. Every send carries a `transaction_id`, so a send retried after a lost response is
   * dropped by the server instead of delivered twice; that is why sends, unlike other POSTs, are retried.
   */
  async send(input: SendMessageInput, options?: RequestOptions): Promise<SendResult> {
    const isUsers = 'users' in input.to;
    const targets = isUsers ? (input.to as { users: number[] }).users : (input.to as { groups: number[] }).groups;
    if (!Array.isArray(targets) || targets.length === 0) throw new ValidationError('to', 'name at least one user or group');
    if ('users' in input.to && 'groups' in input.to) throw new ValidationError('to', 'users and groups cannot be mixed in one send');
    if (!targets.every((t) => Number.isSafeInteger(t) && t > 0)) throw new ValidationError('to', 'IDs must be positive integers');
    const transactionId = input.transactionId ?? generateTransactionId();
    const body: Record<string, unknown> = {
      targets,
      type: isUsers ? 1 : 2,
      content_type: input.contentType,
      content: input.content ?? '',
      transaction_id: transactionId,
    };
    const attachment = encodeJson('attachment', input.attachment);
    const ext = encodeJson('ext', input.ext);
    const config = encodeJson('config', input.config);
    if (attachment !== undefined) body.attachment = attachment;
    if (ext !== undefined) body.ext = ext;
    if (config !== undefined) body.config = config;
    if (input.from !== undefined) body.from_user_id = input.from;
    if (input.onlineOnly !== undefined) body.online_only = input.onlineOnly;
    if (input.relatedMid !== undefined) body.related_mid = messageIdForJson(input.relatedMid);
    const res = await this.client.call<boolean>({ ...options, method: 'POST', path: '/message/send', body, retry: true });
    return { msgIds: Array.isArray(res.msg_ids) ? res.msg_ids.map(String) : [], transactionId };
  }

  /** Sends a text message. */
  sendText(to: MessageTarget, text: string, extra: Omit<SendMessageInput, 'to' | 'contentType' | 'content'> = {}, options?: RequestOptions): Promise<SendResult> {
    return this.send({ ...extra, to, contentType: ContentType.TEXT, content: text }, options);
  }

  /** `GET /message/conversation`: one page of the conversation between `actAs` and `oppositeId`, newest first. */
  async conversationPage(
    oppositeId: number,
    page: { msgIdStart?: string; limit?: number },
    options: RequestOptions & { actAs: number },
  ): Promise<ConversationPage> {
    const res = await this.client.get<{ messages?: ConversationMessage[]; next_msg_id?: string; is_last?: boolean }>(
      '/message/conversation',
      { opposite_id: oppositeId, msg_id_start: page.msgIdStart ?? '0', limit: page.limit ?? 50 },
      options,
    );
    const data = res.data ?? {};
    const next = data.next_msg_id === undefined || data.next_msg_id === null || /^0*$/.test(String(data.next_msg_id)) ? undefined : String(data.next_msg_id);
    return { messages: data.messages ?? [], nextMsgId: next, isLast: data.is_last ?? true };
  }

  /** The whole conversation history, newest first, following `next_msg_id` until the server says it is the last page. */
  async *conversation(
    oppositeId: number,
    options: RequestOptions & { actAs: number; pageSize?: number; msgIdStart?: string },
  ): AsyncGenerator<ConversationMessage> {
    let msgIdStart = options.msgIdStart ?? '0';
    for (;;) {
      const page = await this.conversationPage(oppositeId, { msgIdStart, limit: options.pageSize ?? 50 }, options);
      yield* page.messages;
      if (page.isLast || page.nextMsgId === undefined || page.nextMsgId === msgIdStart || page.messages.length === 0) return;
      msgIdStart = page.nextMsgId;
    }
  }
}
