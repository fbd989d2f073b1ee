import { isSafeNumber, parse as parseLossless } from 'lossless-json';

/**
 * The `ext` the chatbot puts on its replies. Vendor source: `blockmessage/lanying-connector` branch `lanying`,
 * `services/openai_service.py`:
 * - a direct reply (`handle_chat_message`, :622-631, then `replyMessageAsync`, :4391-4400):
 *   `{"ai": {"stream": false, "role": "ai", "result": "error", "error_code": <code or "">,
 *   "error_message": <the text or the error message>, "request_msg_id": <the message it answers>}}`;
 * - a completion notice (`trace_finish`, :103,105): `{"ai": {"role": "ai"}}`, no request id.
 * Python writes it with `json.dumps(ext, ensure_ascii=False)` (`lanying_connector.py:577`).
 *
 * `request_msg_id` is the incoming message's `msgId`, a 64-bit ID: it is read here without passing through a
 * JavaScript number, and returned as its decimal text (a JSON string holding digits is accepted too).
 */
export interface BotExt {
  role: string | undefined;
  /** The message this reply answers (decimal text), when the ext names one. */
  requestMsgId: string | undefined;
  /** `ai.error_code`: `service_is_expired`, `deduct_failed`, `rate_limit_reached`, `internal_error`, or "". */
  errorCode: string | undefined;
  result: string | undefined;
}

/** The role every chatbot reply carries in `ext.ai.role`; the chatbot ignores incoming messages that carry it. */
export const KB_BOT_ROLE = 'ai';

function keepIntegersAsText(text: string): unknown {
  return /^-?\d+$/.test(text) ? text : isSafeNumber(text) ? Number(text) : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads a message's `ext` (a JSON string). Undefined when it is empty, not JSON, or has no `ai` object. */
export function readBotExt(ext: string | undefined): BotExt | undefined {
  if (!ext) return undefined;
  let parsed: unknown;
  try {
    parsed = parseLossless(ext, null, keepIntegersAsText);
  } catch {
    return undefined;
  }
  const ai = isObject(parsed) ? parsed.ai : undefined;
  if (!isObject(ai)) return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const id = ai.request_msg_id;
  return {
    role: text(ai.role),
    requestMsgId: typeof id === 'string' && /^\d+$/.test(id) ? id.replace(/^0+(?=\d)/, '') : undefined,
    errorCode: text(ai.error_code),
    result: text(ai.result),
  };
}
