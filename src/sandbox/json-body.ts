import { parse as parseLossless } from 'lossless-json';
import type { Exchange } from './exchange.js';
import { badParam } from './envelope.js';

/**
 * Numbers of a request body: an integer beyond 2^53 (a 64-bit message ID, a transaction ID) stays exact as a
 * bigint; every other number is a JavaScript number. The real service is Java and reads int64 fields exactly.
 */
function readNumber(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number(text);
}

/** Parses a JSON text with 64-bit integers kept exact (see `readNumber`). Throws SyntaxError. */
export function parseJson(text: string): unknown {
  // A repeated key keeps its last value, as JSON.parse does.
  return parseLossless(text, null, { parseNumber: readNumber, onDuplicateKey: ({ newValue }) => newValue });
}

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
export async function readJsonBody(ex: Exchange, required: boolean, maxBytes: number): Promise<unknown> {
  if (!hasBody(ex)) {
    ex.req.resume();
    if (required) throw badParam('a JSON request body is required');
    return undefined;
  }
  if (!isJsonContentType(ex.req.headers['content-type'])) {
    ex.req.resume();
    throw badParam('Content-Type must be application/json');
  }
  const preloaded = ex.preloaded ?? (await readBody(ex, maxBytes));
  if (preloaded.tooLarge) throw badParam(`the request body is larger than ${maxBytes} bytes`);
  if (preloaded.parsed !== undefined) return preloaded.parsed;
  const text = preloaded.data.toString('utf8');
  if (text.trim() === '') {
    if (required) throw badParam('a JSON request body is required');
    return undefined;
  }
  try {
    return parseJson(text);
  } catch {
    throw badParam('the request body is not valid JSON');
  }
}

async function readBody(ex: Exchange, maxBytes: number): Promise<NonNullable<Exchange['preloaded']>> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of ex.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) tooLarge = true;
    else chunks.push(chunk);
  }
  return { data: Buffer.concat(chunks), tooLarge };
}

/**
 * Reads a JSON API request's body before faults and routing, and notes its `transaction_id` in the request log,
 * so that a send hit by a fault is still recorded with its transaction. Bodies that are not JSON are left alone.
 */
export async function preloadJsonBody(ex: Exchange, maxBytes: number): Promise<void> {
  if (ex.method === 'GET' || ex.method === 'HEAD' || !hasBody(ex) || !isJsonContentType(ex.req.headers['content-type'])) return;
  ex.preloaded = await readBody(ex, maxBytes);
  const text = ex.preloaded.data.toString('utf8');
  if (ex.preloaded.tooLarge || text.trim() === '') return;
  try {
    ex.preloaded.parsed = parseJson(text);
  } catch {
    return; // Malformed JSON: the route answers 10002.
  }
  const id = (ex.preloaded.parsed as { transaction_id?: unknown } | null)?.transaction_id;
  if (ex.log && (typeof id === 'number' || typeof id === 'bigint' || (typeof id === 'string' && /^\d+$/.test(id)))) {
    ex.log.transaction_id = typeof id === 'number' ? id : Number.isSafeInteger(Number(id)) ? Number(id) : String(id);
  }
}
