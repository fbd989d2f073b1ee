/**
 * The knowledge-base chatbot's side of the conversation: the file types it accepts, its size limit, and the exact
 * texts of its replies (`lanying-kb-ingestion.md`, sections a.5 to a.7 and b.3).
 *
 * Shared by the sandbox, which builds these replies, and by the sync client, which parses them, so that the two
 * cannot drift apart. The real bot is a Python service; its texts mix ASCII and full-width punctuation exactly as
 * reproduced here.
 */

/** Lower-case extensions, without the dot, that the chatbot accepts (from `allow_exts()`, plus `zip` archives). */
export const KB_SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze([
  'html',
  'htm',
  'csv',
  'txt',
  'md',
  'pdf',
  'docx',
  'doc',
  'xlsx',
  'xls',
  'pptx',
  'zip',
]);

/** The chatbot's download limit for one document (`FILE_STORAGE_MAX_UPLOAD_FILE_SIZE`): 50 MiB. */
export const KB_MAX_DOCUMENT_BYTES = 52_428_800;

/** The reply to a file from a user who does not administer a knowledge base. */
export const KB_FILE_REFUSED_REPLY = '对不起，我无法处理文件消息';

/** The reply to `/bluevector delete` when it worked. */
export const KB_DELETE_OK_REPLY = '删除成功，请等待系统处理。';

/** The reply to a command naming an unknown document. Literally this: the real bot never fills in the placeholder. */
export const KB_DOC_NOT_FOUND_REPLY = '文档ID(doc_id)不存在';

/** The `ext` of every bot reply carries `ai.role == "ai"`; the bot ignores incoming messages that do. */
export const KB_BOT_ROLE = 'ai';

const SUPPORTED = new Set(KB_SUPPORTED_EXTENSIONS);

/** The lower-case extension of a file name, without the dot; "" when there is none. */
export function kbExtensionOf(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  // Like Python's os.path.splitext: a leading dot (".md") starts a name, not an extension.
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** Whether the chatbot accepts a document with this lower-case extension (without the dot). */
export function isKbSupportedExtension(ext: string): boolean {
  return SUPPORTED.has(ext.toLowerCase());
}

/** Whether the chatbot accepts a document with this display name (`dName`), by its extension. */
export function isKbSupportedName(name: string): boolean {
  return SUPPORTED.has(kbExtensionOf(name));
}

/** The immediate acknowledgement of an accepted document message. */
export function buildAckReply(kbName: string): string {
  return `添加到知识库(${kbName})成功，请等待系统处理。`;
}

/** The completion notification of a document that was added. */
export function buildCompletionReply(docId: string, kbName: string): string {
  return `文章（ID：${docId}）已加入知识库 ${kbName}，请等待处理完成。`;
}

/** The completion notification of a document that failed, e.g. with reason `download failed`. */
export function buildFailureReply(docId: string, kbName: string, reason: string): string {
  return `文章（ID：${docId}）加入知识库 ${kbName}失败：${reason}`;
}

/**
 * The reply to a file whose extension is not accepted. The real bot formats its Python list of extensions,
 * so the list reads `['.html', '.htm', ...]`.
 */
export function buildUnsupportedFormatReply(extensions: readonly string[] = KB_SUPPORTED_EXTENSIONS): string {
  return `对不起，暂时只支持[${extensions.map((e) => `'.${e}'`).join(', ')}]格式的知识库`;
}

/** The reply to a command naming a knowledge base the sender does not administer (or that does not exist). */
export function buildNoPermissionReply(userId: number): string {
  return `知识库不存在，或者你（ID：${userId}）没有这个知识库的权限`;
}

/**
 * The text of a document failure reason as the completion notification shows it: the notification uses words
 * (`download failed`) where the document status uses identifiers (`download_failed`).
 */
export function kbFailureReasonText(reason: string): string {
  if (reason === 'download_failed') return 'download failed';
  if (reason === 'storage_limit') return 'storage limit';
  return reason;
}

export type CompletionReply = { docId: string; kbName: string; ok: true } | { docId: string; kbName: string; ok: false; reason: string };

// Full-width brackets and colon as the bot writes them; ASCII ones are accepted too, in case a deployment differs.
const ID_PART = String.raw`文章[（(]ID[：:]\s*(\d+-\d+)[）)]`;
const FAILURE_RE = new RegExp(String.raw`^${ID_PART}加入知识库 (.+?)失败[：:]\s*([\s\S]*)$`);
const SUCCESS_RE = new RegExp(String.raw`^${ID_PART}已加入知识库 (.+?)(?:[，,][\s\S]*)?$`);

/** Parses a completion notification. Undefined when the text is not one. */
export function parseCompletionReply(text: string): CompletionReply | undefined {
  const trimmed = text.trim();
  const failure = FAILURE_RE.exec(trimmed);
  if (failure) return { docId: failure[1] as string, kbName: failure[2] as string, ok: false, reason: (failure[3] as string).trim() };
  const success = SUCCESS_RE.exec(trimmed);
  if (success) return { docId: success[1] as string, kbName: (success[2] as string).trim(), ok: true };
  return undefined;
}

const ACK_RE = /^添加到知识库[(（](.*)[)）]成功/;

/** Whether a text is the immediate acknowledgement, for the knowledge base `kbName` when given. */
export function isAckReply(text: string, kbName?: string): boolean {
  const match = ACK_RE.exec(text.trim());
  if (!match) return false;
  return kbName === undefined || match[1] === kbName;
}

/** One line of the `/bluevector status` reply. */
export interface StatusReplyDocument {
  docId: string;
  filename: string;
  status: string;
  /** Blocks finished / blocks in total. */
  finished: number;
  total: number;
}

export interface StatusReply {
  kbName: string;
  /** Every document in the knowledge base, not only the ones listed. */
  totalDocuments: number;
  /** The most recent documents (at most 20), newest first. */
  documents: StatusReplyDocument[];
}

/** The most documents `/bluevector status` lists. */
export const KB_STATUS_LIMIT = 20;

/** The reply to `/bluevector status <KB>`: a count line, then one line per document, newest first. */
export function buildStatusReply(reply: StatusReply): string {
  const lines = [`知识库 ${reply.kbName} 共有 ${reply.totalDocuments} 个文档，最近 ${reply.documents.length} 个文档如下：`];
  for (const doc of reply.documents) {
    lines.push(`文档ID：${doc.docId}，文件名：${doc.filename}，状态：${doc.status}，进度：${doc.finished}/${doc.total}`);
  }
  return lines.join('\n');
}

const STATUS_HEAD_RE = /^知识库 (.+) 共有 (\d+) 个文档/;
const STATUS_LINE_RE = /^文档ID[：:](\d+-\d+)[，,]文件名[：:](.*)[，,]状态[：:](\w+)[，,]进度[：:](\d+)\/(\d+)$/;

/** Parses a `/bluevector status` reply. Undefined when the text is not one. */
export function parseStatusReply(text: string): StatusReply | undefined {
  const [head, ...rest] = text.trim().split('\n');
  const headMatch = STATUS_HEAD_RE.exec(head ?? '');
  if (!headMatch) return undefined;
  const documents: StatusReplyDocument[] = [];
  for (const line of rest) {
    const m = STATUS_LINE_RE.exec(line.trim());
    if (!m) continue;
    documents.push({ docId: m[1] as string, filename: m[2] as string, status: m[3] as string, finished: Number(m[4]), total: Number(m[5]) });
  }
  return { kbName: headMatch[1] as string, totalDocuments: Number(headMatch[2]), documents };
}
