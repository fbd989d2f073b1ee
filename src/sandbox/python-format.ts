/**
 * How the chatbot's Python code prints values, reproduced so that the sandbox's texts match it character for
 * character:
 * - `json.dumps(value, ensure_ascii=False)`: separators `", "` and `": "`, non-ASCII kept, strings escaped as
 *   JSON (for strings Python's escaping equals `JSON.stringify`'s: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
 *   control characters `\u00xx`);
 * - `repr()` / `str()` of lists, dicts, strings, numbers, booleans and None, as f-strings embed them.
 */

/** A JSON number to write as is (an integer of any size, from its decimal text). */
export class PyInt {
  readonly text: string;
  constructor(text: string) {
    // Python's int('-0') is 0.
    this.text = text === '-0' ? '0' : text;
  }
}

/** A number Python reads as a float (JSON text with a fraction or an exponent, e.g. `1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** For a JSON parser: numbers as Python's `json.loads` would type them (int or float). */
export function pythonNumber(text: string): PyInt | PyFloat {
  return /^-?\d+$/.test(text) ? new PyInt(text) : new PyFloat(Number(text));
}

/** `repr(float)`: the shortest round-trip digits; `.0` on integral values; an exponent below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  if (Number.isInteger(x)) return `${Object.is(x, -0) ? '-0' : x.toFixed(0)}.0`;
  return String(x);
}

/** `json.dumps(value, ensure_ascii=False)`. Numbers are integers unless given as floats; bigint and PyInt are raw. */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof PyInt) return value.text;
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'number') return Number.isInteger(value) ? value.toFixed(0) : pyFloatRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyJsonDumps(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(String(value));
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** `repr(str)`: single quotes unless the text holds `'` and no `"`; unprintable characters escaped. */
export function pyStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (NON_PRINTABLE.test(ch)) {
      const code = ch.codePointAt(0) as number;
      out += code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : code < 0x10000 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/** `repr(value)` of a JSON-like value (Python's `str()` of a list or dict is its repr). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pyStrRepr(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof PyInt) return value.text;
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'number') return Number.isInteger(value) ? value.toFixed(0) : pyFloatRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** `str(value)`: a string as is, anything else as its repr. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}
