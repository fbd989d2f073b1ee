/**
 * Confirmed ingestion: a document is `sent` when `/message/send` took it; it is `ingested` only once the chatbot
 * said so, and that word is tied to the document by proof, never by guess.
 *
 * The chatbot answers a document message at once with an ack or a refusal that names the message
 * (`ext.ai.request_msg_id`): a refusal is recorded on the document it names. Later it sends a completion notice,
 * `文章（ID：<doc_id>）已加入知识库 …` or `…失败：<reason>`, which names neither the message nor the file. The link is
 * proven with `/bluevector metadata get <doc_id>`: the document's metadata holds the `sync_id` lanying-kb sent with
 * it. When the metadata cannot say (the chatbot keeps none for a document it could not download), the
 * `/bluevector status` listing names the document's file: the link holds when exactly one document on its way has
 * that name. A notice that cannot be tied stays unused, and a document whose confirmation does not come within
 * `sync.confirmTimeout` becomes `unconfirmed`: maybe in the knowledge base, never sent again blindly.
 */

import PQueue from 'p-queue';
import { AbortedError } from '../api/errors.js';
import { LanyingKbError } from '../errors.js';
import { CommandTimeoutError, type ChatbotMessage, type KbChannel } from '../kb/channel.js';
import { COMMANDS_IN_FLIGHT, CommandNotRunError, type KbCommands } from '../kb/commands.js';
import { type CompletionNotice, parseCompletionNotice } from '../protocol/kb-notices.js';
import { classifySendReply, type SendRefusalReason } from '../protocol/kb-send-replies.js';
import type { DocumentRecord, StateStore } from '../state/store.js';
import { sleep } from '../util/timers.js';
import { ingestedRecord, ingestFailedRecord, refusedRecord, type RetiredVersion, unconfirmedRecord } from './transitions.js';

/** The chatbot refused a document for a reason that holds for every document: the run stops. */
export class ChatbotRefusedError extends LanyingKbError {
  override name = 'ChatbotRefusedError';
  readonly reason: SendRefusalReason;
  constructor(reason: SendRefusalReason, text: string) {
    super(`the chatbot refuses documents: ${describeRefusal(reason)} (it answered "${text.split('\n')[0]}")`);
    this.reason = reason;
  }
}

/**
 * How long after its send a document that became `unconfirmed` (no confirmation within `sync.confirmTimeout`) may
 * still be confirmed by a notice that comes late: a later run reads the conversation back to it.
 */
export const LATE_NOTICE_WINDOW_MS = 24 * 3_600_000;

/** A proof command the chatbot did not carry out this time (a refusal, an error of its own, the API): tried again. */
const TRANSIENT_COMMAND_FAILURES: ReadonlySet<string> = new Set(['service_expired', 'deduct_failed', 'round_limit', 'internal_error', 'command_failed']);

/** Attempts to prove one notice, and the wait before each further one. */
const PROOF_ATTEMPTS = 3;
const PROOF_RETRY_MS = 500;

class ProofNotRunError extends LanyingKbError {
  override name = 'ProofNotRunError';
}

/** Refusals that hold for every document (the account, the admin, the knowledge base), not for one. */
const STOPPING: ReadonlySet<SendRefusalReason> = new Set(['service_expired', 'deduct_failed', 'several_kbs', 'no_permission', 'file_refused']);

function describeRefusal(reason: SendRefusalReason): string {
  switch (reason) {
    case 'service_expired':
      return "the app's AI service has expired; renew it in the Lanying console";
    case 'deduct_failed':
      return 'the app is in arrears (the quota could not be charged)';
    case 'several_kbs':
      return 'the admin user administers several knowledge bases and none is the default: set one with /bluevector mode auto <name>, or use an admin of one';
    case 'no_permission':
      return 'the admin user does not administer this knowledge base';
    case 'file_refused':
      return 'the admin user administers no knowledge base of this chatbot (knowledgeBase.adminUserId)';
    default:
      return reason;
  }
}

/** What the confirmer found out about one document. */
export type Confirmation =
  | { outcome: 'ingested'; source: string; key: string; docId: string }
  | { outcome: 'ingest-failed'; source: string; key: string; docId: string | undefined; reason: string }
  /** `late`: the refusal of a message sent before this run, read only now: it says how the chatbot was then. */
  | { outcome: 'refused'; source: string; key: string; reason: string; late?: true }
  | { outcome: 'unconfirmed'; source: string; key: string; reason: string };

export interface ConfirmerOptions {
  store: StateStore;
  channel: KbChannel;
  /** Unset when the chatbot runs no commands: then no notice can be proven and documents end unconfirmed. */
  commands: KbCommands | undefined;
  /** The knowledge base (`targetKey`) whose documents are confirmed. */
  target: string;
  kbName: string;
  confirmTimeoutMs: number;
  ingestRetryDelayMs: number;
  /** Delete the version a confirmed one replaces (`onChange: replace`). */
  replace: boolean;
  now: () => number;
  onConfirmation?: ((confirmation: Confirmation) => void) | undefined;
  /** A refusal that stops the run. */
  onStop?: ((error: ChatbotRefusedError) => void) | undefined;
  /** The chatbot does not run commands (a timeout, a chat answer). */
  onCommandsUnavailable?: ((error: Error) => void) | undefined;
  /** A notice could not be handled (an API error while proving it). */
  onError?: ((error: unknown) => void) | undefined;
}

/** Follows the chatbot's answers to the documents on their way (`sent`) and records what they say. */
export class Confirmer {
  readonly #options: ConfirmerOptions;
  /** Documents whose ack came (message ID → source and key): the candidates of a status-listing proof. */
  readonly #acked = new Map<string, { source: string; key: string }>();
  /**
   * Notices being tied to their documents (a command each): one at a time until the chatbot answered a command
   * (so that a chatbot that runs none is found out by one), then a few at a time.
   */
  readonly #proofs = new PQueue({ concurrency: 1 });
  #unsubscribe: (() => void) | undefined;
  #stopWatching: (() => void) | undefined;
  #commands: KbCommands | undefined;
  /** Aborted when the confirmer closes: proofs in progress stop, and write nothing. */
  readonly #closing = new AbortController();
  /** Set while `catchUp` reads earlier runs' answers: a refusal among them stops nothing. */
  #catchingUp = false;
  /**
   * The newest message of the conversation when `catchUp` last read it: a send answered with a message ID not above
   * it was a repeat the server dropped (its transaction ID was an interrupted send's), and its answers are old.
   */
  #before: bigint | undefined;
  /** Messages whose answers are being read late (`refusedBefore`): a refusal of theirs stops nothing. */
  readonly #readLate = new Set<string>();

  constructor(options: ConfirmerOptions) {
    this.#options = options;
    this.#commands = options.commands;
  }

  /** The chatbot runs no commands: notices cannot be proven any more. */
  disableCommands(): void {
    this.#commands = undefined;
  }

  /** Whether notices can be proven (the chatbot runs commands). */
  get canProve(): boolean {
    return this.#commands !== undefined;
  }

  /** How many documents are on their way to this knowledge base. */
  awaitedCount(): number {
    return this.#options.store.countWithStatus(['sent'], this.#options.target);
  }

  /** Documents that became unconfirmed recently enough that a late notice of theirs is still looked for. */
  lateCandidates(): DocumentRecord[] {
    const { store, target, now } = this.#options;
    const since = { target, sentAfter: now() - LATE_NOTICE_WINDOW_MS };
    // A document that left its source before its send was confirmed: its copy, once tied, is deleted with it.
    const removed = store.withStatus('removed', since).filter((r) => r.docId === null);
    return [...store.withStatus('unconfirmed', since), ...removed].filter((r) => r.msgId !== null);
  }

  /**
   * Starts reading the conversation from the oldest awaited send, or the oldest recent unconfirmed one (its notice
   * may have come after the run that sent it ended), or from now. Idempotent.
   */
  start(): void {
    if (this.#unsubscribe) return;
    const oldest = [...this.#options.store.withStatus('sent', { target: this.#options.target }), ...this.lateCandidates()]
      .filter((r) => r.msgId !== null)
      .reduce<string | undefined>((min, r) => (min === undefined || compareIds(r.msgId as string, min) < 0 ? (r.msgId as string) : min), undefined);
    if (oldest) this.#options.channel.startAfter((BigInt(oldest) - 1n).toString());
    this.#unsubscribe = this.#options.channel.onMessage((message) => this.#onMessage(message));
    this.#stopWatching = this.#options.channel.watch();
  }

  /**
   * Reads what the chatbot said about documents sent by earlier runs (still awaited, or recently unconfirmed) up to
   * now, and records it (acks, refusals, notices with their proofs). Before a run plans: a document refused or failed
   * meanwhile is then sent again by this run instead of the next one. Nothing when no document is awaited and no
   * send was interrupted.
   */
  async catchUp(signal?: AbortSignal): Promise<void> {
    // Sends the server may have taken without answering (interrupted, or failed keeping their transaction ID) need a
    // reading too: it says which messages are older than this run (see `refusedBefore`).
    if (this.awaitedCount() === 0 && this.lateCandidates().length === 0 && this.#options.store.countUnanswered(this.#options.target) === 0) return;
    this.start();
    this.#catchingUp = true;
    try {
      await this.#options.channel.caughtUp(signal);
    } finally {
      this.#catchingUp = false;
    }
    this.#before = this.#options.channel.newestRead();
    await this.#proofs.onIdle();
  }

  /**
   * After a send that carried an interrupted send's transaction ID was answered with message `msgId` (its row
   * recorded `sent`): when that message is older than this run (the server dropped the send as a repeat of one that
   * had reached it), reads its answers up to now and tells whether the chatbot refused it back then. Such a refusal
   * is recorded and stops nothing: the document is to be sent again, under a new transaction ID. False for a message
   * this send made, or when the conversation was not read before (nothing to compare with).
   */
  async refusedBefore(msgId: string, signal?: AbortSignal): Promise<boolean> {
    if (this.#before === undefined || BigInt(msgId) > this.#before) return false;
    this.#readLate.add(msgId);
    try {
      this.expect(msgId);
      await this.#options.channel.caughtUp(signal);
    } finally {
      this.#readLate.delete(msgId);
    }
    return this.#options.store.findByMsgId(msgId)?.status === 'refused';
  }

  /** A send went out: its answers come after its message. */
  expect(msgId: string): void {
    this.#options.channel.startAfter((BigInt(msgId) - 1n).toString());
    this.start();
  }

  /** Stops reading (the confirmer may be started again). */
  stop(): void {
    this.#unsubscribe?.();
    this.#stopWatching?.();
    this.#unsubscribe = undefined;
    this.#stopWatching = undefined;
  }

  /** Stops for good: proofs in progress are abandoned (they write nothing); resolves when none runs any more. */
  async close(): Promise<void> {
    this.stop();
    this.#closing.abort();
    this.#proofs.clear();
    await this.#proofs.onIdle();
  }

  /**
   * Waits until no document of this knowledge base is on its way, or until `deadline` (epoch ms) — then the awaited
   * documents sent more than `confirmTimeout` ago become unconfirmed. Resolves with the documents still awaited.
   */
  async settle(options: { deadline: number; signal?: AbortSignal | undefined; pollMs: number }): Promise<number> {
    const late = this.lateCandidates().length > 0;
    // Nothing on its way and nothing to look for: no read of the conversation (a no-op run makes no request).
    if (!late && this.awaitedCount() === 0) return 0;
    this.start();
    // Notices that came after an earlier run stopped waiting: read once up to now before counting what is awaited.
    if (late) await this.#options.channel.caughtUp(options.signal);
    for (;;) {
      this.expire();
      await this.#proofs.onIdle();
      const left = this.awaitedCount();
      if (left === 0 || options.signal?.aborted) return left;
      if (this.#options.now() >= options.deadline) {
        // The deadline passed after the last expiry (a slow turn): what has waited confirmTimeout is unconfirmed now.
        this.expire();
        return this.awaitedCount();
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs, Math.max(1, options.deadline - this.#options.now()))));
    }
  }

  /** Documents sent longer than `confirmTimeout` ago without a confirmation become unconfirmed. */
  expire(): void {
    const { store, confirmTimeoutMs, now } = this.#options;
    for (const row of store.withStatus('sent', { target: this.#options.target, sentBefore: now() - confirmTimeoutMs })) {
      const reason = this.canProve
        ? `no confirmation from the chatbot within ${Math.round(confirmTimeoutMs / 1000)} s`
        : 'the chatbot runs no commands, so its confirmation cannot be tied to the document';
      store.put(unconfirmedRecord(row, reason, now()));
      this.#acked.delete(row.msgId as string);
      this.#options.onConfirmation?.({ outcome: 'unconfirmed', source: row.source, key: row.key, reason });
    }
  }

  #onMessage(message: ChatbotMessage): void {
    if (this.#closing.signal.aborted) return;
    if (message.requestMsgId !== undefined) {
      this.#onAnswer(message);
      return;
    }
    const notice = parseCompletionNotice(message.content);
    if (!notice || notice.kbName !== this.#options.kbName || this.#closing.signal.aborted) return;
    this.#proofs
      .add(() => this.#proveWithRetries(notice, message))
      .catch((error: unknown) => {
        // A notice that could not be tied now is tied by a later read (`check`), or its document times out.
        if (!this.#closing.signal.aborted) this.#options.onError?.(error);
      });
  }

  /**
   * A notice is tied and recorded; a proof the chatbot or the API did not carry out this time is tried again a few
   * times (and, failing that, by a later run: the document is a late candidate then).
   */
  async #proveWithRetries(notice: CompletionNotice, message: ChatbotMessage): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#onNotice(notice, message);
        return;
      } catch (error) {
        const transient = error instanceof ProofNotRunError || (error instanceof LanyingKbError && !(error instanceof AbortedError));
        if (!transient || attempt >= PROOF_ATTEMPTS || this.#closing.signal.aborted) throw error;
        await sleep(PROOF_RETRY_MS * attempt, this.#closing.signal).catch(() => undefined);
        if (this.#closing.signal.aborted) return;
      }
    }
  }

  /** The chatbot's immediate answer to a message: an ack, or a refusal of the document it names. */
  #onAnswer(message: ChatbotMessage): void {
    const row = message.requestMsgId === undefined ? undefined : this.#options.store.findByMsgId(message.requestMsgId);
    // An unconfirmed document's answers are read again when a later run looks for its late notice.
    if (!row || (row.status !== 'sent' && row.status !== 'unconfirmed') || (row.target !== null && row.target !== this.#options.target)) return;
    const reply = classifySendReply({ content: message.content, ext: message.ext });
    if (reply.kind === 'ack') {
      this.#acked.set(row.msgId as string, { source: row.source, key: row.key });
      return;
    }
    if (reply.kind !== 'refused') return;
    const now = this.#options.now();
    // A refusal of an earlier run's document, read late, says how the chatbot was then: it is recorded, and the
    // document is sent again, whose answer says how the chatbot is now.
    const late = this.#catchingUp || this.#readLate.has(row.msgId as string);
    this.#options.store.put(refusedRecord(row, reply.text, now));
    this.#acked.delete(row.msgId as string);
    this.#options.onConfirmation?.({ outcome: 'refused', source: row.source, key: row.key, reason: reply.text, ...(late ? { late: true as const } : {}) });
    if (STOPPING.has(reply.reason) && !late) this.#options.onStop?.(new ChatbotRefusedError(reply.reason, reply.text));
  }

  /** A completion notice: tied to its document by proof, then recorded. */
  async #onNotice(notice: CompletionNotice, message: ChatbotMessage): Promise<void> {
    const proof = await this.#prove(notice);
    if (!proof || this.#closing.signal.aborted) return;
    const proven = proof.row;
    const { store, now } = this.#options;
    // Read again: another notice (a repeat) may have been recorded while this one was being proven.
    const row = store.get(proven.source, proven.key);
    if (!row || row.syncId !== proven.syncId) return;
    const at = now();
    let retire: RetiredVersion[];
    if (notice.ok) {
      // A document that left its source since it was sent is tied the same way (and stays removed).
      const settled = row.status === 'ingested' || row.status === 'removed';
      if (row.docId === notice.docId && settled) return; // the same notice again
      if (settled && row.docId !== null) {
        // A second document of one version (a repeat the server did not drop): it is to go.
        store.addKbVersion(copyToDelete(row, notice.docId, message.msgId, `a second copy of document ${row.docId}`, at));
        return;
      }
      const next = ingestedRecord(row, notice.docId, at);
      retire = this.#options.replace ? next.retire : [];
      store.transaction(() => {
        store.put(next.record);
        for (const version of retire) store.addKbVersion(version);
        // Versions that were waiting for a successor to be ingested may go now.
        if (this.#options.replace) for (const old of store.kbVersions({ states: ['superseded'], source: row.source, key: row.key })) store.setKbVersionState(old.id, 'delete', at);
      });
      this.#options.onConfirmation?.({ outcome: 'ingested', source: row.source, key: row.key, docId: notice.docId });
    } else {
      if (row.status !== 'sent' && row.status !== 'unconfirmed') return;
      if (isAboutAnotherSend(row, proof.transactionId, message.msgId)) {
        // An earlier send of this version failed (its notice read late, or again by a later run, which reads the
        // conversation from its oldest awaited send); the send on its way may not. Taken for this one, the document
        // would be sent once more, and this send's copy, once ingested, would be nobody's. The failed copy goes.
        if (!store.kbVersions({ source: row.source, key: row.key }).some((v) => v.docId === notice.docId)) {
          store.addKbVersion(copyToDelete(row, notice.docId, null, `an earlier send of it failed to be ingested: ${notice.reason}`, at));
        }
        return;
      }
      const next = ingestFailedRecord(row, { reason: notice.reason, docId: notice.docId }, at, this.#options.ingestRetryDelayMs);
      store.transaction(() => {
        store.put(next.record);
        for (const version of next.retire) store.addKbVersion(version);
      });
      this.#options.onConfirmation?.({ outcome: 'ingest-failed', source: row.source, key: row.key, docId: notice.docId, reason: notice.reason });
    }
    this.#acked.delete(row.msgId ?? '');
  }

  /**
   * The state row a notice is about, proven by the document's metadata (or, failing that, by the status listing),
   * and the transaction ID of the send the document came from, when its metadata names one.
   */
  async #prove(notice: CompletionNotice): Promise<{ row: DocumentRecord; transactionId: string | undefined } | undefined> {
    const commands = this.#commands;
    if (!commands) return undefined;
    try {
      const metadata = await commands.metadataGet(notice.docId, this.#closing.signal);
      this.#proofs.concurrency = COMMANDS_IN_FLIGHT;
      if (!metadata.ok && TRANSIENT_COMMAND_FAILURES.has(metadata.reason)) throw new ProofNotRunError(`the chatbot did not read document ${notice.docId}'s metadata: ${metadata.text}`);
      const syncId = metadata.ok ? metadata.metadata.sync_id : undefined;
      if (this.#closing.signal.aborted) return undefined;
      if (syncId !== undefined) {
        const row = this.#options.store.findBySyncId(syncId);
        // A sync ID names one version of one document; the row must still be that version.
        return row && row.target === this.#options.target ? { row, transactionId: metadata.ok ? metadata.metadata.transaction_id : undefined } : undefined;
      }
      if (notice.ok) return undefined;
      const row = await this.#proveByListing(notice.docId);
      return row ? { row, transactionId: undefined } : undefined;
    } catch (error) {
      if (error instanceof CommandTimeoutError || error instanceof CommandNotRunError) {
        if (this.#commands === undefined) return undefined;
        this.#commands = undefined;
        this.#options.onCommandsUnavailable?.(error);
        return undefined;
      }
      throw error;
    }
  }

  /** The one document on its way whose file name the status listing shows for `docId`, if exactly one. */
  async #proveByListing(docId: string): Promise<DocumentRecord | undefined> {
    const listing = await (this.#commands as KbCommands).status(this.#closing.signal);
    if (this.#closing.signal.aborted) return undefined;
    if (!listing.ok) return undefined;
    const line = listing.documents.find((d) => d.docId === docId);
    if (!line) return undefined;
    const candidates = [...this.#acked.keys()]
      .map((msgId) => this.#options.store.findByMsgId(msgId))
      .filter((r): r is DocumentRecord => r !== undefined && (r.status === 'sent' || r.status === 'unconfirmed') && documentNameOf(r) === line.filename);
    return candidates.length === 1 ? candidates[0] : undefined;
  }
}

/** Another copy of the row's version in the knowledge base (`docId`), recorded for the cleanup to delete. */
function copyToDelete(row: DocumentRecord, docId: string, msgId: string | null, reason: string, at: number): RetiredVersion {
  return { target: row.target, source: row.source, key: row.key, hash: row.uploadedHash, syncId: row.syncId, msgId, docId, state: 'delete', reason, createdAt: at, updatedAt: at };
}

/**
 * Whether a notice proven to be about `row`'s version is about another send of it than the one on its way: the
 * document's metadata names another transaction ID, or (a document sent before the metadata named one) the notice
 * is older than the send's message, which every notice about that send follows.
 */
export function isAboutAnotherSend(row: Pick<DocumentRecord, 'transactionId' | 'msgId'>, noticeTransactionId: string | undefined, noticeMsgId: string): boolean {
  if (noticeTransactionId !== undefined && row.transactionId !== null) return noticeTransactionId !== String(row.transactionId);
  return row.msgId !== null && compareIds(noticeMsgId, row.msgId) < 0;
}

/** The name the chatbot's listing shows for a document: a file's display name, or a page's URL. */
export function documentNameOf(row: Pick<DocumentRecord, 'key' | 'kind'>): string {
  if (row.kind === 'page') return row.key;
  const base = row.key.slice(row.key.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) + base.slice(dot).toLowerCase() : base;
}

function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
