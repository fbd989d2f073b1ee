import { promises as fsp } from 'node:fs';
import {
  buildAckReply,
  buildCompletionReply,
  buildFailureReply,
  buildUnsupportedFormatReply,
  isKbSupportedName,
  KB_BOT_ROLE,
  KB_FILE_REFUSED_REPLY,
  kbExtensionOf,
  kbFailureReasonText,
} from '../api/knowledge-base.js';
import { isBluevectorCommand, runBluevectorCommand } from './chatbot-commands.js';
import { isSandboxUrl, type SandboxContext } from './context.js';
import { DownloadFailure, fetchToFile } from './document-fetch.js';
import type { MessageRecord } from './store.js';
import type { KbDocumentState } from './types.js';
import { isPlainObject, type JsonObject } from './validate.js';
import { listZipMembers } from './zip-listing.js';

/** A document's outcome: added, or failed with a status reason such as `download_failed`. */
type Outcome = { ok: true } | { ok: false; reason: string };

/** The bytes of a document, on disk. `temporary` files are removed after use; stored objects are not. */
interface Obtained {
  path: string;
  size: number;
  sha256: string;
  temporary: boolean;
}

function parseObject(text: string): JsonObject | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A metadata value as the real service stores it: everything becomes a string. Strings stay, numbers print as
 * numbers, booleans and null as Python prints them (`True`, `False`, `None`). Objects and arrays become JSON here;
 * the real service uses Python's repr (`{'a': 1}`), which no client should depend on.
 */
export function metadataValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/** `ext.ai.metadata` as stored on a document: a flat object of strings; anything else is no metadata. */
export function metadataOf(ai: JsonObject | undefined): Record<string, string> {
  const raw = ai?.metadata;
  if (!isPlainObject(raw)) return {};
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, metadataValue(v)]));
}

/** Zip members the service skips without a trace. */
function isSkippedMember(name: string): boolean {
  const segments = name.split('/');
  return name.endsWith('/') || segments.includes('__MACOSX') || segments[segments.length - 1] === '.DS_Store';
}

/**
 * The knowledge-base chatbot, as `lanying-kb-ingestion.md` section (a) describes it. It looks at every stored
 * message addressed to the chatbot user and:
 * - ignores group messages, its own messages and messages whose `ext.ai.role` is `ai`;
 * - runs `/bluevector` commands;
 * - from a KB admin, turns a text starting with `http://` or `https://` into one URL document per URL token, and a
 *   file message with a supported `dName` extension into a file document (a zip into one per member);
 * - answers anything else with a canned "LLM" reply (text) or a refusal (files);
 * - acknowledges each accepted message at once, then after `ingestionDelayMs` sends one completion per document
 *   (one per zip).
 * Nothing is deduplicated: the same document sent twice becomes two documents.
 */
export class Chatbot {
  #controller = new AbortController();
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly ctx: SandboxContext) {}

  /** Called for every stored message. Immediate replies are stored before this returns. */
  onMessage(message: MessageRecord): void {
    const { kb } = this.ctx;
    if (message.type !== 1 || message.to_id !== kb.chatbotUserId || message.from_user_id === kb.chatbotUserId) return;
    const ext = parseObject(message.ext);
    const ai = isPlainObject(ext?.ai) ? ext.ai : undefined;
    if (ai?.role === KB_BOT_ROLE) return;
    const isAdmin = kb.adminUserIds.includes(message.from_user_id);
    if (message.content_type === 0) this.#onText(message, isAdmin, ai);
    else if (message.content_type === 4) this.#onFile(message, isAdmin, ai);
    // Other content types (images, audio, commands, ...) are no knowledge-base input: the sandbox bot stays silent.
  }

  /** Cancels pending ingestion (reset). */
  cancelPending(): void {
    this.#controller.abort();
    this.#controller = new AbortController();
  }

  /** Cancels pending ingestion and waits until every task has stopped (close). */
  async close(): Promise<void> {
    this.#controller.abort();
    await Promise.allSettled([...this.#pending]);
  }

  #reply(to: number, text: string, ai: Record<string, unknown>): void {
    this.ctx.store.addMessage({
      type: 1,
      from_user_id: this.ctx.kb.chatbotUserId,
      to_id: to,
      content_type: 0,
      content: text,
      attachment: '',
      ext: JSON.stringify({ ai: { role: KB_BOT_ROLE, ...ai } }),
      config: '',
    });
  }

  /** The synchronous reply to a message. `result: "error"` is set on every non-LLM reply, as the real bot does. */
  #answer(message: MessageRecord, text: string): void {
    this.#reply(message.from_user_id, text, { request_msg_id: message.msg_id, result: 'error' });
  }

  #onText(message: MessageRecord, isAdmin: boolean, ai: JsonObject | undefined): void {
    const content = message.content;
    if (isBluevectorCommand(content)) {
      this.#answer(message, runBluevectorCommand(content, message.from_user_id, this.ctx.kb, this.ctx.store));
      return;
    }
    // Only a text that STARTS with the scheme (no leading whitespace) is a URL submission.
    if (!isAdmin || !/^https?:\/\//.test(content)) {
      this.#reply(message.from_user_id, `（沙盒模拟回复）我是知识库 ${this.ctx.kb.name} 的 AI 助手，这里不会调用大模型。`, { request_msg_id: message.msg_id });
      return;
    }
    const urls = content.split(/\s+/).filter((token) => /^https?:\/\//.test(token));
    const metadata = metadataOf(ai);
    this.#answer(message, buildAckReply(this.ctx.kb.name));
    const docs = urls.map((url) => this.#createDocument(message, { type: 'url', filename: url, source: url, metadata: { ...metadata } }));
    this.#track(async (signal) => {
      for (const doc of docs) await this.#ingestSingle(message, doc, signal, () => this.#fetch(doc.source, signal));
    });
  }

  #onFile(message: MessageRecord, isAdmin: boolean, ai: JsonObject | undefined): void {
    if (!isAdmin) {
      this.#answer(message, KB_FILE_REFUSED_REPLY);
      return;
    }
    const attachment = parseObject(message.attachment) ?? {};
    const dName = typeof attachment.dName === 'string' ? attachment.dName : '';
    const url = typeof attachment.url === 'string' ? attachment.url : '';
    if (!isKbSupportedName(dName)) {
      this.#answer(message, buildUnsupportedFormatReply());
      return;
    }
    this.#answer(message, buildAckReply(this.ctx.kb.name));
    if (kbExtensionOf(dName) === 'zip') {
      // The zip's own document holds its place until the archive is read; then its members replace it.
      const placeholder = this.#createDocument(message, { type: 'file', filename: dName, source: url, metadata: {} });
      this.#track((signal) => this.#ingestZip(message, placeholder, signal));
      return;
    }
    const doc = this.#createDocument(message, { type: 'file', filename: dName, source: url, metadata: metadataOf(ai) });
    this.#track((signal) => this.#ingestSingle(message, doc, signal, () => this.#obtainAttachment(message, url, signal)));
  }

  #createDocument(message: MessageRecord, fields: Pick<KbDocumentState, 'type' | 'filename' | 'source' | 'metadata'> & { archive?: string }): KbDocumentState {
    const doc: KbDocumentState = {
      doc_id: this.ctx.store.nextDocId(),
      ...fields,
      status: 'wait',
      msg_id: message.msg_id,
      from_user_id: message.from_user_id,
      created_at: this.ctx.options.now(),
    };
    this.ctx.store.documents.set(doc.doc_id, doc);
    return doc;
  }

  #track(task: (signal: AbortSignal) => Promise<void>): void {
    const signal = this.#controller.signal;
    const promise = task(signal).catch(() => undefined);
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }

  /** Waits out the rest of the ingestion delay, counted from `started`. */
  async #waitUntilDue(started: number, signal: AbortSignal): Promise<void> {
    const left = this.ctx.options.ingestionDelayMs - (this.ctx.options.now() - started);
    await this.ctx.lifecycle.sleep(Math.max(0, left), signal);
  }

  async #ingestSingle(message: MessageRecord, doc: KbDocumentState, signal: AbortSignal, obtain: () => Promise<Obtained>): Promise<void> {
    if (signal.aborted) return;
    const started = this.ctx.options.now();
    doc.status = 'processing';
    let outcome: Outcome;
    try {
      const got = await obtain();
      doc.file_size = got.size;
      doc.sha256 = got.sha256;
      if (got.temporary) await fsp.rm(got.path, { force: true });
      outcome = { ok: true };
    } catch (error) {
      if (signal.aborted) return;
      outcome = { ok: false, reason: error instanceof DownloadFailure ? error.reason : 'exception' };
    }
    await this.#waitUntilDue(started, signal);
    this.#finish(doc, outcome);
    this.#notify(message, doc.doc_id, outcome);
  }

  async #ingestZip(message: MessageRecord, placeholder: KbDocumentState, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const started = this.ctx.options.now();
    placeholder.status = 'processing';
    let got: Obtained;
    try {
      got = await this.#obtainAttachment(message, placeholder.source, signal);
    } catch (error) {
      if (signal.aborted) return;
      const outcome: Outcome = { ok: false, reason: error instanceof DownloadFailure ? error.reason : 'exception' };
      await this.#waitUntilDue(started, signal);
      this.#finish(placeholder, outcome);
      this.#notify(message, placeholder.doc_id, outcome);
      return;
    }
    let members;
    try {
      members = (await listZipMembers(got.path)).filter((m) => !isSkippedMember(m.name));
    } catch {
      // Not a readable zip (ZipFormatError) or unreadable from disk: the zip's own document fails below.
      members = undefined;
    } finally {
      if (got.temporary) await fsp.rm(got.path, { force: true });
    }
    if (!members || members.length === 0) {
      // An unreadable or empty archive: the zip's own document fails.
      await this.#waitUntilDue(started, signal);
      const outcome: Outcome = { ok: false, reason: 'exception' };
      this.#finish(placeholder, outcome);
      this.#notify(message, placeholder.doc_id, outcome);
      return;
    }
    this.ctx.store.documents.delete(placeholder.doc_id);
    // Members carry no metadata. A nested zip is not expanded again: it counts as an unsupported member.
    const docs = members.map((member) => {
      const doc = this.#createDocument(message, { type: 'file', filename: member.name, source: placeholder.source, metadata: {}, archive: placeholder.filename });
      doc.status = 'processing';
      doc.file_size = member.uncompressedSize;
      const ext = kbExtensionOf(member.name);
      const outcome: Outcome = isKbSupportedName(member.name) && ext !== 'zip' ? { ok: true } : { ok: false, reason: 'bad_ext' };
      return { doc, outcome };
    });
    await this.#waitUntilDue(started, signal);
    for (const { doc, outcome } of docs) this.#finish(doc, outcome);
    // One notification per zip: it names the first member that was added, else the first member.
    const named = docs.find((d) => d.outcome.ok) ?? (docs[0] as (typeof docs)[number]);
    this.#notify(message, named.doc.doc_id, named.outcome);
  }

  #finish(doc: KbDocumentState, outcome: Outcome): void {
    doc.status = outcome.ok ? 'finish' : 'error';
    if (!outcome.ok) doc.reason = outcome.reason;
  }

  #notify(message: MessageRecord, docId: string, outcome: Outcome): void {
    const kbName = this.ctx.kb.name;
    const text = outcome.ok ? buildCompletionReply(docId, kbName) : buildFailureReply(docId, kbName, kbFailureReasonText(outcome.reason));
    // The completion carries no request id: only the role.
    this.#reply(message.from_user_id, text, {});
  }

  #fetch(url: string, signal: AbortSignal): Promise<Obtained> {
    const { options } = this.ctx;
    return fetchToFile(url, {
      dispatcher: this.ctx.dispatcher,
      timeoutMs: options.urlFetchTimeoutMs,
      maxBytes: options.ingestionMaxBytes,
      tmpPath: this.ctx.storage.tempPath(),
      signal,
    }).then((f) => ({ path: f.path, size: f.size, sha256: f.sha256, temporary: true }));
  }

  /**
   * The bytes of a file message's `attachment.url`. A sandbox download URL is read from storage directly. It is
   * strict: the `file_sign` must be valid, its upload slot must have been asked by this message's sender for the
   * chatbot (`to_id` = chatbot, `to_type` 1), and the object must have been uploaded; otherwise `download_failed`.
   * (The newest connector decodes the same claims; the notes infer that the service checks them.) Any other URL
   * is fetched like a page.
   */
  async #obtainAttachment(message: MessageRecord, url: string, signal: AbortSignal): Promise<Obtained> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new DownloadFailure(`attachment.url is not a URL: ${url}`);
    }
    if (!isSandboxUrl(this.ctx, target) || target.pathname !== '/file/download/chat') return this.#fetch(url, signal);
    const claims = this.ctx.signer.readFileSign(target.searchParams.get('file_sign') ?? '');
    if (!claims) throw new DownloadFailure('file_sign is not valid');
    if (claims.uploader !== message.from_user_id || claims.toId !== this.ctx.kb.chatbotUserId || claims.toType !== 1) {
      throw new DownloadFailure('the upload slot was not asked by the sender for the chatbot');
    }
    const object = this.ctx.store.objects.get(claims.key);
    if (!object) throw new DownloadFailure('the object was never uploaded');
    if (object.size > this.ctx.options.ingestionMaxBytes) throw new DownloadFailure(`the object is over the ${this.ctx.options.ingestionMaxBytes}-byte limit`);
    return { path: object.path, size: object.size, sha256: object.sha256, temporary: false };
  }
}
