import path from 'node:path';
import type { Dispatcher } from 'undici';
import { loadUndici } from '../api/lazy-modules.js';
import { formatBytes } from '../util/units.js';
import { ValidationError } from '../errors.js';

/** The push image limit: under 1 MB (the server refuses larger ones with code 12002). */
export const PUSH_IMAGE_MAX_BYTES = 1024 * 1024;

/** The extensions a push image may have (code 12002 otherwise). */
export const PUSH_IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.jpg', '.jpeg', '.png']);

export interface CheckPushImageOptions {
  /** How the value is named in errors. @default "attachment_url" */
  field?: string | undefined;
  /** @default 10000 */
  timeoutMs?: number | undefined;
  /** @default PUSH_IMAGE_MAX_BYTES */
  maxBytes?: number | undefined;
  dispatcher?: Dispatcher | undefined;
}

export interface PushImageCheck {
  /** The image's size in bytes. */
  size: number;
  /** How the size was found: the HEAD response's Content-Length, or by counting a GET's bytes. */
  via: 'HEAD' | 'GET';
}

/**
 * Checks a push notification's image before it is sent, the way the server would: the URL must end in .jpg, .jpeg
 * or .png, must be downloadable (code 12004 otherwise), and the image must be under 1 MB (code 12002 otherwise).
 * The size comes from a HEAD request's Content-Length or, when that is missing, from a GET that stops reading once
 * past the limit. Throws a `ValidationError` naming the field.
 */
export async function checkPushImage(url: string, options: CheckPushImageOptions = {}): Promise<PushImageCheck> {
  const field = options.field ?? 'attachment_url';
  const maxBytes = options.maxBytes ?? PUSH_IMAGE_MAX_BYTES;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(field, `"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ValidationError(field, `"${url}" is not an http(s) URL`);
  const ext = path.posix.extname(decodeURIComponent(parsed.pathname)).toLowerCase();
  if (!PUSH_IMAGE_EXTENSIONS.includes(ext)) {
    throw new ValidationError(field, `a push image must end in .jpg, .jpeg or .png, not "${ext || '(no extension)'}" (the server would refuse it with code 12002)`);
  }

  const timeoutMs = options.timeoutMs ?? 10_000;
  const tooBig = (size: number, exact: boolean) =>
    new ValidationError(
      field,
      `the image is ${exact ? '' : 'over '}${formatBytes(size)} (${size} bytes${exact ? '' : ' read'}); a push image must be under ${maxBytes === PUSH_IMAGE_MAX_BYTES ? '1 MB' : formatBytes(maxBytes)} (the server would refuse it with code 12002)`,
    );
  const unreachable = (detail: string) =>
    new ValidationError(field, `${url} cannot be downloaded (${detail}); the server would refuse it with code 12004 (push image URL cannot be downloaded)`);

  const head = await request(url, 'HEAD', timeoutMs, options.dispatcher).catch((error: unknown) => {
    throw unreachable(describe(error));
  });
  await head.body?.cancel().catch(() => undefined);
  const length = Number(head.headers.get('content-length'));
  if (head.ok && head.headers.has('content-length') && Number.isFinite(length)) {
    if (length >= maxBytes) throw tooBig(length, true);
    return { size: length, via: 'HEAD' };
  }
  if (!head.ok && head.status !== 405 && head.status !== 501 && head.status !== 403) throw unreachable(`HTTP ${head.status}`);

  // No usable HEAD answer: count the bytes of a GET, reading no more than one byte past the limit.
  const get = await request(url, 'GET', timeoutMs, options.dispatcher).catch((error: unknown) => {
    throw unreachable(describe(error));
  });
  if (!get.ok) {
    await get.body?.cancel().catch(() => undefined);
    throw unreachable(`HTTP ${get.status}`);
  }
  let size = 0;
  const reader = get.body?.getReader();
  if (reader) {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size >= maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw tooBig(size, false);
        }
      }
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      throw unreachable(describe(error));
    }
  }
  return { size, via: 'GET' };
}

async function request(url: string, method: 'HEAD' | 'GET', timeoutMs: number, dispatcher: Dispatcher | undefined) {
  const { fetch } = await loadUndici();
  return fetch(url, { method, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs), ...(dispatcher ? { dispatcher } : {}) });
}

function describe(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'no response in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
