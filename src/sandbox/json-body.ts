import type { Exchange } from './exchange.js';
import { badParam } from './envelope.js';

/** The largest JSON body the API accepts (the real limit is not documented; 1 MiB is plenty for every call). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

function hasBody(ex: Exchange): boolean {
  const length = ex.req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return ex.req.headers['transfer-encoding'] !== undefined;
}

/** Whether a Content-Type header names JSON (`application/json`, with any parameters). */
export function isJsonContentType(header: string | undefined): boolean {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * Reads and parses a JSON request body. Only `Content-Type: application/json` is accepted; a missing body (when
 * required), another content type, malformed JSON or a body over 1 MiB are all code 10002.
 */
export async function readJsonBody(ex: Exchange, required: boolean): Promise<unknown> {
  if (!hasBody(ex)) {
    ex.req.resume();
    if (required) throw badParam('a JSON request body is required');
    return undefined;
  }
  if (!isJsonContentType(ex.req.headers['content-type'])) {
    ex.req.resume();
    throw badParam('Content-Type must be application/json');
  }
  const { data, tooLarge } = ex.preloaded ?? (await readBody(ex));
  if (tooLarge) throw badParam(`the request body is larger than ${MAX_JSON_BODY_BYTES} bytes`);
  const text = data.toString('utf8');
  if (text.trim() === '') {
    if (required) throw badParam('a JSON request body is required');
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badParam('the request body is not valid JSON');
  }
}

async function readBody(ex: Exchange): Promise<{ data: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of ex.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  }
  return { data: Buffer.concat(chunks), tooLarge };
}

/**
 * Reads a JSON API request's body before faults and routing, and notes its `transaction_id` in the request log,
 * so that a send hit by a fault is still recorded with its transaction. Bodies that are not JSON are left alone.
 */
export async function preloadJsonBody(ex: Exchange): Promise<void> {
  if (ex.method === 'GET' || ex.method === 'HEAD' || !hasBody(ex) || !isJsonContentType(ex.req.headers['content-type'])) return;
  ex.preloaded = await readBody(ex);
  if (ex.preloaded.tooLarge || !ex.log) return;
  try {
    const parsed = JSON.parse(ex.preloaded.data.toString('utf8')) as { transaction_id?: unknown } | null;
    const id = parsed?.transaction_id;
    if (typeof id === 'number' && Number.isSafeInteger(id)) ex.log.transaction_id = id;
  } catch {
    // Malformed JSON: the route answers 10002.
  }
}
