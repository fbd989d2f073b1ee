/**
 * Plain-HTTP helpers for the sandbox tests: they talk to a running sandbox with undici only, never through the
 * lanying-kb client, so that the sandbox is tested against the documented wire format.
 */
import net from 'node:net';
import { crc32 } from 'node:zlib';
import { parse as parseLossless } from 'lossless-json';
import { request } from 'undici';
import type { Sandbox } from '../../src/sandbox/index.js';

/** Parsed JSON from a response; loosely typed on purpose, tests assert on its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  body: Json;
}

export interface ApiCallOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (with `contentType`, default application/json). */
  rawBody?: string | Buffer;
  contentType?: string | null;
  query?: Record<string, string | number>;
  /** The `user_id` header. */
  userId?: number | string;
  /** Default: the sandbox's token; null sends none. */
  token?: string | null;
  /** Default: the sandbox's app id; null sends none. */
  appId?: string | null;
  headers?: Record<string, string>;
}

/**
 * JSON with every integer beyond 2^53 kept as its decimal text (message IDs are 64-bit): `msg_ids[0]` of a send
 * is a string, comparable with `state().messages[i].msg_id`. Never `JSON.parse`, which would round them.
 */
export function parseJsonExact(text: string): Json {
  return parseLossless(text, null, (n) => (/^-?\d+$/.test(n) && !Number.isSafeInteger(Number(n)) ? n : Number(n)));
}

async function toResult(res: Awaited<ReturnType<typeof request>>): Promise<HttpResult> {
  const text = await res.body.text();
  let body: Json;
  try {
    body = parseJsonExact(text);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, body };
}

/** Calls an API route with the common headers. */
export async function api(sb: Sandbox, method: string, path: string, options: ApiCallOptions = {}): Promise<HttpResult> {
  const url = new URL(sb.url + path);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { ...options.headers };
  if (options.appId !== null) headers.app_id = options.appId ?? sb.appId;
  if (options.token !== null) headers['access-token'] = options.token ?? sb.accessToken;
  if (options.userId !== undefined) headers.user_id = String(options.userId);
  let body: string | Buffer | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await request(url, { method: method as 'GET', headers, body });
  return toResult(res);
}

/** Any HTTP request (no API headers unless given). */
export async function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpResult> {
  const res = await request(url, { method: (options.method ?? 'GET') as 'GET', headers: options.headers, body: options.body });
  return toResult(res);
}

/** The envelope's `code`, asserting the HTTP status is 200 (business errors are HTTP 200). */
export async function codeOf(result: Promise<HttpResult> | HttpResult): Promise<number> {
  const r = await result;
  if (r.status !== 200) throw new Error(`expected HTTP 200, got ${r.status}: ${r.text}`);
  return r.body.code as number;
}

export async function registerUser(sb: Sandbox, username: string, password = 'secret-1'): Promise<number> {
  const r = await api(sb, 'POST', '/user/register/v2', { body: { username, password }, token: null });
  if (r.body?.code !== 200) throw new Error(`register ${username} failed: ${r.text}`);
  return r.body.data.user_id as number;
}

export async function sendMessage(sb: Sandbox, body: Record<string, unknown>, options: ApiCallOptions = {}): Promise<HttpResult> {
  return api(sb, 'POST', '/message/send', { ...options, body });
}

/** Sends a text from `from` to `to` (one-to-one). */
export async function sendText(sb: Sandbox, from: number, to: number, content: string, extra: Record<string, unknown> = {}): Promise<HttpResult> {
  return sendMessage(sb, { targets: [to], type: 1, content_type: 0, content, from_user_id: from, ...extra });
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export type FormPart = { name: string; value: string } | { name: string; filename: string; content: Buffer; contentType?: string };

/** A multipart/form-data body built by hand, parts in the order given. */
export function multipart(parts: FormPart[], boundary = '----sandboxtestboundary7d1f'): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}\r\n\r\n`,
        ),
      );
      chunks.push(part.content, Buffer.from('\r\n'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface UploadSlot {
  upload_url: string;
  upload_method: string;
  download_url: string;
  oss_body_param: Record<string, string>;
}

export async function uploadSlot(sb: Sandbox, uploader: number, toId: number, toType = 1): Promise<UploadSlot> {
  const r = await api(sb, 'GET', '/file/upload/chat', { userId: uploader, query: { file_type: 100, to_id: toId, to_type: toType } });
  if (r.body?.code !== 200) throw new Error(`upload slot failed: ${r.text}`);
  return r.body.data as UploadSlot;
}

/** The slot's fields then `file` last, as OSS wants. */
export function slotForm(slot: UploadSlot, content: Buffer, filename = 'doc.txt'): { body: Buffer; contentType: string } {
  const fields: FormPart[] = Object.entries(slot.oss_body_param).map(([name, value]) => ({ name, value }));
  return multipart([...fields, { name: 'file', filename, content, contentType: 'text/plain' }]);
}

export async function postForm(url: string, form: { body: Buffer; contentType: string }): Promise<HttpResult> {
  return http(url, { method: 'POST', body: form.body, headers: { 'content-type': form.contentType, 'content-length': String(form.body.length) } });
}

/** Gets a slot as `uploader` for `toId`, uploads `content`, returns the download URL. */
export async function uploadFile(sb: Sandbox, uploader: number, toId: number, content: Buffer, filename = 'doc.txt'): Promise<string> {
  const slot = await uploadSlot(sb, uploader, toId);
  const r = await postForm(slot.upload_url, slotForm(slot, content, filename));
  if (r.status !== 200) throw new Error(`upload failed: ${r.status} ${r.text}`);
  return slot.download_url;
}

/** The `<Code>` of an OSS XML error. */
export function ossCode(result: HttpResult): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(result.text)?.[1];
}

/** Writes raw bytes on a new socket (then half-closes it) and returns everything the server sent back. */
export function rawExchange(baseUrl: string, data: Buffer | string): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(data);
      socket.end();
    });
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (out += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}

/** A zip archive of stored (uncompressed) entries: enough for central-directory listing. */
export function buildZip(entries: { name: string; content: Buffer | string }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const data = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : entry.content;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
