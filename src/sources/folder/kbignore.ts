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
  // Each rule carries its line number (as its mark), for `explain`.
  const rules = text
    .split(/\r?\n/)
    .map((line, i) => ({ pattern: line, mark: String(i + 1) }))
    .filter((rule) => rule.pattern.trim() !== '' && !rule.pattern.startsWith('#'));
  if (rules.length === 0) return undefined;
  return ignore({ ignorecase: false }).add(rules);
}

/** The `.kbignore` rule that ignores a path: the folder whose file holds it ('' for the root), its line and text. */
export interface KbignoreMatch {
  base: string;
  line: number;
  pattern: string;
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

  /** The rule that makes `ignores(key, isDir)` true (the rule `git check-ignore -v` names), or undefined. */
  explain(key: string, isDir: boolean): KbignoreMatch | undefined {
    const rel = this.base === '' ? key : key.slice(this.base.length + 1);
    const result = this.rules.test(isDir ? `${rel}/` : rel);
    if (result.ignored) return { base: this.base, line: Number(result.rule?.mark ?? 0), pattern: result.rule?.pattern ?? '' };
    if (result.unignored) return undefined;
    return this.parent?.explain(key, isDir);
  }
}

/** Extends `parent` with the rules of the folder `base`, or returns `parent` when there are none. */
export function extendChain(parent: KbignoreChain | undefined, base: string, text: string | undefined): KbignoreChain | undefined {
  if (text === undefined) return parent;
  const rules = parseKbignore(text);
  return rules ? new KbignoreChain(parent, base, rules) : parent;
}
