import { createHash } from 'node:crypto';
import { parse as parseLossless } from 'lossless-json';
import { runCommand } from './chatbot-commands.js';
import type { SandboxContext } from './context.js';
import type { FaultInjector } from './faults.js';
import { Ingestion, type Trace } from './ingestion.js';
import { parseJson } from './json-body.js';
import type { KnowledgeBaseRecord } from './knowledge-bases.js';
import { pyStr, pythonNumber } from './python-format.js';
import type { MessageRecord } from './store.js';
import type { ChatbotRefusal } from './types.js';
import { isPlainObject, type JsonObject } from './validate.js';
import {
  ackText,
  AI_MESSAGE_MEMORY_MS,
  AUDIO_REFUSED_TEXT,
  BOT_ROLE,
  botConfigString,
  DEDUCT_FAILED,
  failureNoticeText,
  FILE_MESSAGE_EXTS,
  FILE_REFUSED_TEXT,
  IMAGE_REFUSED_TEXT,
  INTERNAL_ERROR,
  noticeExtString,
  parseFileExt,
  replyExtString,
  ROUND_LIMIT,
  SAVED_FILE_TTL_MS,
  SERVICE_EXPIRED,
  severalKbsFileText,
  severalKbsLinksText,
  successNoticeText,
  unsupportedFormatText,
} from './vendor-texts.js';

/** Content types that act on another message (READ_ACK, RECALL, APPEND, REPLACE): not messages to answer. */
const OPERATION_TYPES = new Set([9, 10, 11, 12]);

/** A JSON string field as Python's `json.loads` reads it (ints and floats told apart); undefined when not an object. */
function parsePythonObject(text: string): JsonObject | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = parseLossless(text, null, pythonNumber);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `parse_metadata` (`services/openai_service.py:3163-3174` of the vendor's connector): `ext.ai.metadata` with every
 * key and value passed through Python's `str()` (`1.0` stays `1.0`, `true` becomes `True`, an object its repr).
 */
export function metadataOf(ext: JsonObject | undefined): Record<string, string> {
  const ai = ext?.ai;
  const raw = isPlainObject(ai) ? ai.metadata : undefined;
  if (!isPlainObject(raw)) return {};
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, pyStr(v)]));
}

/**
 * The knowledge-base chatbot, after the vendor's `services/openai_service.py` (`handle_chat_message`, :570-634, and
 * `handle_chat_message_try`, :636-700). For each one-to-one message to the chatbot user it:
 * 1. sends a read receipt (content_type 9, `related_mid` = the message) (:577, :2224-2232);
 * 2. stays silent on a message whose `ext.ai.role` is `ai` (:506-511);
 * 3. applies the round limit: the third message in a row that repeats a text the chatbot sent is answered
 *    `您发消息速度过快，请稍后再试。`, later ones not at all (:512-522, :4354-4382);
 * 4. refuses everything while the app is in arrears or its service expired (:667-672, :2550-2562);
 * 5. runs a text starting with `/` as a command (:679-685), a text starting with `http(s)://` as links (:686-689),
 *    a file as a document (:690-691), refuses an audio without text and an image (:692-698), ignores other types,
 *    and answers anything else like a chat (the sandbox has no LLM: a canned reply).
 * Every direct reply carries the reply `ext` (`result: "error"`, `error_code`, `error_message`, `request_msg_id`).
 * Replies are stored before `/message/send` returns; ingestion runs in the background.
 */
export class Chatbot {
  #controller = new AbortController();
  readonly #pending = new Set<Promise<void>>();
  readonly #idleWaiters = new Set<() => void>();
  readonly #ingestion: Ingestion;
  /** Texts the chatbot sent recently, by sha256, until when (`add_ai_message_cnt`, :4366-4369). */
  readonly #aiTexts = new Map<string, number>();
  /** The round counters, by `from:to` (`get_ai_message_round`, :4354-4364). */
  readonly #rounds = new Map<string, { count: number; until: number }>();
  /** Files kept for `/bluevector add`, by `user:fileId` (`save_attachment`, :3031-3035). */
  readonly #savedFiles = new Map<string, { attachment: string; until: number }>();
  readonly #fileIds = new Map<number, number>();

  constructor(
    private readonly ctx: SandboxContext,
    private readonly faults: FaultInjector,
  ) {
    this.#ingestion = new Ingestion(ctx, faults, (trace, doc, failure) => this.#notice(trace, doc.doc_id, failure));
  }

  /** How many downloads, ingestions and notices are in progress. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Resolves when nothing is pending. */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  /** Called for every stored message. Immediate replies are stored before this returns. */
  onMessage(message: MessageRecord): void {
    const { kb, options } = this.ctx;
    if (message.type !== 1 || message.to_id !== kb.chatbotUserId) return;
    // The chatbot's own messages, and an admin send without a sender (it has no one to answer), are not answered.
    if (message.from_user_id === kb.chatbotUserId || message.from_user_id === 0) return;
    if (OPERATION_TYPES.has(message.content_type)) return;
    if (options.chatbot.readReceipts) this.#readReceipt(message);
    const ext = parsePythonObject(message.ext);
    const ai = isPlainObject(ext?.ai) ? ext.ai : undefined;
    if (ai?.role === BOT_ROLE) return;

    const subject = message.content_type === 4 ? this.#dName(message) ?? '' : message.content;
    const round = this.#round(message);
    const forcedRefusal = (reason: ChatbotRefusal) => this.faults.pickChatbot('refuse', subject, [reason]) !== undefined;
    if ((options.chatbot.roundLimit && round === ROUND_LIMIT.limit) || forcedRefusal('round_limit')) {
      this.#answer(message, ROUND_LIMIT.text, ROUND_LIMIT.code);
      return;
    }
    if (options.chatbot.roundLimit && round > ROUND_LIMIT.limit) return;
    if (options.chatbot.deductFailed || forcedRefusal('deduct_failed')) {
      this.#answer(message, options.chatbot.deductFailedText, DEDUCT_FAILED.code);
      return;
    }
    if (options.chatbot.serviceExpired || forcedRefusal('service_expired')) {
      this.#answer(message, SERVICE_EXPIRED.text, SERVICE_EXPIRED.code);
      return;
    }
    switch (message.content_type) {
      case 0:
        this.#onText(message, ext, subject);
        return;
      case 4:
        this.#onFile(message, ext, subject);
        return;
      case 2:
        if (message.content === '') this.#answer(message, AUDIO_REFUSED_TEXT);
        else this.#chat(message);
        return;
      case 1:
        this.#answer(message, IMAGE_REFUSED_TEXT);
        return;
      default:
        return;
    }
  }

  /** Cancels pending ingestion (reset). */
  cancelPending(): void {
    this.#controller.abort();
    this.#controller = new AbortController();
    this.#aiTexts.clear();
    this.#rounds.clear();
    this.#savedFiles.clear();
  }

  /** Cancels pending ingestion and waits until every task has stopped (close). */
  async close(): Promise<void> {
    this.#controller.abort();
    await Promise.allSettled([...this.#pending]);
  }

  #send(to: number, fields: { content_type: number; content: string; ext: string; related_mid?: string }): void {
    this.ctx.store.addMessage({ type: 1, from_user_id: this.ctx.kb.chatbotUserId, to_id: to, attachment: '', config: botConfigString(), ...fields });
  }

  /** A message the chatbot sends: remembered for the round limit (`sendMessageAsync`/`replyMessageAsync`, :4387-4393). */
  #say(to: number, content: string, ext: string): void {
    this.#aiTexts.set(sha256(content), this.ctx.options.now() + AI_MESSAGE_MEMORY_MS);
    this.#send(to, { content_type: 0, content, ext });
  }

  /** A direct reply, with the reply ext. */
  #answer(message: MessageRecord, text: string, errorCode = ''): void {
    this.#say(message.from_user_id, text, replyExtString(text, message.msg_id, errorCode, errorCode ? text : ''));
  }

  /** `lanying_connector.sendReadAck` (lanying_connector.py:587-600): content_type 9, content "", `related_mid`. */
  #readReceipt(message: MessageRecord): void {
    this.#send(message.from_user_id, { content_type: 9, content: '', ext: '', related_mid: message.msg_id });
  }

  /**
   * The sandbox has no LLM: a chat gets a canned answer, with the reply ext a non-streamed answer gets
   * (`result` is "error" on those too, :622-631).
   */
  #chat(message: MessageRecord): void {
    this.#answer(message, `（沙盒模拟回复）我是知识库 ${this.ctx.kb.name} 的 AI 助手，这里不会调用大模型。`);
  }

  /** `get_ai_message_round`: how many messages in a row repeated a text the chatbot sent (0 resets). */
  #round(message: MessageRecord): number {
    const now = this.ctx.options.now();
    for (const [key, until] of this.#aiTexts) if (until <= now) this.#aiTexts.delete(key);
    const key = `${message.from_user_id}:${message.to_id}`;
    const known = (this.#aiTexts.get(sha256(message.content)) ?? 0) > now;
    if (!known) {
      this.#rounds.delete(key);
      return 0;
    }
    const previous = this.#rounds.get(key);
    const count = previous && previous.until > now ? previous.count + 1 : 1;
    this.#rounds.set(key, { count, until: now + AI_MESSAGE_MEMORY_MS });
    return count;
  }

  /** The knowledge base a document message goes to, or the "several knowledge bases" answer. */
  #target(message: MessageRecord, subject: string): { kb: KnowledgeBaseRecord } | { several: string[] } {
    const { kbs } = this.ctx;
    const names = kbs.manageable(message.from_user_id);
    if (this.faults.pickChatbot('refuse', subject, ['several_kbs'])) {
      // As if the sender administered a second knowledge base (the sandbox may have only one).
      return { several: names.length > 1 ? names : [...new Set([...names, this.ctx.kb.name, `${this.ctx.kb.name}-2`])] };
    }
    if (names.length === 1) return { kb: kbs.byName(names[0] as string) as KnowledgeBaseRecord };
    const preferred = kbs.defaults.get(message.from_user_id);
    if (preferred !== undefined && names.includes(preferred)) return { kb: kbs.byName(preferred) as KnowledgeBaseRecord };
    return { several: names };
  }

  #onText(message: MessageRecord, ext: JsonObject | undefined, subject: string): void {
    const content = message.content;
    if (content.startsWith('/')) {
      const disabled = this.faults.pickChatbot('no_commands', content);
      if (disabled) {
        if (disabled.answer !== 'silent') this.#chat(message);
        return;
      }
      const outcome = runCommand(content, {
        kbs: this.ctx.kbs,
        store: this.ctx.store,
        senderId: message.from_user_id,
        deleteDocument: (docId) => this.#delete(docId),
        addSavedFile: (kb, fileId) => this.#addSavedFile(message, kb, fileId),
      });
      if ('reply' in outcome) this.#answer(message, outcome.reply);
      else this.#chat(message);
      return;
    }
    if (content.startsWith('http://') || content.startsWith('https://')) {
      // handle_chat_links (:3176-3221): tokens split on space, CR and LF only.
      const urls = content.split(/[ \r\n]+/).filter((field) => field.startsWith('https://') || field.startsWith('http://'));
      if (urls.length > 0 && this.ctx.kbs.isAppAdmin(message.from_user_id) && this.ctx.kbs.manageable(message.from_user_id).length > 0) {
        const target = this.#target(message, subject);
        if ('several' in target) {
          this.#answer(message, severalKbsLinksText(target.several));
          return;
        }
        const metadata = metadataOf(ext);
        for (const url of urls) this.#start({ message, kb: target.kb, type: 'url', url, originFilename: 'url.html', metadata: { ...metadata }, notified: false });
        this.#answer(message, ackText(target.kb.name));
        return;
      }
    }
    this.#chat(message);
  }

  #dName(message: MessageRecord): string | undefined {
    const attachment = parsePythonObject(message.attachment);
    return typeof attachment?.dName === 'string' ? attachment.dName : undefined;
  }

  /** handle_chat_file (:3111-3161) and check_upload_embedding (:3041-3051). */
  #onFile(message: MessageRecord, ext: JsonObject | undefined, subject: string): void {
    const attachment = parsePythonObject(message.attachment);
    const dName = attachment?.dName;
    if (typeof dName !== 'string') {
      // `attachment['dName']` raises in the vendor's code: the internal-error reply.
      this.#answer(message, INTERNAL_ERROR.text, INTERNAL_ERROR.code);
      return;
    }
    if (!this.ctx.kbs.isAppAdmin(message.from_user_id)) {
      this.#answer(message, FILE_REFUSED_TEXT);
      return;
    }
    if (!FILE_MESSAGE_EXTS.includes(parseFileExt(dName))) {
      this.#answer(message, unsupportedFormatText());
      return;
    }
    const target = this.#target(message, subject);
    if ('several' in target) {
      this.#answer(message, severalKbsFileText(this.#saveFile(message), target.several));
      return;
    }
    const url = typeof attachment?.url === 'string' ? attachment.url : '';
    this.#start({ message, kb: target.kb, type: 'file', url, originFilename: dName, metadata: metadataOf(ext), notified: false });
    this.#answer(message, ackText(target.kb.name));
  }

  #saveFile(message: MessageRecord): number {
    const id = (this.#fileIds.get(message.from_user_id) ?? 0) + 1;
    this.#fileIds.set(message.from_user_id, id);
    this.#savedFiles.set(`${message.from_user_id}:${id}`, { attachment: message.attachment, until: this.ctx.options.now() + SAVED_FILE_TTL_MS });
    return id;
  }

  /** `/bluevector add` (:2766-2788): the kept file is ingested without metadata. */
  #addSavedFile(message: MessageRecord, kb: KnowledgeBaseRecord, fileId: string): boolean {
    const saved = this.#savedFiles.get(`${message.from_user_id}:${fileId}`);
    if (!saved || saved.until <= this.ctx.options.now()) return false;
    let attachment: unknown;
    try {
      attachment = parseJson(saved.attachment);
    } catch {
      return false;
    }
    const fields = isPlainObject(attachment) ? attachment : {};
    const url = typeof fields.url === 'string' ? fields.url : '';
    const dName = typeof fields.dName === 'string' ? fields.dName : '';
    this.#start({ message, kb, type: 'file', url, originFilename: dName, metadata: undefined, notified: false });
    return true;
  }

  /**
   * `delete_doc_from_embedding` (lanying_embedding.py:1499-1522): out of the list at once, storage given back; with a
   * `delete_later` rule, only after its delay.
   */
  #delete(docId: string): void {
    const later = this.faults.pickChatbot('delete_later', docId);
    if (later) {
      this.#track(async (signal) => {
        await this.ctx.lifecycle.sleep(later.delayMs, signal);
        this.#deleteNow(docId);
      });
      return;
    }
    this.#deleteNow(docId);
  }

  #deleteNow(docId: string): void {
    const doc = this.ctx.store.documents.get(docId);
    if (!doc) return;
    this.ctx.store.documents.delete(docId);
    const kb = this.ctx.kbs.byName(doc.kb);
    if (kb && doc.status === 'finish') kb.storageBytes = Math.max(0, kb.storageBytes - (doc.file_size ?? 0));
  }

  #start(trace: Trace): void {
    this.#track((signal) => this.#ingestion.run(trace, signal));
  }

  #notice(trace: Trace, docId: string, failure: string | undefined): void {
    const text = failure === undefined ? successNoticeText(docId, trace.kb.name) : failureNoticeText(docId, trace.kb.name, failure);
    this.#say(trace.message.from_user_id, text, noticeExtString());
  }

  #track(task: (signal: AbortSignal) => Promise<void>): void {
    const signal = this.#controller.signal;
    const promise = task(signal).catch(() => undefined);
    this.#pending.add(promise);
    void promise.finally(() => {
      this.#pending.delete(promise);
      if (this.#pending.size > 0) return;
      for (const resolve of this.#idleWaiters) resolve();
      this.#idleWaiters.clear();
    });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
