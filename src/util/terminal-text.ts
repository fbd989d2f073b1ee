/**
 * Text for people's terminals. A file name, a URL or a server's message may hold control characters: raw, they can
 * move the cursor, clear the screen, set the terminal's title (ANSI escape sequences start with ESC or the C1 CSI),
 * reverse the order of what follows (bidi overrides) or forge a line of a report (a newline). Every human-readable
 * output passes such text through `escapeControl`; JSON output stays exact (JSON escapes control characters itself).
 */

// C0 controls, DEL and C1 controls; the Arabic letter mark, LRM/RLM, the line and paragraph separators, the bidi
// embeddings, overrides and isolates; and UTF-16 halves without their other half.
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * `text` with every control character, bidi control and lone surrogate written as an escape (`\n`, `\t`, `\r`,
 * `\x1b`, `\x9b`, `\u202e`), so that what reaches a terminal is plain visible text on one line. Backslashes are left
 * as they are, so ordinary text and paths read as before. With `keepNewlines`, `\n` stays a line break.
 */
export function escapeControl(text: string, options: { keepNewlines?: boolean } = {}): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (char) => {
    if (options.keepNewlines && char === '\n') return char;
    const named = NAMED[char];
    if (named) return named;
    const code = char.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
