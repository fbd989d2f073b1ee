/**
 * Finding a secret in text that a server sent back. Replacing the exact token is not enough: a server may echo it
 * split in parts, upper-cased, percent-encoded or with separators inserted. So the text is not redacted but withheld
 * as a whole when it holds any long fragment of the secret, compared on letters and digits only, case-folded, after
 * percent-decoding.
 */

/** What is shown instead of server text that held part of the access token. */
export const WITHHELD_SERVER_TEXT = '[withheld: the server\'s text contained part of the access token]';

/** Fragments of the secret this long (letters and digits, case-folded) count as a leak. */
export const SECRET_FRAGMENT_LENGTH = 8;

/**
 * Whether `text` contains a fragment of `secret` of {@link SECRET_FRAGMENT_LENGTH} letters and digits (case and
 * anything between them ignored, percent-encoding undone up to twice). A secret shorter than that counts as a whole.
 */
export function containsSecretFragment(text: string, secret: string): boolean {
  if (secret === '') return false;
  // Stryker disable next-line ConditionalExpression,StringLiteral: a shortcut: an empty text holds no fragment below either
  if (text === '') return false;
  const folded = fold(secret);
  if (folded === '') return text.includes(secret);
  const haystacks = new Set([fold(text), fold(percentDecode(text)), fold(percentDecode(percentDecode(text)))]);
  const size = Math.min(SECRET_FRAGMENT_LENGTH, folded.length);
  for (let i = 0; i + size <= folded.length; i++) {
    const fragment = folded.slice(i, i + size);
    for (const haystack of haystacks) if (haystack.includes(fragment)) return true;
  }
  return false;
}

/** Letters and digits only, case-folded (compatibility forms such as full-width letters folded too). */
function fold(text: string): string {
  // Stryker disable next-line MethodExpression: the text and the secret are folded alike; upper and lower case differ only for letters no token holds (ß)
  return text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** Undoes percent-encoding where it is valid, leaving the rest as it is. */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
}
