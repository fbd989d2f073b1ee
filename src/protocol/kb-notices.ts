/**
 * The completion notice: the message the chatbot sends when a document it accepted has been processed, one per
 * accepted message (per URL for a text of several URLs; one for a whole zip). Vendor source,
 * `blockmessage/lanying-connector` branch `lanying`:
 * - `services/openai_service.py:103`: `文章（ID：{doc_id}）已加入知识库 {embedding_name}，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ`
 * - `services/openai_service.py:105`: `文章（ID：{doc_id}）加入知识库 {embedding_name}失败：{message}`
 * - the failure messages (`lanying_tasks.py:74,133,344,360,390-405`): `download failed`, `upload embedding file
 *   error`, `download file error`, `storage limit`, `exception`, `bad_authorization`, `no_quota`, `deduct_failed`.
 * - only the first document of a trace to finish is notified (`openai_service.py:97-100`); a zip whose members are
 *   all unsupported, an empty zip and a corrupt zip get no notice at all (`lanying_tasks.py:76-118`).
 */

/** The failure messages the vendor's worker sends, in the order of `lanying_tasks.py`. */
export const KB_FAILURE_REASONS = Object.freeze([
  'download failed',
  'upload embedding file error',
  'download file error',
  'storage limit',
  'exception',
  'bad_authorization',
  'no_quota',
  'deduct_failed',
] as const);

export type KbFailureReason = (typeof KB_FAILURE_REASONS)[number];

export type CompletionNotice =
  | { docId: string; kbName: string; ok: true }
  /** `reason` is the vendor's message text; one of `KB_FAILURE_REASONS` unless the service has new ones. */
  | { docId: string; kbName: string; ok: false; reason: string };

/** Whether a failure reason is one the vendor's code can send. */
export function isKnownFailureReason(reason: string): reason is KbFailureReason {
  return (KB_FAILURE_REASONS as readonly string[]).includes(reason);
}

const SUCCESS_TAIL = '，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ';
const HEAD_RE = /^文章（ID：([^）\s]+)）/;
const SUCCESS_MIDDLE = '已加入知识库 ';
const FAILURE_MIDDLE = '加入知识库 ';

/**
 * Parses a completion notice. Undefined when the text is not one. The success text is matched exactly; should the
 * service ever change the words after the knowledge-base name, a success still parses when the name is followed
 * by `，`. A failure's knowledge-base name is the text before the last `失败：` that is followed by a known reason
 * (else before the first `失败：`).
 */
export function parseCompletionNotice(text: string): CompletionNotice | undefined {
  const head = HEAD_RE.exec(text);
  if (!head) return undefined;
  const docId = head[1] as string;
  const rest = text.slice(head[0].length);
  if (rest.startsWith(SUCCESS_MIDDLE)) {
    const tail = rest.slice(SUCCESS_MIDDLE.length);
    if (tail.endsWith(SUCCESS_TAIL)) return { docId, kbName: tail.slice(0, -SUCCESS_TAIL.length), ok: true };
    const comma = tail.indexOf('，');
    if (comma > 0) return { docId, kbName: tail.slice(0, comma), ok: true };
    return undefined;
  }
  if (!rest.startsWith(FAILURE_MIDDLE)) return undefined;
  const tail = rest.slice(FAILURE_MIDDLE.length);
  for (const reason of KB_FAILURE_REASONS) {
    const ending = `失败：${reason}`;
    if (tail.endsWith(ending) && tail.length > ending.length) return { docId, kbName: tail.slice(0, -ending.length), ok: false, reason };
  }
  const at = tail.indexOf('失败：');
  if (at <= 0) return undefined;
  return { docId, kbName: tail.slice(0, at), ok: false, reason: tail.slice(at + '失败：'.length) };
}
