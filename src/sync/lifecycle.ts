/**
 * The knowledge-base lifecycle of one target: confirmations of what was sent (`confirm.ts`), then deletions of what
 * is to go and metadata of what moved (`cleanup.ts`), over one channel to the chatbot. The engine keeps one per
 * target for its lifetime.
 *
 * Where the chatbot runs no `/bluevector` commands (a chatbot bound to an agent platform answers them as chat, or
 * not at all), that is found out once: a warning, and from then on nothing is replaced, deleted or proven (as with
 * `onChange: append` and `onRemove: keep`); documents end `unconfirmed`. It is never tried in a loop.
 */

import type { LanyingClient } from '../api/client.js';
import { KbChannel } from '../kb/channel.js';
import { KbCommands } from '../kb/commands.js';
import type { ResolvedSyncConfig } from '../config/resolve.js';
import type { StateStore } from '../state/store.js';
import { type DeletionOutcome, type DeletionPlan, isCommandsUnavailable, planDeletions, runDeletions } from './cleanup.js';
import { type ChatbotRefusedError, type Confirmation, Confirmer } from './confirm.js';
import type { KnowledgeBaseTarget } from './target.js';

/** A metadata change for a document that moved (its `path` and `link`). */
export interface MetadataUpdate {
  source: string;
  key: string;
  docId: string;
  fields: Readonly<Record<string, string>>;
}

export interface LifecycleEvents {
  onConfirmation?: ((confirmation: Confirmation) => void) | undefined;
  onDeletion?: ((outcome: DeletionOutcome) => void) | undefined;
  /** Something worth a warning: the chatbot runs no commands, ... (each once). */
  onWarning?: ((message: string) => void) | undefined;
  onStop?: ((error: ChatbotRefusedError) => void) | undefined;
}

export interface LifecycleOptions extends LifecycleEvents {
  client: LanyingClient;
  store: StateStore;
  target: KnowledgeBaseTarget;
  targetKey: string;
  sync: ResolvedSyncConfig;
  now: () => number;
}

/** The result of a cleanup. */
export interface CleanupResult {
  outcomes: DeletionOutcome[];
  /** Why removals were not deleted (`sync.maxDelete`). */
  blocked: DeletionPlan['blocked'];
  metadataUpdated: number;
}

export class KnowledgeBaseLifecycle {
  readonly #options: LifecycleOptions;
  readonly #channel: KbChannel;
  #commands: KbCommands | undefined;
  readonly #confirmer: Confirmer;
  readonly #warned = new Set<string>();

  constructor(options: LifecycleOptions) {
    this.#options = options;
    const { client, target, sync } = options;
    this.#channel = new KbChannel({ client, adminUserId: target.adminUserId, chatbotUserId: target.chatbotUserId, pollIntervalMs: sync.confirmPollIntervalMs });
    this.#commands = new KbCommands({ channel: this.#channel, kbName: target.kbName, timeoutMs: sync.commandTimeoutMs });
    this.#confirmer = new Confirmer({
      store: options.store,
      channel: this.#channel,
      commands: this.#commands,
      target: options.targetKey,
      kbName: target.kbName,
      confirmTimeoutMs: sync.confirmTimeoutMs,
      ingestRetryDelayMs: sync.ingestRetryDelayMs,
      replace: sync.onChange === 'replace',
      now: options.now,
      onConfirmation: options.onConfirmation,
      onStop: options.onStop,
      onCommandsUnavailable: (error) => this.#commandsUnavailable(error),
      onError: (error) => this.#warn(`a confirmation could not be read: ${error instanceof Error ? error.message : String(error)}`),
    });
  }

  /** Whether the chatbot is known to run commands (true until found otherwise). */
  get commandsAvailable(): boolean {
    return this.#commands !== undefined;
  }

  /** A document went out as message `msgId`: its answers are followed. */
  expect(msgId: string): void {
    this.#confirmer.expect(msgId);
  }

  /** Follows the conversation while documents of this target are on their way, or may still be confirmed late (the daemon). */
  start(): void {
    if (this.#confirmer.awaitedCount() > 0 || this.#confirmer.lateCandidates().length > 0) this.#confirmer.start();
  }

  /** Records what the chatbot said meanwhile about documents earlier runs sent (see `Confirmer.catchUp`). */
  async catchUp(signal?: AbortSignal): Promise<void> {
    await this.#confirmer.catchUp(signal);
  }

  /** Whether the chatbot refused, before this run, the message a repeated send was dropped as (see `Confirmer.refusedBefore`). */
  async refusedBefore(msgId: string, signal?: AbortSignal): Promise<boolean> {
    return await this.#confirmer.refusedBefore(msgId, signal);
  }

  /** Documents of this target on their way. */
  awaitedCount(): number {
    return this.#confirmer.awaitedCount();
  }

  /** Documents sent longer ago than `confirmTimeout` without an answer become unconfirmed. */
  expire(): void {
    this.#confirmer.expire();
  }

  /** Waits for the confirmations of the documents on their way, up to `deadline`; the number still awaited. */
  async settle(options: { deadline: number; signal?: AbortSignal | undefined }): Promise<number> {
    const left = await this.#confirmer.settle({ ...options, pollMs: Math.min(this.#options.sync.confirmPollIntervalMs, 500) });
    if (left === 0) this.#confirmer.stop();
    return left;
  }

  /**
   * Deletes what is to go (replaced versions, failed documents, and, when `removedDue` says so, documents that left
   * their source), and sets the metadata of documents that moved. Nothing when the chatbot runs no commands.
   */
  async cleanup(options: { removedDue: 'grace' | 'all' | 'none'; metadata: readonly MetadataUpdate[]; signal?: AbortSignal | undefined }): Promise<CleanupResult> {
    const { store, sync, targetKey, now } = this.#options;
    const result: CleanupResult = { outcomes: [], blocked: undefined, metadataUpdated: 0 };
    const commands = this.#commands;
    if (!commands) return result;
    const ofTarget = <T extends { target: string | null }>(list: T[]) => list.filter((r) => r.target === null || r.target === targetKey);
    const removed = options.removedDue === 'none' ? [] : ofTarget(store.withStatus('removed', { target: targetKey }));
    const plan = planDeletions(
      {
        versions: ofTarget(store.kbVersions({ states: ['delete'] })),
        removed,
        // The guard on removals needs the count; without removals (every no-op) the whole state is not read for it.
        inKnowledgeBase: removed.length === 0 ? 0 : store.countWithStatus(['sent', 'ingested', 'unconfirmed', 'removed'], targetKey),
      },
      { deleteRemoved: sync.onRemove === 'delete' && options.removedDue !== 'none', removedDue: options.removedDue === 'all' ? 'all' : 'grace', maxDelete: sync.maxDelete, now: now() },
    );
    result.blocked = plan.blocked;
    if (plan.blocked) this.#warn(`nothing that left its source is deleted: ${plan.blocked.reason}; raise sync.maxDelete if this is intended`);
    try {
      result.outcomes = await runDeletions(plan, { store, commands, now, signal: options.signal, onOutcome: this.#options.onDeletion });
      for (const update of options.metadata) {
        let done = true;
        for (const [field, value] of Object.entries(update.fields)) {
          const reply = await commands.metadataSet(update.docId, field, value, options.signal);
          if (reply.ok) result.metadataUpdated++;
          // A document that is gone has no metadata to follow (check reports it); any other failure is tried again.
          else if (reply.reason !== 'document_not_found' && reply.reason !== 'doc_id_not_exist') done = false;
        }
        if (done) markMetadataFollowed(store, update, now());
      }
    } catch (error) {
      if (!isCommandsUnavailable(error)) throw error;
      this.#commandsUnavailable(error as Error);
    }
    return result;
  }

  /** Stops reading the conversation; resolves when no proof runs any more. */
  async close(): Promise<void> {
    this.#channel.close();
    await this.#confirmer.close();
  }

  #commandsUnavailable(error: Error): void {
    this.#commands = undefined;
    this.#confirmer.disableCommands();
    this.#warn(
      `the chatbot does not run /bluevector commands (${error.message}): its confirmations cannot be tied to documents, and nothing is replaced or deleted (as with onChange: append, onRemove: keep)`,
    );
  }

  #warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#options.onWarning?.(message);
  }
}

/** A moved document's metadata names its new path: no run needs to set it again (unless the row changed meanwhile). */
function markMetadataFollowed(store: StateStore, update: MetadataUpdate, now: number): void {
  const row = store.get(update.source, update.key);
  if (row && row.docId === update.docId && row.metadataPendingSince !== null) store.put({ ...row, metadataPendingSince: null, updatedAt: now });
}
