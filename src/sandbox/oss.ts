import { createReadStream, promises as fsp } from 'node:fs';
import { finished } from 'node:stream/promises';
import busboy from 'busboy';
import type { SandboxContext } from './context.js';
import { canRespond, headerValue, type Exchange } from './exchange.js';
import { newRequestId, OssFailure, sendOssError } from './oss-errors.js';
import { sameSecret, type PolicyDocument } from './oss-signing.js';
import type { StoredObject } from './store.js';
import { streamToFile, type WrittenFile } from './stream-to-file.js';

/**
 * The object-storage endpoint under `/_oss/<bucket>[/<key>]`, as strict as Aliyun OSS:
 * - `POST /_oss/<bucket>`: PostObject, a multipart form with the signed fields and `file` as the LAST field;
 * - `PUT /_oss/<bucket>/<key>?OSSAccessKeyId&Expires&Signature`: a presigned PUT of the raw body;
 * - `GET|HEAD /_oss/<bucket>/<key>?OSSAccessKeyId&Expires&Signature`: a presigned download (what the 302 of
 *   `/file/download/chat` points at). The bucket is private: an unsigned GET is refused.
 * Errors are XML documents. Uploads stream to disk; the whole file is never in memory.
 */
export async function handleOss(ex: Exchange, ctx: SandboxContext): Promise<void> {
  try {
    const { bucket, key } = parseOssPath(ex.pathname);
    if (bucket !== ctx.signer.bucket) throw new OssFailure(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    if (ex.method === 'POST' && key === '') await postObject(ex, ctx, bucket);
    else if (ex.method === 'PUT' && key !== '') await putObject(ex, ctx, bucket, key);
    else if ((ex.method === 'GET' || ex.method === 'HEAD') && key !== '') await getObject(ex, ctx, bucket, key);
    else throw new OssFailure(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  } catch (error) {
    if (!(error instanceof OssFailure)) throw error;
    await drain(ex);
    sendOssError(ex, error);
  }
}

function parseOssPath(pathname: string): { bucket: string; key: string } {
  const rest = pathname.slice('/_oss/'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  try {
    return { bucket: decodeURIComponent(bucket), key: rawKey.split('/').map(decodeURIComponent).join('/') };
  } catch {
    throw new OssFailure(400, 'InvalidObjectName', 'The specified object name is not valid.');
  }
}

/** Reads whatever is left of the request body, so that an error answer does not cut the client off. */
async function drain(ex: Exchange): Promise<void> {
  if (ex.req.complete || ex.req.destroyed) return;
  ex.req.resume();
  await finished(ex.req).catch(() => undefined);
}

/** A body must announce its length: storage refuses chunked uploads (411), as OSS does. */
function requireContentLength(ex: Exchange): number {
  const header = ex.req.headers['content-length'];
  if (header === undefined) throw new OssFailure(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
  const length = Number(header);
  if (!Number.isSafeInteger(length) || length < 0) throw new OssFailure(400, 'InvalidArgument', 'The Content-Length header is not valid.');
  return length;
}

function accessDenied(message: string): OssFailure {
  return new OssFailure(403, 'AccessDenied', message);
}

/** The checks of a signed form, made when the `file` part arrives (everything after it is not read). */
interface CheckedForm {
  key: string;
  minBytes: number;
  maxBytes: number;
  callback: boolean;
  successStatus: number;
}

const REQUIRED_FIELDS = ['ossaccesskeyid', 'policy', 'signature', 'key'] as const;

function checkForm(fields: Map<string, string>, bucket: string, ctx: SandboxContext): CheckedForm {
  for (const name of REQUIRED_FIELDS) {
    if (!fields.get(name)) {
      throw new OssFailure(400, 'InvalidArgument', `The form field "${name === 'ossaccesskeyid' ? 'OSSAccessKeyId' : name}" is required before "file" (fields after "file" are not read).`);
    }
  }
  const accessKeyId = fields.get('ossaccesskeyid') as string;
  const policyText = fields.get('policy') as string;
  const signature = fields.get('signature') as string;
  const key = fields.get('key') as string;
  if (!sameSecret(accessKeyId, ctx.signer.accessKeyId)) throw new OssFailure(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  if (!sameSecret(signature, ctx.signer.signPolicy(policyText))) {
    throw new OssFailure(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  let policy: PolicyDocument;
  try {
    policy = JSON.parse(Buffer.from(policyText, 'base64').toString('utf8')) as PolicyDocument;
  } catch {
    throw new OssFailure(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  const expiration = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : Number.NaN;
  if (Number.isNaN(expiration) || !Array.isArray(policy.conditions)) throw new OssFailure(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid Simple-Condition.');
  if (expiration <= ctx.options.now()) throw accessDenied('Invalid according to Policy: Policy expired.');

  let minBytes = 0;
  let maxBytes = Number.MAX_SAFE_INTEGER;
  const failed = (condition: unknown) => accessDenied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
  for (const condition of policy.conditions) {
    if (Array.isArray(condition)) {
      const [op, field, value] = condition as unknown[];
      if (op === 'content-length-range') {
        minBytes = Number(field);
        maxBytes = Number(value);
        continue;
      }
      const name = String(field).replace(/^\$/, '').toLowerCase();
      const actual = name === 'bucket' ? bucket : fields.get(name);
      if (String(op).toLowerCase() === 'eq' && actual !== value) throw failed(condition);
      if (String(op).toLowerCase() === 'starts-with' && !(actual ?? '').startsWith(String(value))) throw failed(condition);
    } else if (condition !== null && typeof condition === 'object') {
      for (const [name, value] of Object.entries(condition)) {
        const actual = name.toLowerCase() === 'bucket' ? bucket : fields.get(name.toLowerCase());
        if (actual !== value) throw failed(condition);
      }
    }
  }

  const callbackText = fields.get('callback');
  if (callbackText !== undefined && callbackText !== '') {
    let callback: unknown;
    try {
      callback = JSON.parse(Buffer.from(callbackText, 'base64').toString('utf8'));
    } catch {
      callback = undefined;
    }
    const url = (callback as { callbackUrl?: unknown } | undefined)?.callbackUrl;
    if (typeof url !== 'string' || url === '') throw new OssFailure(400, 'InvalidArgument', 'The callback configuration is not json format.');
  }
  const status = Number(fields.get('success_action_status') ?? 204);
  return { key, minBytes, maxBytes, callback: Boolean(callbackText), successStatus: [200, 201, 204].includes(status) ? status : 204 };
}

async function postObject(ex: Exchange, ctx: SandboxContext, bucket: string): Promise<void> {
  requireContentLength(ex);
  const malformed = (detail: string) => new OssFailure(400, 'MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data: ${detail}.`);
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: ex.req.headers, limits: { fieldSize: 64 * 1024, fields: 64, parts: 80 } });
  } catch {
    throw malformed('the Content-Type must be multipart/form-data with a boundary');
  }

  // Form field names are case-insensitive, as OSS treats them.
  const fields = new Map<string, string>();
  let fileSeen = false;
  let afterFile: string | undefined;
  let failure: OssFailure | undefined;
  let form: CheckedForm | undefined;
  let upload: Promise<WrittenFile & { tmp: string }> | undefined;
  let mimeType: string | undefined;
  /** The file part being stored: ended by hand when the client goes away (the parser then never ends it). */
  let fileStream: NodeJS.ReadableStream & { destroy(error?: Error): void } | undefined;

  parser.on('field', (name, value, info) => {
    if (fileSeen) {
      afterFile ??= name;
      return;
    }
    if (info.valueTruncated) failure ??= new OssFailure(400, 'InvalidArgument', `The form field "${name}" is too long.`);
    fields.set(name.toLowerCase(), value);
  });
  parser.on('file', (name, stream, info) => {
    if (fileSeen || name !== 'file') {
      if (fileSeen) afterFile ??= name;
      else failure ??= malformed(`a file part must be named "file" (got "${name}")`);
      stream.resume();
      return;
    }
    fileSeen = true;
    try {
      form = failure ? undefined : checkForm(fields, bucket, ctx);
    } catch (error) {
      if (!(error instanceof OssFailure)) throw error;
      failure = error;
    }
    if (!form) {
      stream.resume();
      return;
    }
    mimeType = info.mimeType;
    fileStream = stream;
    const tmp = ctx.storage.tempPath();
    upload = streamToFile(stream, tmp, { maxBytes: form.maxBytes, drain: true }).then((written) => ({ ...written, tmp }));
  });
  const limit = () => {
    failure ??= malformed('too many form fields');
  };
  parser.on('fieldsLimit', limit);
  parser.on('partsLimit', limit);

  let parseError: string | undefined;
  const parsed = await new Promise<boolean>((resolve) => {
    if (ex.req.destroyed) {
      // The client went away before its body was read (while the request waited out a latency fault): neither the
      // parser nor the request will say anything any more.
      resolve(false);
      return;
    }
    parser.on('close', () => resolve(true));
    parser.on('error', (error: Error) => {
      parseError = error.message;
      resolve(false);
    });
    ex.req.on('close', () => {
      if (ex.req.complete) return;
      // The client went away mid-body (killed, reset): the file part will never end by itself.
      fileStream?.destroy(new Error('the client went away during the upload'));
      resolve(false);
    });
    ex.req.pipe(parser);
  });
  if (parseError !== undefined) {
    // The parser gave up mid-body (e.g. "Malformed part header": a control character in a part's filename). The
    // rest of the body is read so that the refusal below reaches the client; before, it was taken for a client
    // that went away and never answered (issue 10, item 11). What real OSS answers to such a header is unknown.
    ex.req.unpipe(parser);
    await drain(ex);
  }
  const written = upload ? await upload.catch(() => undefined) : undefined;
  const discard = async () => {
    if (written && !written.overLimit) await fsp.rm(written.tmp, { force: true });
  };
  if (ex.abandoned || !ex.req.complete) {
    // The client went away, or sent less than its Content-Length (answered on the socket, see server.ts).
    await discard();
    return;
  }
  if (!parsed) {
    await discard();
    throw malformed(parseError === undefined ? 'the multipart body ended unexpectedly' : `${parseError.toLowerCase()} (a part header may not hold control characters)`);
  }
  if (failure) {
    await discard();
    throw failure;
  }
  if (afterFile !== undefined) {
    await discard();
    throw malformed(`"file" must be the last form field, but "${afterFile}" follows it`);
  }
  if (!fileSeen || !form || !written) {
    await discard();
    throw new OssFailure(400, 'InvalidArgument', "The bucket POST must contain the specified 'file'. If it is specified, please check the order of the fields.");
  }
  if (written.overLimit || written.size > form.maxBytes) {
    await discard();
    throw new OssFailure(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
  }
  if (written.size < form.minBytes) {
    await discard();
    throw new OssFailure(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size.');
  }
  const object = await storeObject(ctx, bucket, form.key, written, mimeType);
  if (!canRespond(ex)) return;
  const headers = { etag: etagOf(object), 'x-oss-request-id': newRequestId() };
  if (form.callback) {
    // With a callback, OSS answers 200 with the callback server's body; this is what the Lanying server says.
    const body = JSON.stringify({ Status: 'OK' });
    ex.res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    ex.res.end(body);
    return;
  }
  ex.res.writeHead(form.successStatus, { ...headers, 'content-length': '0' });
  ex.res.end();
}

async function storeObject(ctx: SandboxContext, bucket: string, key: string, written: WrittenFile & { tmp: string }, contentType: string | undefined): Promise<StoredObject> {
  const path = await ctx.storage.commit(written.tmp, bucket, key);
  const slot = ctx.store.slots.get(key);
  const object: StoredObject = {
    bucket,
    key,
    size: written.size,
    sha256: written.sha256,
    ...(contentType ? { content_type: contentType } : {}),
    uploader: slot?.uploader ?? 0,
    to_id: slot?.to_id ?? 0,
    to_type: slot?.to_type ?? 0,
    uploaded_at: ctx.options.now(),
    path,
  };
  ctx.store.objects.set(key, object);
  return object;
}

function etagOf(object: StoredObject): string {
  return `"${object.sha256.slice(0, 32).toUpperCase()}"`;
}

/** Checks an OSS V1 presigned query (`OSSAccessKeyId`, `Expires`, `Signature`) for this method and object. */
function checkPresigned(ex: Exchange, ctx: SandboxContext, bucket: string, key: string, verb: string): void {
  const query = ex.url.searchParams;
  const accessKeyId = query.get('OSSAccessKeyId');
  const expires = query.get('Expires');
  const signature = query.get('Signature');
  if (!accessKeyId || !expires || !signature) throw accessDenied('Anonymous access is forbidden for this operation.');
  if (!sameSecret(accessKeyId, ctx.signer.accessKeyId)) throw new OssFailure(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.');
  if (!/^\d+$/.test(expires)) throw accessDenied('Invalid Expires.');
  const expected = ctx.signer.presignSignature(verb, bucket, key, expires, headerValue(ex.req, 'content-type') ?? '', headerValue(ex.req, 'content-md5') ?? '');
  if (!sameSecret(signature, expected)) {
    throw new OssFailure(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  if (Number(expires) * 1000 <= ctx.options.now()) throw accessDenied('Request has expired.');
}

/**
 * A presigned PUT. Its signature covers Content-Type and Content-MD5 as OSS V1 does; the URLs handed out are signed
 * with both empty, so the upload must send neither header (a Content-Type makes it SignatureDoesNotMatch).
 */
async function putObject(ex: Exchange, ctx: SandboxContext, bucket: string, key: string): Promise<void> {
  const length = requireContentLength(ex);
  checkPresigned(ex, ctx, bucket, key, 'PUT');
  if (length > ctx.options.ossMaxBytes) throw new OssFailure(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
  const tmp = ctx.storage.tempPath();
  let written: WrittenFile;
  try {
    written = await streamToFile(ex.req, tmp, { maxBytes: ctx.options.ossMaxBytes });
  } catch {
    return; // the client went away (or sent less than its Content-Length: answered on the socket).
  }
  if (ex.abandoned || !ex.req.complete) {
    await fsp.rm(tmp, { force: true });
    return;
  }
  const contentType = ex.req.headers['content-type'];
  const object = await storeObject(ctx, bucket, key, { ...written, tmp }, contentType);
  if (!canRespond(ex)) return;
  ex.res.writeHead(200, { etag: etagOf(object), 'x-oss-request-id': newRequestId(), 'content-length': '0' });
  ex.res.end();
}

/** Parses a single `bytes=` range; undefined for no (or an ignorable) Range header. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return size === 0 && start === 0 ? undefined : 'unsatisfiable';
  return { start, end };
}

/** A presigned download; honours a single byte range (the chatbot sends `Range: bytes=0-`). */
async function getObject(ex: Exchange, ctx: SandboxContext, bucket: string, key: string): Promise<void> {
  ex.req.resume();
  checkPresigned(ex, ctx, bucket, key, ex.method === 'HEAD' ? 'HEAD' : 'GET');
  const object = ctx.store.objects.get(key);
  if (!object || object.bucket !== bucket) throw new OssFailure(404, 'NoSuchKey', 'The specified key does not exist.');
  const range = parseRange(ex.req.headers.range, object.size);
  if (range === 'unsatisfiable') throw new OssFailure(416, 'InvalidRange', 'The requested range cannot be satisfied.');
  if (!canRespond(ex)) return;
  const headers: Record<string, string> = {
    'content-type': object.content_type ?? 'application/octet-stream',
    etag: etagOf(object),
    'accept-ranges': 'bytes',
    'last-modified': new Date(object.uploaded_at).toUTCString(),
    'x-oss-request-id': newRequestId(),
  };
  const start = range?.start ?? 0;
  const end = range?.end ?? object.size - 1;
  headers['content-length'] = String(Math.max(0, end - start + 1));
  if (range) headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
  ex.res.writeHead(range ? 206 : 200, headers);
  if (ex.method === 'HEAD' || object.size === 0) {
    ex.res.end();
    return;
  }
  const stream = createReadStream(object.path, { start, end });
  stream.on('error', () => ex.res.destroy());
  stream.pipe(ex.res);
  await finished(ex.res).catch(() => undefined);
}
