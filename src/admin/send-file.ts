import path from 'node:path';
import type { LanyingClient } from '../api/client.js';
import { AuthError, ApiError, ConnectionError } from '../api/errors.js';
import { FileType } from '../api/resources/files.js';
import { ContentType, type MessageTarget } from '../api/resources/messages.js';

export interface SendFileMessageInput {
  /** The sender: the upload slot is asked for as this user, and the message is sent on their behalf. */
  from: number;
  /** Users or groups (never both). */
  to: MessageTarget;
  /** The file on disk. */
  path: string;
  /** The display name (`dName`), with its real extension. @default the file's base name */
  name?: string | undefined;
  /** The message's `ext` (a JSON object). */
  ext?: Record<string, unknown> | undefined;
}

/** What happened for one receiver. */
export interface SendFileResult {
  /** The user or group ID. */
  target: number;
  ok: boolean;
  /** The `download_url` the attachment points at. */
  url?: string;
  /** Bytes uploaded. */
  size?: number;
  /** Message IDs (64-bit) as decimal text. */
  msgIds?: string[];
  /** Why it failed: the error's one-line message. */
  error?: string;
}

/**
 * Sends a file as a file message (`content_type` 4, attachment `{dName, fLen, url}`) to each receiver. An upload
 * slot is per receiver, so the file is uploaded once per receiver, then sent. A receiver the API refuses is a
 * failed result and the others go on; an authentication error, or a local file that cannot be read, is thrown.
 */
export async function sendFileMessage(client: LanyingClient, input: SendFileMessageInput): Promise<SendFileResult[]> {
  const isUsers = 'users' in input.to;
  const targets = isUsers ? (input.to as { users: number[] }).users : (input.to as { groups: number[] }).groups;
  const name = input.name ?? path.basename(input.path);
  const results: SendFileResult[] = [];
  for (const target of targets) {
    try {
      const uploaded = await client.files.uploadChatFile(
        { body: { path: input.path }, name, toId: target, toType: isUsers ? 1 : 2, fileType: FileType.FILE },
        { actAs: input.from },
      );
      const sent = await client.messages.send({
        to: isUsers ? { users: [target] } : { groups: [target] },
        contentType: ContentType.FILE,
        attachment: { dName: name, fLen: uploaded.size, url: uploaded.url },
        ...(input.ext ? { ext: input.ext } : {}),
        from: input.from,
      });
      results.push({ target, ok: true, url: uploaded.url, size: uploaded.size, msgIds: sent.msgIds });
    } catch (error) {
      if (error instanceof AuthError || !(error instanceof ApiError || error instanceof ConnectionError)) throw error;
      results.push({ target, ok: false, error: error.message });
    }
  }
  return results;
}
