import { statSync } from 'node:fs';
import type { LanyingClient } from '../api/client.js';
import { ContentType } from '../api/resources/messages.js';
import { LocalFileError } from '../errors.js';
import type { Payload } from '../sources/types.js';
import { buildExt } from './document-metadata.js';

export interface SendTarget {
  /** The knowledge-base admin who sends (`from_user_id`, and the `user_id` of the upload slot). */
  from: number;
  /** The chatbot user the document goes to. */
  chatbot: number;
}

export interface SentDocument {
  /** 64-bit, as decimal text. */
  msgId: string | undefined;
  downloadUrl: string | undefined;
  bytes: number;
}

/**
 * Sends one document to the chatbot. A page: a text message whose content is the URL. A file: an upload slot
 * (acting as the admin, for the chatbot), the storage upload, then a file message. The `ext` carries the metadata;
 * the send carries `transactionId` so that a repeat after a crash is dropped by the server.
 */
export async function sendDocument(
  client: LanyingClient,
  payload: Payload,
  target: SendTarget,
  metadata: Record<string, string>,
  transactionId: number,
  signal?: AbortSignal,
): Promise<SentDocument> {
  const ext = buildExt(metadata);
  const to = { users: [target.chatbot] };
  if (payload.type === 'url') {
    const sent = await client.messages.send({ to, contentType: ContentType.TEXT, content: payload.url, ext, from: target.from, transactionId }, { signal });
    return { msgId: sent.msgIds[0], downloadUrl: undefined, bytes: 0 };
  }

  const { fsPath, name } = payload;
  // A file that changed since it was hashed is hashed again (and its source's limits checked again) before any byte
  // of it is uploaded.
  if (payload.expect) assertUnchanged(fsPath, payload.expect, payload.expect.size);
  const uploaded = await client.files.uploadChatFile({ body: { path: fsPath }, name, toId: target.chatbot, toType: 1 }, { actAs: target.from, signal });
  if (payload.expect) assertUnchanged(fsPath, payload.expect, uploaded.size);
  const sent = await client.messages.send(
    {
      to,
      contentType: ContentType.FILE,
      content: '',
      attachment: { dName: name, fLen: uploaded.size, url: uploaded.url },
      ext,
      from: target.from,
      transactionId,
    },
    { signal },
  );
  return { msgId: sent.msgIds[0], downloadUrl: uploaded.url, bytes: uploaded.size };
}

/**
 * Throws a "changed" LocalFileError when the file is not the version that was hashed. Synchronous: one `stat` of an
 * inode just read is a few microseconds, less than a trip through the thread pool while eight uploads wait on it.
 */
function assertUnchanged(fsPath: string | Buffer, stat: { size: number; mtimeMs: number; ino: number }, uploadedSize: number): void {
  const shown = typeof fsPath === 'string' ? fsPath : fsPath.toString();
  let now;
  try {
    now = statSync(fsPath);
  } catch (error) {
    throw new LocalFileError(shown, 'disappeared during its upload', { cause: error, changed: true });
  }
  if (now.size !== stat.size || now.mtimeMs !== stat.mtimeMs || now.ino !== stat.ino || uploadedSize !== stat.size) {
    throw new LocalFileError(shown, 'changed during its upload', { changed: true });
  }
}
