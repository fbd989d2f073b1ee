/**
 * Stable string keys for file names that may not be valid UTF-8.
 *
 * Linux file names are bytes. A name that is valid UTF-8 is used as is. A name that is not keeps every valid
 * UTF-8 run and writes each invalid byte as `%XX` (upper-case hex); a literal `%` in such a name becomes `%25`.
 * A valid name that itself contains `%25` or `%XX` with XX in 80..FF is escaped the same way, so a key decodes
 * to exactly one name: a key segment holding `%25` or `%[89A-F][0-9A-F]` is escaped, any other is raw.
 * Keys are per segment; `/` is never escaped because it cannot occur in a name.
 */

import { isUtf8 } from 'node:buffer';

/** A segment that contains one of these was escaped (a raw segment never contains them). */
const ESCAPED_MARK = /%(?:25|[89A-F][0-9A-F])/;
const SLASH = 0x2f;
const PERCENT = 0x25;
const HEX = '0123456789ABCDEF';

/** The key of one file name given as a string that came from a valid UTF-8 name. */
export function keyOfName(name: string): string {
  return name.includes('%') && ESCAPED_MARK.test(name) ? name.replaceAll('%', '%25') : name;
}

/** The key of one file name given as raw bytes. */
export function keyOfNameBytes(name: Uint8Array): string {
  if (isUtf8(name)) return keyOfName(Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('utf8'));
  return escapeBytes(name, 0, name.length);
}

/** The key of a whole path given as bytes (segments split on `/`, each escaped like a name). */
export function keyOfPathBytes(bytes: Uint8Array): string {
  if (isUtf8(bytes)) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    return text.includes('%') ? text.split('/').map(keyOfName).join('/') : text;
  }
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === SLASH) {
      const seg = bytes.subarray(start, i);
      parts.push(keyOfNameBytes(seg));
      start = i + 1;
    }
  }
  return parts.join('/');
}

/** The key of a path given as a string or bytes, e.g. for an error message. */
export function displayPath(p: string | Uint8Array): string {
  return typeof p === 'string' ? p : keyOfPathBytes(p);
}

/**
 * The bytes (or the plain string, when nothing was escaped) a key stands for: the inverse of the `keyOf*`
 * functions. Useful to open a file known only by its key.
 */
export function keyToFsPath(key: string): string | Buffer {
  if (!key.includes('%')) return key;
  const segments = key.split('/');
  if (!segments.some((s) => ESCAPED_MARK.test(s))) return key;
  const chunks: Buffer[] = [];
  segments.forEach((seg, index) => {
    if (index > 0) chunks.push(Buffer.from('/'));
    chunks.push(ESCAPED_MARK.test(seg) ? unescapeSegment(seg) : Buffer.from(seg, 'utf8'));
  });
  const bytes = Buffer.concat(chunks);
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes;
}

function unescapeSegment(seg: string): Buffer {
  const out: Buffer[] = [];
  let last = 0;
  for (const m of seg.matchAll(/%([0-9A-F]{2})/g)) {
    out.push(Buffer.from(seg.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1] as string, 16)]));
    last = m.index + 3;
  }
  out.push(Buffer.from(seg.slice(last), 'utf8'));
  return Buffer.concat(out);
}

/** Escapes bytes[start, end): valid UTF-8 sequences are kept (with `%` as `%25`), every other byte becomes `%XX`. */
function escapeBytes(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  let runStart = start;
  let i = start;
  const flushRun = (to: number) => {
    if (to > runStart) out += Buffer.from(bytes.buffer, bytes.byteOffset + runStart, to - runStart).toString('utf8');
  };
  while (i < end) {
    const b = bytes[i] as number;
    if (b === PERCENT) {
      flushRun(i);
      out += '%25';
      i += 1;
      runStart = i;
      continue;
    }
    const len = utf8SequenceLength(bytes, i, end);
    if (len > 0) {
      i += len;
      continue;
    }
    flushRun(i);
    out += '%' + HEX[b >> 4] + HEX[b & 0x0f];
    i += 1;
    runStart = i;
  }
  flushRun(end);
  return out;
}

/** Length of the valid UTF-8 sequence starting at bytes[i], or 0 when the byte there does not start one. */
function utf8SequenceLength(bytes: Uint8Array, i: number, end: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = i + k < end ? (bytes[i + k] as number) : -1;
    return b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
