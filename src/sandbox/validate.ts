import { badParam } from './envelope.js';
import { parseJson } from './json-body.js';

/**
 * Strict checks of request fields. Every failure is code 10002 with a message naming the field. Numbers must be
 * JSON numbers, except IDs: an ID (int64 in swagger) may be a JSON number or a string of digits, because the
 * vendor's own chatbot sends its `from_user_id` and `targets` as strings (`services/openai_service.py:459-471`
 * builds them with `str()`, `lanying_connector.py:570-571` sends them) and relies on the answer's `msg_ids`.
 */

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The body must be a JSON object. */
export function objectBody(value: unknown): JsonObject {
  if (!isPlainObject(value)) throw badParam('the request body must be a JSON object');
  return value;
}

const INT64_END = 2n ** 63n;

/**
 * A positive int64 ID given as a JSON number, a bigint (a JSON number beyond 2^53, read exactly) or a string of
 * digits; its decimal text, or undefined when it is none of these.
 */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined;
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'string' && /^\d{1,19}$/.test(value)) big = BigInt(value);
  else return undefined;
  return big > 0n && big < INT64_END ? big.toString() : undefined;
}

/**
 * A user or group ID as a number. The sandbox's own IDs are far below 2^53; a larger one names nobody here, and its
 * rounded value cannot collide with one of them.
 */
export function requiredId(obj: JsonObject, field: string, label = field): number {
  const value = obj[field];
  if (value === undefined || value === null) throw badParam(`${label} is required`);
  const text = idText(value);
  if (text === undefined) throw badParam(`${label} must be a positive integer`);
  return Number(text);
}

/** A message or transaction ID (int64) as decimal text. */
export function optionalIdText(obj: JsonObject, field: string, options: { zeroIsNone?: boolean } = {}, label = field): string | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (options.zeroIsNone && (value === 0 || value === '0')) return undefined;
  const text = idText(value);
  if (text === undefined) throw badParam(`${label} must be a positive integer`);
  return text;
}

export function optionalId(obj: JsonObject, field: string, label = field): number | undefined {
  if (obj[field] === undefined || obj[field] === null) return undefined;
  return requiredId(obj, field, label);
}

export function requiredInt(obj: JsonObject, field: string, allowed?: readonly number[], label = field): number {
  const value = obj[field];
  if (value === undefined || value === null) throw badParam(`${label} is required`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badParam(`${label} must be an integer`);
  if (allowed && !allowed.includes(value)) throw badParam(`${label} must be one of ${allowed.join(', ')}`);
  return value;
}

export function optionalInt(obj: JsonObject, field: string, allowed?: readonly number[], label = field): number | undefined {
  if (obj[field] === undefined || obj[field] === null) return undefined;
  return requiredInt(obj, field, allowed, label);
}

export function requiredString(obj: JsonObject, field: string, options: { nonEmpty?: boolean; maxLength?: number } = {}, label = field): string {
  const value = obj[field];
  if (value === undefined || value === null) throw badParam(`${label} is required`);
  if (typeof value !== 'string') throw badParam(`${label} must be a string`);
  if (options.nonEmpty && value.length === 0) throw badParam(`${label} must not be empty`);
  if (options.maxLength !== undefined && value.length > options.maxLength) throw badParam(`${label} is longer than ${options.maxLength} characters`);
  return value;
}

export function optionalString(obj: JsonObject, field: string, options: { maxLength?: number } = {}, label = field): string | undefined {
  if (obj[field] === undefined || obj[field] === null) return undefined;
  return requiredString(obj, field, options, label);
}

export function optionalBoolean(obj: JsonObject, field: string, label = field): boolean | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badParam(`${label} must be a boolean`);
  return value;
}

/** A non-empty array of distinct positive integers. */
export function requiredIdList(obj: JsonObject, field: string, options: { max?: number } = {}, label = field): number[] {
  const value = obj[field];
  if (value === undefined || value === null) throw badParam(`${label} is required`);
  if (!Array.isArray(value) || value.length === 0) throw badParam(`${label} must be a non-empty array of integers`);
  const ids = value.map((item, i) => {
    const text = idText(item);
    if (text === undefined) throw badParam(`${label}[${i}] must be a positive integer`);
    return Number(text);
  });
  if (options.max !== undefined && ids.length > options.max) throw badParam(`${label} has more than ${options.max} entries`);
  if (new Set(ids).size !== ids.length) throw badParam(`${label} has duplicate entries`);
  return ids;
}

export function optionalIdList(obj: JsonObject, field: string, options: { max?: number } = {}, label = field): number[] | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.length === 0) return [];
  return requiredIdList(obj, field, options, label);
}

/** A string field that, when not empty, must hold a JSON object. Returns the string and the parsed object. */
export function optionalJsonObjectString(obj: JsonObject, field: string): { text: string; value: JsonObject | undefined } {
  const text = optionalString(obj, field) ?? '';
  if (text === '') return { text, value: undefined };
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch {
    throw badParam(`${field} must be a string holding JSON`);
  }
  if (!isPlainObject(parsed)) throw badParam(`${field} must be a string holding a JSON object`);
  return { text, value: parsed };
}

/** A query parameter that must be an integer (positive when `id`). */
export function queryInt(params: URLSearchParams, name: string, options: { required: true; id?: boolean; min?: number; max?: number }): number;
export function queryInt(params: URLSearchParams, name: string, options: { required?: false; id?: boolean; min?: number; max?: number }): number | undefined;
export function queryInt(params: URLSearchParams, name: string, options: { required?: boolean; id?: boolean; min?: number; max?: number }): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') {
    if (options.required) throw badParam(`query parameter ${name} is required`);
    return undefined;
  }
  if (!/^-?\d+$/.test(raw)) throw badParam(`query parameter ${name} must be an integer`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw badParam(`query parameter ${name} is out of range`);
  if (options.id && value <= 0) throw badParam(`query parameter ${name} must be a positive integer`);
  if (options.min !== undefined && value < options.min) throw badParam(`query parameter ${name} must be at least ${options.min}`);
  if (options.max !== undefined && value > options.max) throw badParam(`query parameter ${name} must be at most ${options.max}`);
  return value;
}
