import { escapeControl } from '../util/terminal-text.js';

/** Markup that is safe to put into a page as it is: made only by `html` (or `rawHtml` for constant markup). */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

/**
 * A tagged template for HTML: every interpolated value is escaped (`escapeHtml`) unless it is `SafeHtml` (markup
 * `html` made); arrays are joined; `null`, `undefined` and `false` render as nothing. A file name or a server's
 * message can therefore never become markup: escaping is the default, not a step a caller may forget.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Constant markup written in this program (never data). */
export function rawHtml(text: string): SafeHtml {
  return new SafeHtml(text);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * Text as HTML text or attribute value: `& < > " '` as character references, and control characters, bidi
 * overrides and lone surrogates written as visible escapes (`\x1b`, `\u202e`; see `escapeControl`), so that a name
 * cannot reorder what the page shows either.
 */
export function escapeHtml(text: string): string {
  return escapeControl(text).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
