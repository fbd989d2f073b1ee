import { createReadStream, openAsBlob, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { LocalFileError } from '../../errors.js';
import { USER_AGENT } from '../../version.js';
import type { BuiltBody, RawResponse, RequestOptions } from '../request.js';
import { UploadError } from '../errors.js';
import { loadFormData, loadMimeTypes, loadUndici } from '../lazy-modules.js';
import { Resource } from './resource.js';

/** `file_type` values of `/file/upload/chat`. */
export const FileType = Object.freeze({
  FILE: 100,
  VOICE_AMR: 101,
  IMAGE: 102,
  VIDEO: 103,
  VOICE_MP3: 104,
  GROUP_FILE: 200,
  GROUP_VOICE: 201,
  GROUP_IMAGE: 202,
  GROUP_VIDEO: 203,
});

/** What `GET /file/upload/chat` hands out. */
export interface UploadSlot {
  upload_url: string;
  upload_method: 'POST' | 'PUT' | string;
  download_url: string;
  oss_body_param?: Record<string, string> | null;
}

/**
 * What to upload. A file on disk streams from disk (undici `FormData` + `fs.openAsBlob`); a buffer, or a stream
 * of known size, goes through the `form-data` package with an exact Content-Length (storage refuses chunked bodies).
 * A stream is given as a factory so that a retry can open it again.
 */
export type UploadBody = { path: string | Buffer } | { buffer: Uint8Array } | { stream: () => Readable; size: number };

export interface UploadChatFileInput {
  body: UploadBody;
  /** The display name (`dName`), with its real extension. */
  name: string;
  /** The receiver: a user ID (`toType` 1) or a group ID (`toType` 2). */
  toId: number;
  /** @default 1 */
  toType?: 1 | 2;
  /** One of `FileType`. @default 100 */
  fileType?: number;
  /** The file part's content type. @default guessed from `name` */
  contentType?: string;
}

export interface UploadedFile {
  /** The `download_url` to put in a message's `attachment.url`. */
  url: string;
  /** Bytes uploaded. */
  size: number;
  /** The display name. */
  name: string;
}

/** Files: upload slots and uploads to object storage. */
export class Files extends Resource {
  /** `GET /file/upload/chat`: an upload slot for a chat file from `actAs` to `toId`. */
  async uploadSlot(input: { toId: number; toType?: 1 | 2; fileType?: number }, options: RequestOptions & { actAs: number }): Promise<UploadSlot> {
    const query = { file_type: input.fileType ?? FileType.FILE, to_id: input.toId, to_type: input.toType ?? 1 };
    return (await this.client.get<UploadSlot>('/file/upload/chat', query, options)).data;
  }

  /**
   * Uploads a chat file: asks for a slot acting as `actAs` (the user who will send the message), then uploads to
   * storage. When storage says the slot's policy expired, asks for a new slot once.
   */
  async uploadChatFile(input: UploadChatFileInput, options: RequestOptions & { actAs: number }): Promise<UploadedFile> {
    for (let slotAttempt = 0; ; slotAttempt++) {
      const slot = await this.uploadSlot(input, options);
      try {
        const size = await this.upload(slot, input.body, input.name, input.contentType, options);
        return { url: slot.download_url, size, name: input.name };
      } catch (error) {
        const expired = error instanceof UploadError && error.status === 403 && /expired/i.test(error.message);
        if (!expired || slotAttempt > 0) throw error;
      }
    }
  }

  /**
   * Uploads to a slot. POST: a multipart form with every `oss_body_param` field in the order received, then
   * `file` last, with an exact Content-Length. PUT: the raw body with a Content-Length. Any 2xx is success.
   * Returns the number of bytes sent.
   */
  async upload(slot: UploadSlot, body: UploadBody, name: string, contentType?: string, options: RequestOptions = {}): Promise<number> {
    const type = contentType ?? ((await loadMimeTypes()).lookup(name) || 'application/octet-stream');
    const target = new URL(slot.upload_url);
    const method = String(slot.upload_method).toUpperCase() === 'PUT' ? 'PUT' : 'POST';
    const describe = { method, path: `storage ${target.host}${target.pathname}` };
    let size = 0;
    const build = method === 'PUT' ? () => putBody(body) : () => postBody(slot.oss_body_param ?? {}, body, name, type);
    try {
      await this.client.raw({
        ...options,
        method,
        url: slot.upload_url,
        describe,
        retry: true,
        headers: { 'user-agent': USER_AGENT },
        body: async () => {
          const built = await build();
          size = built.size;
          return { body: built.body as BuiltBody['body'], headers: built.headers };
        },
        toError: (res) => uploadError(describe, res, (text) => this.client.screenServerText(text)),
      });
    } catch (error) {
      throw asLocalFileError(body, error);
    }
    return size;
  }
}

interface UploadRequestBody {
  body: unknown;
  /** Bytes of file content. */
  size: number;
  /** Content-Length and Content-Type, where undici does not set them itself. */
  headers: Record<string, string>;
}

async function postBody(fields: Record<string, string>, body: UploadBody, name: string, type: string): Promise<UploadRequestBody> {
  if ('path' in body) {
    const blob = await openBlob(body.path, type);
    const { FormData } = await loadUndici();
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    form.append('file', blob, name);
    // undici's own FormData: undici writes the boundary and an exact Content-Length itself, and streams the file.
    return { body: form, size: blob.size, headers: {} };
  }
  const FormDataStream = await loadFormData();
  const form = new FormDataStream();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  const size = 'buffer' in body ? body.buffer.byteLength : body.size;
  const content = 'buffer' in body ? Buffer.from(body.buffer.buffer, body.buffer.byteOffset, body.buffer.byteLength) : body.stream();
  form.append('file', content, { filename: name, contentType: type, knownLength: size });
  // Note: without an explicit Content-Length undici would send this stream chunked, which storage refuses.
  const contentLength = await promisify(form.getLength.bind(form))();
  return { body: form, size, headers: { 'content-type': String(form.getHeaders()['content-type']), 'content-length': String(contentLength) } };
}

async function putBody(body: UploadBody): Promise<UploadRequestBody> {
  // Note: no Content-Type. A presigned PUT URL's signature covers the Content-Type it was signed with, and the
  // slot does not say which one that was: storage signs URLs without one, so any type we sent would be refused.
  const headersFor = (size: number) => ({ 'content-length': String(size) });
  if ('path' in body) {
    const stat = statFile(body.path);
    return { body: createReadStream(body.path), size: stat.size, headers: headersFor(stat.size) };
  }
  if ('buffer' in body) return { body: body.buffer, size: body.buffer.byteLength, headers: headersFor(body.buffer.byteLength) };
  return { body: body.stream(), size: body.size, headers: headersFor(body.size) };
}

async function openBlob(filepath: string | Buffer, type: string): Promise<Blob> {
  // Note: openAsBlob reports a missing file as ERR_INVALID_ARG_VALUE; a stat first gives the real reason.
  const stat = statFile(filepath);
  if (!stat.isFile()) throw new LocalFileError(shownPath(filepath), 'is not a regular file');
  try {
    return await openAsBlob(filepath, { type });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const transient = code !== undefined && OUT_OF_DESCRIPTORS.has(code);
    throw new LocalFileError(shownPath(filepath), `cannot be read (${code ?? String(error)})`, { cause: error, changed: code === 'ENOENT' || code === 'ERR_INVALID_ARG_VALUE', transient });
  }
}

/** Synchronous: a `stat` costs microseconds, less than the thread-pool round trip an uploading document waits on. */
function statFile(filepath: string | Buffer) {
  try {
    return statSync(filepath);
  } catch (error) {
    throw new LocalFileError(shownPath(filepath), `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error, changed: true });
  }
}

function asLocalFileError(body: UploadBody, error: unknown): unknown {
  if (!('path' in body) || !(error instanceof Error) || error instanceof LocalFileError) return error;
  if (error.name === 'NotReadableError') {
    return new LocalFileError(shownPath(body.path), 'changed while it was being uploaded', { cause: error, changed: true });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return new LocalFileError(shownPath(body.path), `cannot be read (${code})`, { cause: error, changed: code === 'ENOENT' });
  }
  if (code !== undefined && OUT_OF_DESCRIPTORS.has(code) && (error as NodeJS.ErrnoException).syscall === 'open') {
    return new LocalFileError(shownPath(body.path), `cannot be opened now (${code}: too many open files); worth trying again`, { cause: error, transient: true });
  }
  return error;
}

/** A process (EMFILE) or the system (ENFILE) out of file descriptors: a passing condition, worth a retry. */
const OUT_OF_DESCRIPTORS = new Set(['EMFILE', 'ENFILE']);

/** A path as people read it; bytes that are not UTF-8 show as replacement characters. */
function shownPath(filepath: string | Buffer): string {
  return typeof filepath === 'string' ? filepath : filepath.toString('utf8');
}

function uploadError(describe: { method: string; path: string }, res: RawResponse, screen: (text: string | undefined) => string | undefined): UploadError {
  const ossCode = screen(/<Code>([^<]*)<\/Code>/.exec(res.text)?.[1]);
  const message = screen(/<Message>([^<]*)<\/Message>/.exec(res.text)?.[1]);
  return new UploadError({ ...describe, status: res.status, ossCode, serverMessage: message });
}
