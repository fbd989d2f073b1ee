import { readFile } from 'node:fs/promises';
import { SourceError } from '../../errors.js';

/** One line of a URL list file that could not be used. The rest of the file is still used. */
export interface UrlListProblem {
  /** 1-based line number. */
  line: number;
  /** The line's content, trimmed and without its comment. */
  text: string;
  /** Why it was refused, e.g. `not an http(s) URL`. */
  reason: string;
}

/** The result of normalising one URL: the URL to use, or why it cannot be used. */
export type NormalisedUrl = { ok: true; url: string } | { ok: false; reason: string };

/**
 * Checks that `text` is an absolute http(s) URL and normalises it, changing only what cannot change
 * what the server returns: the `#fragment` is dropped; the scheme and host are lower-cased, a default
 * port is dropped, `.`/`..` segments are resolved and unsafe characters percent-encoded (WHATWG URL
 * serialisation). The query is kept as it is.
 *
 * URLs with a user name or password are refused: lanying-kb never sends credentials, and the URL itself
 * is later sent to the chatbot as a message.
 */
export function normaliseUrl(text: string): NormalisedUrl {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'empty URL' };
  if (/\s/.test(trimmed)) return { ok: false, reason: 'not an http(s) URL (contains whitespace)' };
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return { ok: false, reason: 'not an http(s) URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: `not an http(s) URL (scheme "${parsed.protocol.slice(0, -1)}")` };
  }
  if (parsed.hostname === '') return { ok: false, reason: 'not an http(s) URL (no host)' };
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'the URL contains a user name or password, which lanying-kb never sends' };
  }
  parsed.hash = '';
  return { ok: true, url: parsed.href };
}

/**
 * Parses the text of a URL list file: one URL a line; blank lines, whole-line `#` comments and trailing
 * ` # ...` comments (a `#` preceded by whitespace) are ignored; surrounding whitespace is trimmed.
 * URLs are normalised with {@link normaliseUrl} and de-duplicated, keeping the first occurrence's position.
 * Lines that are not http(s) URLs are returned as problems with their 1-based line number.
 */
export function parseUrlList(text: string): { urls: string[]; problems: UrlListProblem[] } {
  const urls: string[] = [];
  const problems: UrlListProblem[] = [];
  const seen = new Set<string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((raw, index) => {
    const content = stripComment(raw).trim();
    if (content === '') return;
    const result = normaliseUrl(content);
    if (!result.ok) {
      problems.push({ line: index + 1, text: content, reason: result.reason });
      return;
    }
    if (seen.has(result.url)) return;
    seen.add(result.url);
    urls.push(result.url);
  });
  return { urls, problems };
}

function stripComment(line: string): string {
  if (line.trimStart().startsWith('#')) return '';
  const match = /\s#/.exec(line);
  return match ? line.slice(0, match.index) : line;
}

/**
 * Reads and parses a URL list file (see {@link parseUrlList}).
 *
 * @param listFile absolute path of the list file.
 * @param sourceName the configured source's name, for the error; defaults to the path.
 * @throws SourceError when the file does not exist or cannot be read.
 */
export async function readUrlList(
  listFile: string,
  sourceName?: string,
): Promise<{ urls: string[]; problems: UrlListProblem[] }> {
  let text: string;
  try {
    text = await readFile(listFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : error instanceof Error
              ? error.message
              : String(error);
    throw new SourceError(sourceName ?? listFile, `cannot read URL list file ${listFile}: ${why}`, { cause: error });
  }
  return parseUrlList(text);
}
