import { closeSync, openSync, readSync } from 'node:fs';

/** How much of a file is read to find its title. */
const TITLE_WINDOW = 64 * 1024;

/**
 * A document's own title, when its format has one near the top: the first `# heading` of Markdown, the `<title>`
 * of HTML. Undefined for other types, or when there is none or the file cannot be read.
 */
export async function readDocumentTitle(fsPath: string | Buffer, ext: string): Promise<string | undefined> {
  if (ext !== 'md' && ext !== 'html' && ext !== 'htm') return undefined;
  let head: string;
  try {
    const fd = openSync(fsPath, 'r');
    try {
      const buffer = Buffer.alloc(TITLE_WINDOW);
      head = buffer.subarray(0, readSync(fd, buffer, 0, TITLE_WINDOW, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (ext === 'md') {
    const heading = /^#[ \t]+(.+?)[ \t#]*$/m.exec(head)?.[1]?.trim();
    return heading || undefined;
  }
  // Note: the HTML parser is loaded only when an HTML document is sent.
  const { htmlToText } = await import('../util/html-text.js');
  return htmlToText(head).title || undefined;
}
