/**
 * `.kbignore` files: gitignore syntax, one file per folder, each applying to its own folder and below.
 *
 * Rules are evaluated the way git evaluates nested `.gitignore` files: the deepest file that has a matching
 * rule decides (within one file the last matching rule wins), `!pattern` re-includes, and nothing below an
 * ignored folder can be re-included (callers never descend into an ignored folder). Matching is
 * case-sensitive, as git's is on Linux.
 */

import ignore from 'ignore';
import type { Ignore } from 'ignore';

/** The name of the ignore file looked for in every folder. */
export const KBIGNORE_FILE = '.kbignore';

/** Parses the text of one `.kbignore` file; `undefined` when it holds no rule (only blanks and comments). */
export function parseKbignore(text: string): Ignore | undefined {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
  if (lines.length === 0) return undefined;
  return ignore({ ignorecase: false }).add(lines);
}

/**
 * The `.kbignore` rules in force in one folder: its own file (if any) and those of its ancestors.
 * Immutable; a child folder with its own file gets a new chain whose `parent` is this one.
 */
export class KbignoreChain {
  /**
   * @param parent the chain of the nearest ancestor folder that has rules
   * @param base the key of the folder the rules belong to ('' for the source root)
   * @param rules the parsed rules of that folder
   */
  constructor(
    readonly parent: KbignoreChain | undefined,
    readonly base: string,
    readonly rules: Ignore,
  ) {}

  /**
   * Whether the path (a key relative to the source root, below `base`) is ignored. Ancestor folders are not
   * checked: the caller has already checked them on the way down.
   */
  ignores(key: string, isDir: boolean): boolean {
    const rel = this.base === '' ? key : key.slice(this.base.length + 1);
    const result = this.rules.test(isDir ? `${rel}/` : rel);
    if (result.ignored) return true;
    if (result.unignored) return false;
    return this.parent?.ignores(key, isDir) ?? false;
  }
}

/** Extends `parent` with the rules of the folder `base`, or returns `parent` when there are none. */
export function extendChain(parent: KbignoreChain | undefined, base: string, text: string | undefined): KbignoreChain | undefined {
  if (text === undefined) return parent;
  const rules = parseKbignore(text);
  return rules ? new KbignoreChain(parent, base, rules) : parent;
}
