/**
 * The apply stage: carries out a plan's actions. Row writes of a batch land in one transaction; sends go through
 * one queue (`sync.concurrency` at a time, fed a few ahead so that a large first sync never holds every document in
 * memory). Each send writes the document's row as `pending` (with the transaction ID it carries) before it starts,
 * and `uploaded` only once `/message/send` accepted it.
 *
 * Retries: the API client retries what failed in transport (it alone: one retry layer). This stage retries only
 * what the client cannot: a file that changed while it was uploaded is hashed again and sent as its new version.
 */

import PQueue from 'p-queue';
import type { LanyingClient } from '../api/client.js';
import { AbortedError, AuthError, ConnectionError, ServerError, UnavailableError } from '../api/errors.js';
import { generateTransactionId } from '../api/resources/messages.js';
import { kbExtensionOf } from '../protocol/kb-files.js';
import { LocalFileError, StateError } from '../errors.js';
import type { ResolvedSource } from '../sources/registry.js';
import type { ObservedItem, SourceAdapter } from '../sources/types.js';
import type { StateStore } from '../state/store.js';
import type { Action } from './actions.js';
import { ChatbotRefusedError } from './confirm.js';
import { buildMetadata, syncIdOf, titleFromName } from './document-metadata.js';
import { readDocumentTitle } from './document-title.js';
import type { ReportEntry } from './report.js';
import { sendDocument, type SendTarget } from './send-document.js';
import { failedRecord, pendingRecord, type RowWrite, sentRecord, type TransitionContext, vanishedWrite } from './transitions.js';

/** Errors that stop the whole run rather than fail one document. */
export function isRunStopping(error: unknown): boolean {
  return error instanceof AuthError || error instanceof UnavailableError || error instanceof ChatbotRefusedError;
}

/** What happened to one send. */
export type SendResult =
  | { outcome: 'sent'; bytes: number; msgId: string | undefined; durationMs: number }
  | { outcome: 'failed'; error: unknown; message: string }
  | { outcome: 'vanished' }
  | { outcome: 'cancelled'; error: unknown };

/** One document to send, with what its send needs. */
export interface SendJob {
  action: Extract<Action, { type: 'send' }>;
  source: ResolvedSource;
  adapter: SourceAdapter;
  target: SendTarget;
  /** The target's name in the state, and the grace period of documents that vanish before they are sent. */
  transition: TransitionContext;
  /** Keep the version a new one replaces, to delete it once the new one is ingested (`onChange: replace`). */
  replace: boolean;
  signal: AbortSignal;
  /**
   * Whether the chatbot had refused, before this run, message `msgId`: the answer to a send that carried an
   * interrupted send's transaction ID, which the server may have dropped as a repeat of one that reached it.
   */
  refusedBefore?: ((msgId: string) => Promise<boolean>) | undefined;
  /** Called once with the result (before the job's promise settles). */
  done: (result: SendResult, entry: ReportEntry) => void;
}

export interface ApplierOptions {
  store: StateStore;
  client: LanyingClient;
  /** Documents sent at once. */
  concurrency: number;
  /** Attempts per document when its file keeps changing during the upload. */
  maxAttempts: number;
  now: () => number;
}

/** Carries out actions: row writes at once, sends through a bounded queue. Lives as long as its engine. */
export class Applier {
  readonly #queue: PQueue;
  #client: LanyingClient;
  #maxAttempts: number;
  readonly #store: StateStore;
  readonly #rows: RowWriter;
  readonly #now: () => number;

  constructor(options: ApplierOptions) {
    this.#queue = new PQueue({ concurrency: options.concurrency });
    this.#client = options.client;
    this.#maxAttempts = options.maxAttempts;
    this.#store = options.store;
    this.#rows = new RowWriter(options.store);
    this.#now = options.now;
  }

  /** Takes new settings (a reload): they apply to sends that start from now on. */
  reconfigure(options: { client?: LanyingClient | undefined; concurrency: number; maxAttempts: number }): void {
    if (options.client) this.#client = options.client;
    this.#queue.concurrency = options.concurrency;
    this.#maxAttempts = options.maxAttempts;
  }

  /**
   * Runs `fn` (a write of its own, e.g. a folder's digest) after the sends' row writes queued before it, in the same
   * transaction as them: a write that must follow them (a trigger of theirs would undo it otherwise).
   */
  afterRowWrites(fn: () => void): Promise<void> {
    return this.#rows.write(fn);
  }

  /** Writes the record and forget actions among `actions`, in one transaction. */
  writeAll(actions: readonly Action[]): void {
    if (!actions.some((a) => a.type !== 'send')) return;
    this.#store.transaction(() => {
      for (const action of actions) {
        if (action.type === 'record') this.#store.put(action.record);
        else if (action.type === 'forget') this.#store.delete(action.source, action.key);
      }
    });
  }

  /**
   * Queues a send; resolves once it is queued (waiting while the queue is full), not when it is done. The job's
   * `done` receives the result; `settled` resolves after it.
   */
  async enqueue(job: SendJob): Promise<{ settled: Promise<void> }> {
    const backlog = Math.max(16, this.#queue.concurrency * 2);
    if (this.#queue.size >= backlog) await this.#queue.onSizeLessThan(backlog);
    const settled = this.#queue.add(async () => {
      if (job.signal.aborted) {
        job.done({ outcome: 'cancelled', error: job.signal.reason }, job.action.entry);
        return;
      }
      job.done(await this.#send(job), job.action.entry);
    });
    return { settled: settled.then(() => undefined) };
  }

  /** Sends waiting and in flight. */
  stats(): { queued: number; inFlight: number; paused: boolean } {
    return { queued: this.#queue.size, inFlight: this.#queue.pending, paused: this.#queue.isPaused };
  }

  /** Resolves when no send is queued or in flight. */
  async drain(): Promise<void> {
    await this.#queue.onIdle();
  }

  /**
   * Stops starting sends; those in flight get `graceMs` to finish. Resolves with how many were still in flight then
   * (the caller aborts them through their runs' signals). Queued sends start after `resume()` and see their aborted
   * signals.
   */
  async stop(options: { graceMs: number }): Promise<{ inFlight: number }> {
    this.#queue.pause();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#queue.onPendingZero().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), options.graceMs))),
    ]);
    clearTimeout(timer);
    return { inFlight: drained ? 0 : this.#queue.pending };
  }

  /** Lets queued sends start again (after `stop`, so that they see their aborted signals and end). */
  resume(): void {
    this.#queue.start();
  }

  async #send(job: SendJob): Promise<SendResult> {
    const { action, source, target, signal } = job;
    let item: ObservedItem & { hash: string } = { ...action.item };
    let previous = action.previous;
    for (let attempt = 1; ; attempt++) {
      const syncId = syncIdOf(action.source, action.key, item.hash);
      const pending = pendingRecord(action.source, action.key, item, previous, { newTransactionId: generateTransactionId }, { ...job.transition, now: this.#now() });
      await this.#rows.write(() => this.#store.put(pending));
      // The send carries the transaction ID of one that was interrupted (a crash, a stopped run) or whose answer was
      // lost: the server may drop it as a repeat and answer with that send's message. `pendingRecord` decides when an
      // ID is kept; a new one is random, so an equal ID is a kept one.
      const resumed = previous !== undefined && previous.transactionId !== null && previous.transactionId === pending.transactionId;
      const started = performance.now();
      try {
        const payload = item.payload;
        if (!payload) throw new Error(`apply: ${action.source}:${action.key} has nothing to send`);
        const ownTitle = payload.title === undefined && payload.type === 'file' ? await readDocumentTitle(payload.fsPath, kbExtensionOf(action.key)) : undefined;
        const title = payload.title ?? ownTitle ?? titleFromName(action.key);
        const metadata = buildMetadata({ source: action.source, key: action.key, hash: item.hash, title, link: payload.link, extra: source.metadata, transactionId: pending.transactionId ?? undefined });
        const chatbot = source.chatbotUserId ?? target.chatbot;
        const sent = await sendDocument(this.#client, payload, { from: target.from, chatbot }, metadata, pending.transactionId as number, signal);
        const { record, retire } = sentRecord(pending, { ...sent, syncId }, item, this.#now(), { replace: job.replace });
        // One transaction with the other sends' rows of this turn of the event loop (see RowWriter).
        await this.#rows.write(() => {
          this.#store.put(record);
          for (const version of retire) this.#store.addKbVersion(version);
        });
        if (resumed && sent.msgId !== undefined && job.refusedBefore && (await job.refusedBefore(sent.msgId))) {
          // The interrupted send had reached the chatbot, which refused it then (the refusal is recorded): the
          // document goes again as a new message, whose answer says how the chatbot is now.
          previous = this.#store.get(action.source, action.key) ?? pending;
          continue;
        }
        return { outcome: 'sent', bytes: item.size, msgId: sent.msgId, durationMs: performance.now() - started };
      } catch (error) {
        // The state could not record the outcome (a full or failing disk): the send may have been taken, so the row
        // stays pending with the transaction ID it carried (the next run's send of it is dropped as a repeat), never
        // failed (which would send it again under a new one: a second copy). The run stops on it.
        if (error instanceof StateError) throw error;
        // A run cannot go on without the API (a refused token, the API down for longer than the client waits): the
        // document stays pending for the next run, and the run stops.
        if (isRunStopping(error) || error instanceof AbortedError || signal.aborted) return { outcome: 'cancelled', error };
        if (error instanceof LocalFileError && error.changed && item.payload?.type === 'file' && item.payload.expect) {
          const again = await this.#rehash(job, item);
          if (again === undefined) {
            const write = vanishedWrite(pending, action.previous);
            await this.#rows.write(() => this.#write(write));
            return { outcome: 'vanished' };
          }
          if ('refused' in again) {
            // The source refuses its new content (it grew past the source's size limit): not sent.
            this.#store.put(failedRecord(pending, again.refused, this.#now(), resumed));
            return { outcome: 'failed', error, message: again.refused };
          }
          item = again;
          previous = pending;
          if (attempt < this.#maxAttempts) continue;
        }
        const message = error instanceof Error ? error.message : String(error);
        const failed = failedRecord(pending, message, this.#now(), resumed || answerLost(error));
        await this.#rows.write(() => this.#store.put(failed));
        return { outcome: 'failed', error, message };
      }
    }
  }

  /**
   * After a file changed under its upload: the item with its new content and stat, undefined when it is gone, or the
   * source's reason not to send what it now holds (re-checked by the source's `hash`, e.g. its size limit).
   */
  async #rehash(job: SendJob, item: ObservedItem & { hash: string }): Promise<(ObservedItem & { hash: string }) | { refused: string } | undefined> {
    const payload = item.payload;
    if (payload?.type !== 'file') return undefined;
    const { statSync } = await import('node:fs');
    let stat: { size: number; mtimeMs: number; ino: number };
    try {
      const st = statSync(payload.fsPath);
      stat = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
    } catch {
      return undefined;
    }
    const [result] = await job.adapter.hash(job.source, [{ ...item, size: stat.size, stat }], { signal: job.signal });
    if (result !== undefined && 'failure' in result && result.skip) return { refused: result.failure };
    if (result === undefined || 'failure' in result) return undefined;
    return { ...item, hash: result.hash, size: stat.size, stat, payload: { ...payload, expect: stat } };
  }

  #write(write: RowWrite): void {
    if (write.type === 'forget') this.#store.delete(write.source, write.key);
    else {
      this.#store.put(write.record);
      if (write.forget) this.#store.delete(write.forget.source, write.forget.key);
    }
  }
}

/**
 * The row writes of sends (`pending` before a send starts, its outcome after it), gathered over one turn of the event
 * loop and written in one transaction: one commit where there were several (a send ending and the next starting
 * write together). `write` resolves once its write is committed, so a send never starts before its `pending` row
 * (with the transaction ID it carries) is in the state.
 */
class RowWriter {
  #queue: (() => void)[] = [];
  #flush: Promise<void> | undefined;

  constructor(private readonly store: StateStore) {}

  write(fn: () => void): Promise<void> {
    this.#queue.push(fn);
    this.#flush ??= new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        const queue = this.#queue;
        this.#queue = [];
        this.#flush = undefined;
        try {
          this.store.transaction(() => {
            for (const write of queue) write();
          });
          resolve();
        } catch (error) {
          reject(error);
        }
      }),
    );
    return this.#flush;
  }
}

/**
 * Whether a failed send's request may have been carried out by the server although no answer said so: the connection
 * failed or timed out (after the request may have been written), or the server answered 5xx. An error code in the
 * API's answer, a refused upload or a local error says it was not.
 */
function answerLost(error: unknown): boolean {
  return error instanceof ConnectionError || error instanceof ServerError;
}
