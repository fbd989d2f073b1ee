/**
 * The chatbot's `/bluevector` commands as typed calls: each sends the command text (`protocol/kb-commands.ts`) over
 * the channel and reads the chatbot's answer with the protocol's parser (`protocol/kb-command-replies.ts`).
 */

import { LanyingKbError } from '../errors.js';
import {
  type DeleteReply,
  type MetadataGetReply,
  type MetadataSetReply,
  parseDeleteReply,
  parseMetadataGetReply,
  parseMetadataSetReply,
  parseStatusReply,
  type StatusReply,
  type CommandFailure,
} from '../protocol/kb-command-replies.js';
import { bluevectorDeleteCommand, bluevectorMetadataGetCommand, bluevectorMetadataSetCommand, bluevectorStatusCommand } from '../protocol/kb-commands.js';
import type { KbChannel } from './channel.js';

/** The chatbot answered a command with something that is no answer to it (a chat answer: it does not run commands). */
export class CommandNotRunError extends LanyingKbError {
  override name = 'CommandNotRunError';
  readonly command: string;
  constructor(command: string, answer: string) {
    super(`the chatbot answered "${command}" with "${answer.slice(0, 80)}" instead of running it`);
    this.command = command;
  }
}

/** The chatbot ran a command and refused it (not an admin of the knowledge base, no such knowledge base, ...). */
export class CommandRefusedError extends LanyingKbError {
  override name = 'CommandRefusedError';
  readonly command: string;
  constructor(command: string, answer: string) {
    super(`the chatbot refused "${command}": ${answer.split('\n')[0]}`);
    this.command = command;
  }
}

export interface KbCommandsOptions {
  channel: KbChannel;
  /** The knowledge base's name (for `status` and `delete`). */
  kbName: string;
  /** How long to wait for an answer. */
  timeoutMs: number;
}

/** Typed `/bluevector` commands. Each throws `CommandTimeoutError` or `CommandNotRunError` when the chatbot does not run it. */
export class KbCommands {
  constructor(private readonly options: KbCommandsOptions) {}

  get kbName(): string {
    return this.options.kbName;
  }

  /** `/bluevector metadata get <doc>`. */
  async metadataGet(docId: string, signal?: AbortSignal): Promise<MetadataGetReply> {
    return this.#run(bluevectorMetadataGetCommand(docId), parseMetadataGetReply, signal);
  }

  /** `/bluevector metadata set <doc> <field> <value>`. */
  async metadataSet(docId: string, field: string, value: string, signal?: AbortSignal): Promise<MetadataSetReply> {
    return this.#run(bluevectorMetadataSetCommand(docId, field, value), parseMetadataSetReply, signal);
  }

  /** `/bluevector delete <kb> <doc>`. */
  async delete(docId: string, signal?: AbortSignal): Promise<DeleteReply> {
    return this.#run(bluevectorDeleteCommand(this.options.kbName, docId), parseDeleteReply, signal);
  }

  /** `/bluevector status <kb>`: the document count and the last 20 documents. */
  async status(signal?: AbortSignal): Promise<StatusReply | CommandFailure> {
    return this.#run(bluevectorStatusCommand(this.options.kbName), parseStatusReply, signal);
  }

  async #run<T>(command: string, parse: (input: { content: string; ext?: string | undefined }) => T | undefined, signal: AbortSignal | undefined): Promise<T> {
    const answer = await this.options.channel.command(command, { timeoutMs: this.options.timeoutMs, signal });
    const parsed = parse({ content: answer.content, ext: answer.ext });
    if (parsed === undefined) throw new CommandNotRunError(command, answer.content);
    return parsed;
  }
}
