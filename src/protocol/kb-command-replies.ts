import { readBotExt } from './bot-ext.js';
import { KB_NO_PERMISSION_RE, KB_ROUND_LIMIT_TEXT, KB_SERVICE_EXPIRED_TEXT, type BotMessage } from './kb-send-replies.js';
import { parsePythonStringList } from './python-repr.js';

/**
 * The chatbot's answers to `/bluevector` commands. Vendor source: `blockmessage/lanying-connector` branch
 * `lanying`, `services/openai_service.py` unless noted. Each parser takes the reply's text, or the message (text
 * and `ext`), and returns undefined for a text it does not know.
 */

/** A command the chatbot did not carry out, for a reason every command shares. */
export type CommandFailureReason =
  /** `知识库不存在，或者你（ID：…）没有这个知识库的权限` (:3061): no such KB, or the sender does not administer it. */
  | 'no_permission'
  /** `错误：命令格式不正确。…` (:2889-2890): too few words for the command. */
  | 'format_error'
  /** `命令执行失败` (:2746): the command raised. */
  | 'command_failed'
  | 'service_expired'
  | 'deduct_failed'
  | 'round_limit'
  | 'internal_error';

export interface CommandFailure {
  ok: false;
  reason: CommandFailureReason;
  text: string;
}

export const KB_FORMAT_ERROR_TEXT = '错误：命令格式不正确。\n可以使用 /help 或者 /+空格 查看命令说明。';
export const KB_COMMAND_FAILED_TEXT = '命令执行失败';

type ReplyInput = string | BotMessage;

function textOf(input: ReplyInput): { text: string; errorCode: string | undefined } {
  if (typeof input === 'string') return { text: input, errorCode: undefined };
  return { text: input.content, errorCode: readBotExt(input.ext)?.errorCode };
}

/** The failures every command shares; undefined when the reply is none of them. */
export function parseCommandFailure(input: ReplyInput): CommandFailure | undefined {
  const { text, errorCode } = textOf(input);
  if (errorCode === 'service_is_expired' || text === KB_SERVICE_EXPIRED_TEXT) return { ok: false, reason: 'service_expired', text };
  if (errorCode === 'deduct_failed') return { ok: false, reason: 'deduct_failed', text };
  if (errorCode === 'rate_limit_reached' || text === KB_ROUND_LIMIT_TEXT) return { ok: false, reason: 'round_limit', text };
  if (errorCode === 'internal_error') return { ok: false, reason: 'internal_error', text };
  if (KB_NO_PERMISSION_RE.test(text)) return { ok: false, reason: 'no_permission', text };
  if (text === KB_FORMAT_ERROR_TEXT) return { ok: false, reason: 'format_error', text };
  if (text === KB_COMMAND_FAILED_TEXT) return { ok: false, reason: 'command_failed', text };
  return undefined;
}

// ---- /bluevector status <KB> (:2847-2857) ----

/** One line of the status reply. */
export interface StatusDocument {
  docId: string;
  filename: string;
  /** `wait`, `processing`, `finish` or `error` in the vendor's worker (`lanying_tasks.py`). */
  status: string;
  /** Blocks processed; undefined where the reply shows `-` (not counted yet). */
  progressFinished: number | undefined;
  /** Blocks in the document; undefined where the reply shows `-`. */
  progressTotal: number | undefined;
}

export interface StatusReply {
  ok: true;
  /** Every document of the knowledge base, not only the ones listed. */
  totalDocuments: number;
  /** The most recent documents (at most 20), oldest first, in the order they were added to the list. */
  documents: StatusDocument[];
}

/**
 * `文档总数:{total}\n最近文档列表为:\n` then one line per document,
 * `文档ID:{doc_id}, 文件名:{filename}, 状态:{status}, 进度：{progress_finish or -}/{progress_total or -}`: ASCII
 * colons and commas except the full-width colon after 进度. The list is the last 20 entries of an `rpush` list
 * (`lanying_embedding.py:1495-1497,1684-1699`), so the oldest comes first.
 */
const STATUS_HEAD_RE = /^文档总数:(\d+)\n最近文档列表为:\n/;
const STATUS_LINE_RE = /^文档ID:(.+?), 文件名:([\s\S]*), 状态:([^,\n]*), 进度：(\d+|-)\/(\d+|-)$/;

const progress = (value: string) => (value === '-' ? undefined : Number(value));

/** Parses the status reply; a common failure (no permission, ...) is returned as such. */
export function parseStatusReply(input: ReplyInput): StatusReply | CommandFailure | undefined {
  const failure = parseCommandFailure(input);
  if (failure) return failure;
  const { text } = textOf(input);
  const head = STATUS_HEAD_RE.exec(text);
  if (!head) return undefined;
  const documents: StatusDocument[] = [];
  // A file name may hold a newline (a zip member's name can): a line that does not start a new entry continues
  // the previous one.
  const entries: string[] = [];
  for (const line of text.slice(head[0].length).split('\n')) {
    if (line.startsWith('文档ID:') || entries.length === 0) entries.push(line);
    else entries[entries.length - 1] += `\n${line}`;
  }
  for (const entry of entries) {
    if (entry === '') continue;
    const m = STATUS_LINE_RE.exec(entry);
    if (!m) return undefined;
    documents.push({ docId: m[1] as string, filename: m[2] as string, status: m[3] as string, progressFinished: progress(m[4] as string), progressTotal: progress(m[5] as string) });
  }
  return { ok: true, totalDocuments: Number(head[1]), documents };
}

// ---- /bluevector metadata get <DOC_ID> (:2813-2827) and set (:2829-2845) ----

export type MetadataGetReply =
  | { ok: true; metadata: Record<string, string> }
  /**
   * `document_not_found`: `文档不存在`, the ID names no knowledge base of this app (`lanying_embedding.py:1592-1599`);
   * `doc_id_not_exist`: `文档metadata获取失败：doc_id not exist`, the knowledge base has no such document;
   * `failed`: another `文档metadata获取失败：…` message.
   */
  | { ok: false; reason: 'document_not_found' | 'doc_id_not_exist' | 'failed' | CommandFailureReason; text: string };

const METADATA_PREFIX = '文档metadata为：\n';
const METADATA_GET_FAILED = '文档metadata获取失败：';
export const KB_DOCUMENT_NOT_FOUND_TEXT = '文档不存在';

/**
 * Parses the `metadata get` reply: `文档metadata为：\n` + Python's `json.dumps(metadata, ensure_ascii=False)`.
 * Values are strings (the chatbot stores `str(v)`, `openai_service.py:3163-3174`); a value of another JSON type is
 * given as its JSON text.
 */
export function parseMetadataGetReply(input: ReplyInput): MetadataGetReply | undefined {
  const failure = parseCommandFailure(input);
  if (failure) return failure as MetadataGetReply;
  const { text } = textOf(input);
  if (text === KB_DOCUMENT_NOT_FOUND_TEXT) return { ok: false, reason: 'document_not_found', text };
  if (text.startsWith(METADATA_GET_FAILED)) {
    return { ok: false, reason: text.slice(METADATA_GET_FAILED.length) === 'doc_id not exist' ? 'doc_id_not_exist' : 'failed', text };
  }
  if (!text.startsWith(METADATA_PREFIX)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(METADATA_PREFIX.length));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) metadata[key] = typeof value === 'string' ? value : JSON.stringify(value);
  return { ok: true, metadata };
}

export type MetadataSetReply =
  | { ok: true }
  | { ok: false; reason: 'document_not_found' | 'doc_id_not_exist' | 'failed' | CommandFailureReason; text: string };

export const KB_METADATA_SET_OK_TEXT = '文档metadata设置成功';
const METADATA_SET_FAILED = '文档metadata设置失败：';

/** Parses the `metadata set` reply: `文档metadata设置成功`. */
export function parseMetadataSetReply(input: ReplyInput): MetadataSetReply | undefined {
  const failure = parseCommandFailure(input);
  if (failure) return failure as MetadataSetReply;
  const { text } = textOf(input);
  if (text === KB_METADATA_SET_OK_TEXT) return { ok: true };
  if (text === KB_DOCUMENT_NOT_FOUND_TEXT) return { ok: false, reason: 'document_not_found', text };
  if (text.startsWith(METADATA_SET_FAILED)) {
    return { ok: false, reason: text.slice(METADATA_SET_FAILED.length) === 'doc_id not exist' ? 'doc_id_not_exist' : 'failed', text };
  }
  return undefined;
}

// ---- /bluevector delete <KB> <DOC_ID> (:2793-2808) ----

export type DeleteReply =
  /** `删除成功，请等待系统处理。`: the document left the list; its data is removed in the background. */
  | { ok: true }
  /** `doc_not_found`: `文档ID(doc_id)不存在`, literally (the placeholder is never filled in). `kb_not_found`: `知识库({kb})不存在`. */
  | { ok: false; reason: 'doc_not_found' | 'kb_not_found' | CommandFailureReason; text: string };

export const KB_DELETE_OK_TEXT = '删除成功，请等待系统处理。';
export const KB_DOC_ID_NOT_FOUND_TEXT = '文档ID(doc_id)不存在';
const KB_NOT_FOUND_RE = /^知识库\((.*)\)不存在$/s;

export function parseDeleteReply(input: ReplyInput): DeleteReply | undefined {
  const failure = parseCommandFailure(input);
  if (failure) return failure as DeleteReply;
  const { text } = textOf(input);
  if (text === KB_DELETE_OK_TEXT) return { ok: true };
  if (text === KB_DOC_ID_NOT_FOUND_TEXT) return { ok: false, reason: 'doc_not_found', text };
  if (KB_NOT_FOUND_RE.test(text)) return { ok: false, reason: 'kb_not_found', text };
  return undefined;
}

// ---- /bluevector mode auto <KB> (:2749-2764) ----

export type ModeAutoReply =
  | { ok: true }
  /** `设置失败：「{name}」不是合法知识库名称， 合法值为：[…]`: `kbNames` are the knowledge bases the sender administers. */
  | { ok: false; reason: 'invalid_kb'; kbName: string; kbNames: string[]; text: string }
  | { ok: false; reason: CommandFailureReason; text: string };

export const KB_MODE_AUTO_OK_TEXT = '设置成功';
const MODE_AUTO_FAILED_RE = /^设置失败：「(.*)」不是合法知识库名称， 合法值为：(\[.*\])$/s;

export function parseModeAutoReply(input: ReplyInput): ModeAutoReply | undefined {
  const failure = parseCommandFailure(input);
  if (failure) return failure as ModeAutoReply;
  const { text } = textOf(input);
  if (text === KB_MODE_AUTO_OK_TEXT) return { ok: true };
  const m = MODE_AUTO_FAILED_RE.exec(text);
  const kbNames = m ? parsePythonStringList(m[2] as string) : undefined;
  if (m && kbNames) return { ok: false, reason: 'invalid_kb', kbName: m[1] as string, kbNames, text };
  return undefined;
}

// ---- /bluevector info (:2862-2878) ----

export interface InfoKnowledgeBase {
  name: string;
  /** `分片大小`: the block size, in characters. */
  blockSize: number;
  /** `存储空间`: storage used, in MB (rounded to 3 decimals by the chatbot). */
  storageMb: number;
}

export type InfoReply = { ok: true; knowledgeBases: InfoKnowledgeBase[] } | CommandFailure;

const INFO_NONE = '当前预设未绑定知识库';
const INFO_HEAD = '当前预设绑定的知识库为：';
const INFO_LINE_RE = /^知识库名称: (.*), 分片大小:(\d+)字, 存储空间:([\d.]+(?:e-?\d+)?)MB$/;

/** Parses the `info` reply: `当前预设未绑定知识库`, or a head line and one line per bound knowledge base. */
export function parseInfoReply(input: ReplyInput): InfoReply | undefined {
  const failure = parseCommandFailure(input);
  if (failure) return failure;
  const { text } = textOf(input);
  if (text === INFO_NONE) return { ok: true, knowledgeBases: [] };
  const [head, ...lines] = text.split('\n');
  if (head !== INFO_HEAD) return undefined;
  const knowledgeBases: InfoKnowledgeBase[] = [];
  for (const line of lines) {
    const m = INFO_LINE_RE.exec(line);
    if (!m) return undefined;
    knowledgeBases.push({ name: m[1] as string, blockSize: Number(m[2]), storageMb: Number(m[3]) });
  }
  return { ok: true, knowledgeBases };
}

/** Whether a reply is the command help (`lanying_command.py:134-163`, `用法：/command [OPTION] [ARGS]…`). */
export function isCommandHelpReply(input: ReplyInput): boolean {
  return textOf(input).text.startsWith('用法：/command [OPTION] [ARGS]\n');
}

/** `/bluevector help` from someone who is not an app knowledge-base admin (:2887). */
const KB_HELP_REFUSED_RE = /^无法执行此命令，用户（ID：(\d+)）不是企业知识库管理员。$/;

/** The user ID named by a refused `/bluevector help` (the sender is no app knowledge-base admin), or undefined. */
export function parseHelpRefusedReply(input: ReplyInput): number | undefined {
  const match = KB_HELP_REFUSED_RE.exec(textOf(input).text);
  return match ? Number(match[1]) : undefined;
}
