import { readBotExt } from './bot-ext.js';
import { parsePythonStringList } from './python-repr.js';

/**
 * What the chatbot answers at once to a document message (a file, or a text of URLs) that `/message/send` took
 * with code 200: the ack, or one of the refusals it can send instead. Vendor source: `blockmessage/lanying-connector`
 * branch `lanying`, `services/openai_service.py` unless noted:
 * - ack: `添加到知识库({embedding_name})成功，请等待系统处理。` (:3142,3158,3207,3218);
 * - `service is expired`, error_code `service_is_expired` (:2555-2562);
 * - the app is in arrears: error_code `deduct_failed`, text configurable per app, by default
 *   `抱歉，当前应用已欠费，请联系管理员或者稍后重试。` (:2550-2553, `lanying_config.py:97-100`);
 * - the round limit: `您发消息速度过快，请稍后再试。`, error_code `rate_limit_reached` (:514-519);
 * - an admin of several knowledge bases without a default: a file is stored, not ingested:
 *   `上传文件成功， 文件ID:{file_id} 。\n您绑定了多个知识库{names}, 可以设置默认知识库来自动添加文档到知识库,\n命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>`
 *   (:3161); URLs are dropped: `您绑定了多个知识库{names}，请设置默认知识库名称， 命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>` (:3220);
 * - `对不起，暂时只支持{exts}格式的知识库` (:3049) and, for a file from a user who administers no knowledge base,
 *   `对不起，我无法处理文件消息` (:3051);
 * - `知识库不存在，或者你（ID：{from_user_id}）没有这个知识库的权限` (:3061; commands);
 * - an internal error: error_code `internal_error`, text configurable (:582-589, `lanying_config.py:77-80`).
 * A URL text from someone who administers no knowledge base is not a document message for the chatbot: it answers
 * it like any chat (:3188-3197), which reads here as `other`.
 */

export type SendRefusalReason =
  | 'service_expired'
  | 'deduct_failed'
  | 'round_limit'
  | 'several_kbs'
  | 'unsupported_format'
  | 'file_refused'
  | 'no_permission'
  | 'internal_error';

export type SendReply =
  /** Accepted: the document(s) will be processed, and a completion notice follows. */
  | { kind: 'ack'; kbName: string; text: string }
  /** Refused: nothing is ingested for this message. */
  | {
      kind: 'refused';
      reason: SendRefusalReason;
      text: string;
      /** `several_kbs` for a file: the ID under which the chatbot kept the file (for `/bluevector add`). */
      fileId?: string;
      /** `several_kbs`: the knowledge bases the sender administers. */
      kbNames?: string[];
      /** `unsupported_format`: the extensions the chatbot accepts, with their dots. */
      extensions?: string[];
    }
  /** Any other answer to the message (a chat answer: the message was not taken as a document). */
  | { kind: 'other'; text: string };

/** A message of the conversation with the chatbot: its text and its `ext` JSON string. */
export interface BotMessage {
  content: string;
  ext?: string | undefined;
}

export const KB_ACK_RE = /^添加到知识库\((.*)\)成功，请等待系统处理。$/s;
const SEVERAL_KBS_FILE_RE = /^上传文件成功， 文件ID:(\d+) 。\n您绑定了多个知识库(\[.*\]), 可以设置默认知识库来自动添加文档到知识库,\n命令格式为：\/bluevector mode auto <KNOWLEDGE_BASE_NAME>$/s;
const SEVERAL_KBS_LINKS_RE = /^您绑定了多个知识库(\[.*\])，请设置默认知识库名称， 命令格式为：\/bluevector mode auto <KNOWLEDGE_BASE_NAME>$/s;
const UNSUPPORTED_RE = /^对不起，暂时只支持(\[.*\])格式的知识库$/s;
export const KB_NO_PERMISSION_RE = /^知识库不存在，或者你（ID：(\d+)）没有这个知识库的权限$/;
export const KB_FILE_REFUSED_TEXT = '对不起，我无法处理文件消息';
export const KB_SERVICE_EXPIRED_TEXT = 'service is expired';
export const KB_ROUND_LIMIT_TEXT = '您发消息速度过快，请稍后再试。';

const BY_ERROR_CODE: Readonly<Record<string, SendRefusalReason>> = {
  service_is_expired: 'service_expired',
  deduct_failed: 'deduct_failed',
  rate_limit_reached: 'round_limit',
  internal_error: 'internal_error',
};

/** Classifies a reply's text (and `ext.ai.error_code`, when given) as an ack, a refusal, or another answer. */
export function classifySendReply(message: BotMessage): SendReply {
  const text = message.content;
  const code = readBotExt(message.ext)?.errorCode;
  const byCode = code ? BY_ERROR_CODE[code] : undefined;
  if (byCode) return { kind: 'refused', reason: byCode, text };
  const ack = KB_ACK_RE.exec(text);
  if (ack) return { kind: 'ack', kbName: ack[1] as string, text };
  if (text === KB_SERVICE_EXPIRED_TEXT) return { kind: 'refused', reason: 'service_expired', text };
  if (text === KB_ROUND_LIMIT_TEXT) return { kind: 'refused', reason: 'round_limit', text };
  if (text === KB_FILE_REFUSED_TEXT) return { kind: 'refused', reason: 'file_refused', text };
  if (KB_NO_PERMISSION_RE.test(text)) return { kind: 'refused', reason: 'no_permission', text };
  const file = SEVERAL_KBS_FILE_RE.exec(text);
  if (file) return { kind: 'refused', reason: 'several_kbs', text, fileId: file[1] as string, kbNames: parsePythonStringList(file[2] as string) ?? [] };
  const links = SEVERAL_KBS_LINKS_RE.exec(text);
  if (links) return { kind: 'refused', reason: 'several_kbs', text, kbNames: parsePythonStringList(links[1] as string) ?? [] };
  const unsupported = UNSUPPORTED_RE.exec(text);
  if (unsupported) return { kind: 'refused', reason: 'unsupported_format', text, extensions: parsePythonStringList(unsupported[1] as string) ?? [] };
  return { kind: 'other', text };
}

/**
 * The chatbot's immediate answer to the message `requestMsgId`, read from one message of the conversation:
 * undefined when that message does not answer it (`ext.ai.request_msg_id` names another message, or none, as
 * on completion notices and read receipts).
 */
export function parseSendReply(message: BotMessage, requestMsgId: string): SendReply | undefined {
  const ext = readBotExt(message.ext);
  if (!ext || ext.requestMsgId === undefined || ext.requestMsgId !== requestMsgId.replace(/^0+(?=\d)/, '')) return undefined;
  return classifySendReply(message);
}
