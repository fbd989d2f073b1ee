import { LosslessNumber, isInteger, parse, stringify } from 'lossless-json';

/**
 * Reads an API response body without ever passing an ID through a JavaScript number.
 *
 * The real service's message IDs are 64-bit (swagger `SendMessageResponse.msg_ids`: `int64`; the floo SDK carries
 * them as uint64), so `JSON.parse` would silently round any above 2^53. Here every integer is read as its decimal
 * text first (the `lossless-json` parser), then:
 * - the message-ID fields (`MESSAGE_ID_KEYS`) become strings, always, whatever their size;
 * - every other integer becomes a number when it is a safe integer, and is refused otherwise with
 *   `UnsafeIntegerInResponse` (the caller turns it into a typed API error): user and group IDs stay numbers in
 *   the public types, and one above 2^53 must never be rounded into another user's ID;
 * - numbers with a fraction or exponent are read as numbers (no ID has one).
 */

/** Fields that hold 64-bit message or task IDs: kept as decimal strings. */
export const MESSAGE_ID_KEYS: ReadonlySet<string> = new Set(['msg_ids', 'msg_id', 'next_msg_id', 'related_mid', 'request_msg_id', 'task_id']);

/** An integer beyond Number.MAX_SAFE_INTEGER in a field that is read as a number. */
export class UnsafeIntegerInResponse extends Error {
  override name = 'UnsafeIntegerInResponse';
  constructor(
    /** Where it was, e.g. `data.user_id` or `data[3].user_id`. */
    readonly field: string,
    /** Its decimal text. */
    readonly value: string,
  ) {
    super(`${field} is ${value}, beyond the integers a JavaScript number holds exactly`);
  }
}

function keepIntegers(text: string): unknown {
  return isInteger(text) ? new LosslessNumber(text) : Number(text);
}

function asIdText(value: unknown, path: string): unknown {
  if (value instanceof LosslessNumber) return value.toString();
  if (Array.isArray(value)) return value.map((item, i) => asIdText(item, `${path}[${i}]`));
  return normalise(value, path);
}

function normalise(value: unknown, path: string): unknown {
  if (value instanceof LosslessNumber) {
    const n = Number(value.value);
    if (!Number.isSafeInteger(n)) throw new UnsafeIntegerInResponse(path, value.value);
    return n;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normalise(value[i], `${path}[${i}]`);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      const at = path ? `${path}.${key}` : key;
      object[key] = MESSAGE_ID_KEYS.has(key) ? asIdText(object[key], at) : normalise(object[key], at);
    }
  }
  return value;
}

/**
 * Parses a JSON response body. Throws `SyntaxError` for text that is not JSON, and `UnsafeIntegerInResponse` for
 * an integer beyond 2^53 outside the message-ID fields.
 */
export function parseResponseJson(text: string): unknown {
  // A repeated key keeps its last value, as JSON.parse does.
  return normalise(parse(text, null, { parseNumber: keepIntegers, onDuplicateKey: ({ newValue }) => newValue }), '');
}

/** Writes a request body as JSON; a `LosslessNumber` (a 64-bit ID) is written as the JSON number it holds. */
export function stringifyJson(value: unknown): string {
  return stringify(value) as string;
}
