/**
 * Reads the one Python literal the chatbot's texts embed: a list of strings as `str(list)` prints it, e.g.
 * `['kb1', 'kb2']` (the chatbot formats its lists of knowledge-base names and extensions with f-strings,
 * `services/openai_service.py:3049,3161,3220,2764` of `blockmessage/lanying-connector` branch `lanying`).
 *
 * Python's `repr` of a string uses single quotes unless the string holds a single quote and no double quote, and
 * escapes the backslash, the quote it chose, `\n`, `\r`, `\t` and other unprintable characters (`\xhh`, `\uhhhh`,
 * `\Uhhhhhhhh`).
 */

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** Parses `['a', "b'c"]`; undefined when the text is not exactly such a list. */
export function parsePythonStringList(text: string): string[] | undefined {
  let i = 0;
  const items: string[] = [];
  const skipSpaces = () => {
    while (text[i] === ' ') i++;
  };
  if (text[i++] !== '[') return undefined;
  skipSpaces();
  if (text[i] === ']') return i + 1 === text.length ? items : undefined;
  for (;;) {
    skipSpaces();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') return undefined;
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) return undefined;
      i++;
      if (c === quote) break;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const e = text[i++];
      if (e === undefined) return undefined;
      const simple = SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        value += simple;
        continue;
      }
      const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      const hex = text.slice(i, i + width);
      if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) return undefined;
      value += String.fromCodePoint(Number.parseInt(hex, 16));
      i += width;
    }
    items.push(value);
    skipSpaces();
    if (text[i] === ']') return i + 1 === text.length ? items : undefined;
    if (text[i] !== ',') return undefined;
    i++;
  }
}
