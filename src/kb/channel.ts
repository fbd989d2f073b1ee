/**
 * The conversation between the knowledge-base admin and the chatbot, read as a channel: the chatbot answers a
 * document message with an ack (or a refusal) that names the message (`ext.ai.request_msg_id`), later sends a
 * completion notice per document, and answers `/bluevector` commands the same way. One bounded poller reads the
 * conversation for everyone who waits (never one request loop per document): it pages from the newest message back
 * to the last one it saw, and hands the chatbot's new messages over in the order they were sent.
 */

import type { LanyingClient } from '../api/client.js';
import type { ConversationMessage } from '../api/resources/messages.js';
import { LanyingKbError } from '../errors.js';
import { readBotExt } from '../protocol/bot-ext.js';
import { sleep } from '../util/timers.js';
import { formatDuration } from '../util/units.js';
import { followAbort } from '../util/abort.js';

/** A message the chatbot sent to the admin. */
export interface ChatbotMessage {
  /** 64-bit, decimal text. */
  msgId: string;
  content: string;
  ext: string | undefined;
  /** The message it answers (`ext.ai.request_msg_id`), when it names one. */
  requestMsgId: string | undefined;
  timestamp: number;
}

/** A command got no answer in time: the chatbot may not run commands at all (an agent platform answers them as chat). */
export class CommandTimeoutError extends LanyingKbError {
  override name = 'CommandTimeoutError';
  readonly command: string;
  constructor(command: string, timeoutMs: number) {
    super(`the chatbot did not answer "${command}" within ${formatDuration(timeoutMs)} (sync.commandTimeout)`);
    this.command = command;
  }
}

export interface KbChannelOptions {
  client: LanyingClient;
  /** The knowledge-base admin: the sender of documents and commands, whose conversation is read. */
  adminUserId: number;
  chatbotUserId: number;
  /** Wait between two reads while someone waits. */
  pollIntervalMs: number;
  /** Messages per page. @default 50 */
  pageSize?: number | undefined;
}

interface Waiter {
  msgId: string;
  resolve: (message: ChatbotMessage) => void;
}

/**
 * Reads the admin's conversation with the chatbot while anyone waits for an answer (`command`), or while `watch` is
 * on (the sync's confirmations), and calls the listeners with every new chatbot message.
 */
export class KbChannel {
  readonly #options: KbChannelOptions;
  /** The newest message seen: older ones are never handed over (again). */
  #watermark: bigint | undefined;
  /** The newest message of the conversation (of anyone) a read found, whatever the watermark was moved back to since. */
  #newestRead: bigint | undefined;
  readonly #listeners = new Set<(message: ChatbotMessage) => void>();
  readonly #waiters = new Map<string, Waiter>();
  /** Called once a read that started after they were added has ended. */
  #readWaiters: (() => void)[] = [];
  #watching = 0;
  #loop: Promise<void> | undefined;
  #kick: (() => void) | undefined;
  #closed = false;

  constructor(options: KbChannelOptions) {
    this.#options = options;
  }

  /** Every new chatbot message, in the order they were sent. Returns a function that removes the listener. */
  onMessage(listener: (message: ChatbotMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Messages older than `msgId` are not of interest: the channel starts reading after it (the oldest send whose
   * answer is awaited, minus one). Only moves the start back before the first read.
   */
  startAfter(msgId: string): void {
    const id = BigInt(msgId);
    if (this.#watermark === undefined || id < this.#watermark) this.#watermark = id;
  }

  /**
   * The newest message (of anyone) the conversation held at the last read, or undefined before any read. Message IDs
   * grow: a message whose ID is not above it existed before that read.
   */
  newestRead(): bigint | undefined {
    return this.#newestRead;
  }

  /** Keeps reading until the returned function is called (the sync's confirmations). */
  watch(): () => void {
    this.#watching++;
    this.#ensureLoop();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#watching--;
    };
  }

  /** Sends a text as the admin to the chatbot; its message ID. */
  async send(text: string, signal?: AbortSignal): Promise<string> {
    const sent = await this.#options.client.messages.sendText({ users: [this.#options.chatbotUserId] }, text, { from: this.#options.adminUserId }, { signal });
    const msgId = sent.msgIds[0];
    if (msgId === undefined) throw new LanyingKbError(`the API returned no message ID for "${text}"`);
    return msgId;
  }

  /**
   * Sends a command and resolves with the chatbot's answer to it (the message whose `request_msg_id` names it).
   * Rejects with `CommandTimeoutError` when none comes within `timeoutMs`.
   */
  async command(text: string, options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<ChatbotMessage> {
    const msgId = await this.send(text, options.signal);
    this.startAfter((BigInt(msgId) - 1n).toString());
    const answer = new Promise<ChatbotMessage>((resolve) => this.#waiters.set(msgId, { msgId, resolve }));
    this.#ensureLoop();
    this.#kick?.();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
    const { signal: stop, release } = followAbort([options.signal, deadline.signal]);
    try {
      return await Promise.race([
        answer,
        new Promise<never>((_, reject) => {
          const fail = () => reject(options.signal?.aborted ? options.signal.reason : new CommandTimeoutError(text, options.timeoutMs));
          if (stop.aborted) fail();
          else stop.addEventListener('abort', fail, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      release();
      this.#waiters.delete(msgId);
    }
  }

  /**
   * Resolves once the conversation was read (or a read failed) after this call: what the chatbot had said by now has
   * been handed over, unless the read failed. Keeps the channel reading meanwhile.
   */
  async caughtUp(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return;
    const read = new Promise<void>((resolve) => this.#readWaiters.push(resolve));
    const stop = this.watch();
    this.#kick?.();
    try {
      await (signal ? Promise.race([read, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]) : read);
    } finally {
      stop();
    }
  }

  /** Reads the conversation once now and hands over what is new. */
  async poll(signal?: AbortSignal): Promise<void> {
    const fresh = await this.#readNew(signal);
    if (this.#closed) return;
    for (const message of fresh) {
      const waiter = message.requestMsgId !== undefined ? this.#waiters.get(message.requestMsgId) : undefined;
      if (waiter) waiter.resolve(message);
      for (const listener of this.#listeners) listener(message);
    }
  }

  /** Stops reading (pending commands time out). */
  close(): void {
    this.#closed = true;
    this.#kick?.();
    for (const resolve of this.#readWaiters.splice(0)) resolve();
  }

  #ensureLoop(): void {
    if (this.#loop || this.#closed) return;
    this.#loop = this.#run().finally(() => (this.#loop = undefined));
  }

  async #run(): Promise<void> {
    while (!this.#closed && (this.#watching > 0 || this.#waiters.size > 0)) {
      const readWaiters = this.#readWaiters;
      this.#readWaiters = [];
      try {
        await this.poll();
      } catch {
        // A failed read is tried again at the next interval (the client retried it already).
      }
      for (const resolve of readWaiters) resolve();
      if (this.#closed || (this.#watching === 0 && this.#waiters.size === 0)) break;
      const wake = new AbortController();
      this.#kick = () => wake.abort();
      await sleep(this.#options.pollIntervalMs, wake.signal).catch(() => {});
      this.#kick = undefined;
    }
  }

  /** The chatbot's messages newer than the watermark, oldest first; moves the watermark to the newest message read. */
  async #readNew(signal?: AbortSignal): Promise<ChatbotMessage[]> {
    const { client, adminUserId, chatbotUserId } = this.#options;
    const pageSize = this.#options.pageSize ?? 50;
    const collected: ConversationMessage[] = [];
    let start: string | undefined;
    let newest: bigint | undefined;
    for (;;) {
      const page = await client.messages.conversationPage(chatbotUserId, { msgIdStart: start ?? '0', limit: pageSize }, { actAs: adminUserId, signal });
      let reachedSeen = false;
      for (const message of page.messages) {
        const id = BigInt(message.msg_id);
        newest ??= id;
        if (this.#newestRead === undefined || id > this.#newestRead) this.#newestRead = id;
        if (this.#watermark !== undefined && id <= this.#watermark) {
          reachedSeen = true;
          break;
        }
        collected.push(message);
      }
      // Nothing seen before: the first read only finds where the conversation stands.
      if (this.#watermark === undefined) {
        this.#watermark = newest ?? 0n;
        return [];
      }
      if (reachedSeen || page.isLast || page.nextMsgId === undefined || page.messages.length === 0) break;
      start = page.nextMsgId;
    }
    if (newest !== undefined && (this.#watermark === undefined || newest > this.#watermark)) this.#watermark = newest;
    return collected
      .reverse()
      .filter((m) => m.from_xid.uid === chatbotUserId)
      .map((m) => ({
        msgId: m.msg_id,
        content: m.content,
        ext: m.ext,
        requestMsgId: readBotExt(m.ext)?.requestMsgId,
        timestamp: m.timestamp,
      }));
  }
}
