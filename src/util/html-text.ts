import { Parser } from 'htmlparser2';

/** Elements whose content is never visible text. */
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg']);

/** Elements allowed in `<head>`. Any other element opening there means the page left `<head>` without closing it. */
const HEAD_ELEMENTS = new Set(['title', 'meta', 'link', 'base', 'script', 'style', 'noscript', 'template']);

/**
 * Elements that start a new line when rendered. A space is put at their edges so that
 * `<p>a</p><p>b</p>` reads "a b" whether or not the markup has whitespace between them.
 */
const BLOCKS = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'dd', 'details', 'dialog', 'div', 'dl',
  'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header',
  'hgroup', 'hr', 'li', 'main', 'nav', 'ol', 'option', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td',
  'tfoot', 'th', 'thead', 'title', 'tr', 'ul',
]);

/** Collapses every run of whitespace (including no-break and other Unicode spaces) to one space and trims. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The normalised visible text of an HTML page and its `<title>`.
 *
 * `script`, `style`, `noscript`, `template` and `svg` elements, comments, attributes and everything in
 * `<head>` except `<title>` are dropped; entities are decoded; whitespace runs become one space; the result
 * is trimmed. Two pages that differ only in scripts, styles, attribute values or whitespace give the same
 * text, so hashing it detects only changes a reader would see.
 *
 * `title` is the first `<title>`'s text, whitespace-collapsed, or `undefined` when there is none or it is empty.
 */
export function htmlToText(html: string): { text: string; title: string | undefined } {
  const parts: string[] = [];
  let skipDepth = 0;
  let headDepth = 0;
  /** Set when a body element opened inside an unclosed `<head>`: from there on, text is body text. */
  let headLeft = false;
  let titleDepth = 0;
  let titleText: string[] | undefined;
  let titleDone = false;

  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED.has(name)) {
          skipDepth += 1;
          return;
        }
        if (skipDepth > 0) return;
        if (name === 'head') {
          headDepth += 1;
        } else if (headDepth > 0 && !HEAD_ELEMENTS.has(name)) {
          headLeft = true;
        }
        if (name === 'title') {
          titleDepth += 1;
          if (!titleDone && titleText === undefined) titleText = [];
        }
        if (BLOCKS.has(name)) parts.push(' ');
      },
      onclosetag(name) {
        if (SKIPPED.has(name)) {
          if (skipDepth > 0) skipDepth -= 1;
          return;
        }
        if (skipDepth > 0) return;
        if (name === 'head' && headDepth > 0) {
          headDepth -= 1;
          if (headDepth === 0) headLeft = false;
        }
        if (name === 'title' && titleDepth > 0) {
          titleDepth -= 1;
          if (titleDepth === 0 && titleText !== undefined) titleDone = true;
        }
        if (BLOCKS.has(name)) parts.push(' ');
      },
      ontext(data) {
        if (skipDepth > 0) return;
        const inTitle = titleDepth > 0;
        if (inTitle && titleText !== undefined && !titleDone) titleText.push(data);
        if (headDepth > 0 && !headLeft && !inTitle) return;
        parts.push(data);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: false },
  );
  parser.write(html);
  parser.end();

  const title = titleText === undefined ? undefined : collapseWhitespace(titleText.join(''));
  return { text: collapseWhitespace(parts.join('')), title: title === '' ? undefined : title };
}
