import { promises as fsp } from 'node:fs';
import { isSandboxUrl, type SandboxContext } from './context.js';
import { DownloadFailure, fetchToFile } from './document-fetch.js';
import type { FaultInjector } from './faults.js';
import type { KnowledgeBaseRecord } from './knowledge-bases.js';
import type { MessageRecord } from './store.js';
import type { ChatbotFailure, KbDocumentState } from './types.js';
import { ALLOW_EXTS, DOCUMENT_FAILURES, parseFileExt } from './vendor-texts.js';
import { listZipMembers } from './zip-listing.js';

/** The bytes of a document, on disk. `temporary` files are removed after use; stored objects are not. */
interface Obtained {
  path: string;
  size: number;
  sha256: string;
  temporary: boolean;
}

/**
 * One `add_embedding_file` task (`lanying_tasks.py:44-138` of the vendor's connector): a file message, or one URL
 * of a text. Its first document to finish sends the one completion notice of the trace (`trace_finish`,
 * `services/openai_service.py:83-105`).
 */
export interface Trace {
  message: MessageRecord;
  kb: KnowledgeBaseRecord;
  type: 'url' | 'file';
  /** The URL, or the attachment's `url`. */
  url: string;
  /** `dName` for a file; `url.html` for a URL (:3202). */
  originFilename: string;
  /** Set for single files and URLs (:3154,3203); `/bluevector add` and zip members carry none. */
  metadata: Record<string, string> | undefined;
  notified: boolean;
}

/** The sandbox's block count for a document (`progress_total`): its own invention, one block per 2 KiB. */
function blocksOf(size: number): number {
  return Math.max(1, Math.ceil(size / 2048));
}

/**
 * The chatbot's worker: downloads a document, lists it, processes it and sends the notice, the way
 * `lanying_tasks.py` does, with the fault rules and options that make it fail.
 */
export class Ingestion {
  constructor(
    private readonly ctx: SandboxContext,
    private readonly faults: FaultInjector,
    private readonly notify: (trace: Trace, doc: { doc_id: string }, failure: string | undefined) => void,
  ) {}

  #fault(subject: string, reasons: readonly ChatbotFailure[]): ChatbotFailure | undefined {
    return this.faults.pickChatbot('fail', subject, reasons)?.reason;
  }

  #finishNotice(trace: Trace, doc: KbDocumentState, failure: string | undefined): void {
    if (trace.notified) return;
    trace.notified = true;
    const subject = trace.type === 'url' ? trace.url : doc.filename;
    const rule = this.faults.pickChatbot('lose_notice', subject) ?? this.faults.pickChatbot('duplicate_notice', subject);
    if (rule?.chatbot === 'lose_notice') return;
    this.notify(trace, doc, failure);
    if (rule?.chatbot === 'duplicate_notice') this.notify(trace, doc, failure);
  }

  #createDocument(trace: Trace, fields: Pick<KbDocumentState, 'filename' | 'status'> & Partial<KbDocumentState>): KbDocumentState {
    return {
      doc_id: this.ctx.kbs.nextDocId(trace.kb),
      kb: trace.kb.name,
      type: trace.type,
      source: trace.url,
      metadata: {},
      msg_id: trace.message.msg_id,
      from_user_id: trace.message.from_user_id,
      created_at: this.ctx.options.now(),
      ...fields,
    };
  }

  /** `add_doc_to_embedding`: the document joins the end of the list `/bluevector status` shows. */
  #list(doc: KbDocumentState): void {
    this.ctx.store.documents.set(doc.doc_id, doc);
  }

  #isListed(doc: KbDocumentState): boolean {
    return this.ctx.store.documents.get(doc.doc_id) === doc;
  }

  /** Runs one trace to its end (or until `signal` aborts). */
  async run(trace: Trace, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const subject = trace.type === 'url' ? trace.url : trace.originFilename;
    const filename = trace.type === 'url' ? trace.url : trace.originFilename;
    let got: Obtained;
    try {
      if (this.#fault(subject, ['download_failed'])) throw new DownloadFailure('a fault rule failed the download');
      got = trace.type === 'url' ? await this.#fetch(trace.url, signal) : await this.#obtainAttachment(trace, signal);
    } catch (error) {
      if (signal.aborted || !(error instanceof DownloadFailure)) return;
      // lanying_tasks.py:64-75: the document is listed as failed, without metadata, and notified.
      const doc = this.#createDocument(trace, { filename, status: 'error', reason: 'download_failed', file_size: 0 });
      this.#list(doc);
      this.#finishNotice(trace, doc, DOCUMENT_FAILURES.download_failed.notice);
      return;
    }
    try {
      const ext = parseFileExt(trace.originFilename);
      if (ext === '.zip') {
        await this.#zip(trace, got, signal);
        return;
      }
      if (!ALLOW_EXTS.includes(ext)) return;
      const doc = this.#createDocument(trace, { filename, status: 'wait', file_size: got.size, sha256: got.sha256, metadata: { ...(trace.metadata ?? {}) } });
      if (this.#fault(subject, ['upload_error'])) {
        // :129-134: the task stops before the document is listed; the notice says why.
        this.#finishNotice(trace, doc, DOCUMENT_FAILURES.upload_error.notice);
        return;
      }
      this.#list(doc);
      await this.#process(trace, doc, subject, signal);
    } finally {
      if (got.temporary) await fsp.rm(got.path, { force: true });
    }
  }

  /**
   * A zip (`lanying_tasks.py:76-118`): members whose name contains `__MACOSX` or `DS_Store` are skipped; a
   * supported member becomes a document (listed after the loop); a directory is skipped; any other member is
   * listed at once as `error`/`bad_ext`, without a notice. A corrupt archive raises in the task: nothing at all.
   * Members carry no metadata. An empty zip, or one with no supported member, sends no notice.
   */
  async #zip(trace: Trace, got: Obtained, signal: AbortSignal): Promise<void> {
    let members;
    try {
      members = await listZipMembers(got.path);
    } catch {
      return;
    }
    const supported: KbDocumentState[] = [];
    for (const member of members) {
      if (member.name.includes('__MACOSX') || member.name.includes('DS_Store')) continue;
      const ext = parseFileExt(member.name);
      if (ALLOW_EXTS.includes(ext)) {
        supported.push(this.#createDocument(trace, { filename: member.name, status: 'wait', file_size: member.uncompressedSize, archive: trace.originFilename }));
      } else if (!member.isDirectory) {
        const doc = this.#createDocument(trace, { filename: member.name, status: 'error', reason: 'bad_ext', file_size: member.uncompressedSize, archive: trace.originFilename });
        this.#list(doc);
      }
    }
    for (const doc of supported) this.#list(doc);
    await Promise.all(supported.map((doc) => this.#process(trace, doc, doc.filename, signal)));
  }

  /** `process_embedding_file_internal` (`lanying_tasks.py:297-406`). */
  async #process(trace: Trace, doc: KbDocumentState, subject: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted || !this.#isListed(doc)) return;
    const { options } = this.ctx;
    const started = options.now();
    doc.status = 'processing';
    const fail = (kind: ChatbotFailure) => {
      const failure = DOCUMENT_FAILURES[kind];
      doc.status = 'error';
      if (failure.reason) doc.reason = failure.reason;
      this.#finishNotice(trace, doc, failure.notice);
    };
    const early = this.#fault(subject, ['download_error', 'storage_limit']);
    if (early) return fail(early);
    const size = doc.file_size ?? 0;
    const limit = options.chatbot.storageLimitBytes;
    // lanying_embedding.py:1635-1656 add_storage_size: refused when the app's use plus this file exceeds the quota.
    if (limit !== undefined && this.#storageUsed() + size > limit) return fail('storage_limit');
    trace.kb.storageBytes += size;
    doc.progress_total = blocksOf(size);
    const late = this.#fault(subject, ['exception', 'bad_authorization', 'no_quota', 'deduct_failed']);
    const extra = this.faults.pickChatbot('delay', subject)?.delayMs ?? 0;
    await this.ctx.lifecycle.sleep(Math.max(0, options.ingestionDelayMs + extra - (options.now() - started)), signal).catch(() => undefined);
    if (signal.aborted) return;
    if (late) {
      trace.kb.storageBytes -= size;
      return fail(late);
    }
    doc.progress_finish = doc.progress_total;
    doc.status = 'finish';
    this.#finishNotice(trace, doc, undefined);
  }

  #storageUsed(): number {
    return this.ctx.kbs.list.reduce((sum, kb) => sum + kb.storageBytes, 0);
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
   * The bytes of a file message's `attachment.url`. A sandbox download URL is read from storage directly: the
   * `file_sign` must be valid and the object uploaded; with `strictDownloadSign` (the default) its upload slot must
   * also have been asked by the message's sender for the chatbot. The real service's rule is unknown: the vendor's
   * worker downloads with the admin token acting as the chatbot user (`services/openai_service.py:3145-3148`).
   * Any other URL is fetched like a page.
   */
  async #obtainAttachment(trace: Trace, signal: AbortSignal): Promise<Obtained> {
    let target: URL;
    try {
      target = new URL(trace.url);
    } catch {
      throw new DownloadFailure(`attachment.url is not a URL: ${trace.url}`);
    }
    if (!isSandboxUrl(this.ctx, target) || target.pathname !== '/file/download/chat') return this.#fetch(trace.url, signal);
    const claims = this.ctx.signer.readFileSign(target.searchParams.get('file_sign') ?? '');
    if (!claims) throw new DownloadFailure('file_sign is not valid');
    const fromSender = claims.uploader === trace.message.from_user_id && claims.toId === this.ctx.kb.chatbotUserId && claims.toType === 1;
    if (this.ctx.options.chatbot.strictDownloadSign && !fromSender) throw new DownloadFailure('the upload slot was not asked by the sender for the chatbot');
    const object = this.ctx.store.objects.get(claims.key);
    if (!object) throw new DownloadFailure('the object was never uploaded');
    if (object.size > this.ctx.options.ingestionMaxBytes) throw new DownloadFailure(`the object is over the ${this.ctx.options.ingestionMaxBytes}-byte limit`);
    return { path: object.path, size: object.size, sha256: object.sha256, temporary: false };
  }
}
