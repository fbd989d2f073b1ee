import { promises as fsp } from 'node:fs';
import { fetch, type Dispatcher } from 'undici';
import { streamToFile } from './stream-to-file.js';

/** The chatbot could not download a document: the document ends in `error` with reason `download_failed`. */
export class DownloadFailure extends Error {
  override name = 'DownloadFailure';
  readonly reason = 'download_failed';
}

export interface FetchedFile {
  path: string;
  size: number;
  sha256: string;
  contentType: string | undefined;
}

export interface FetchOptions {
  dispatcher: Dispatcher;
  timeoutMs: number;
  maxBytes: number;
  /** Where to write the body. */
  tmpPath: string;
  signal: AbortSignal;
}

/**
 * Downloads a URL the way the chatbot's worker does: a plain GET with no custom headers, redirects followed, only
 * HTTP 200 or 206 accepted, a Content-Length over the limit refused. The body streams to `tmpPath` while it is
 * counted and hashed. The real worker checks the size only when Content-Length is present; the sandbox also stops a
 * body without one once it passes the limit (the stricter choice, and no unbounded download).
 */
export async function fetchToFile(url: string, options: FetchOptions): Promise<FetchedFile> {
  let response;
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  try {
    response = await fetch(url, { dispatcher: options.dispatcher, signal, redirect: 'follow' });
  } catch (error) {
    throw new DownloadFailure(`GET ${url} failed: ${(error as Error).message}`, { cause: error });
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadFailure(`GET ${url} answered HTTP ${response.status}`);
  }
  const length = response.headers.get('content-length');
  if (length !== null && Number(length) > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadFailure(`GET ${url}: Content-Length ${length} is over the ${options.maxBytes}-byte limit`);
  }
  if (!response.body) throw new DownloadFailure(`GET ${url}: no body`);
  let written;
  try {
    written = await streamToFile(response.body as AsyncIterable<Uint8Array>, options.tmpPath, { maxBytes: options.maxBytes });
  } catch (error) {
    throw new DownloadFailure(`GET ${url}: the body could not be read: ${(error as Error).message}`, { cause: error });
  }
  if (written.overLimit) {
    await fsp.rm(options.tmpPath, { force: true });
    throw new DownloadFailure(`GET ${url}: the body is over the ${options.maxBytes}-byte limit`);
  }
  return { path: options.tmpPath, size: written.size, sha256: written.sha256, contentType: response.headers.get('content-type') ?? undefined };
}
