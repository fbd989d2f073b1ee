/**
 * What a folder source's rules leave out, and why: the walk behind `sync --dry-run -v` and `lanying-kb why`. It
 * applies the same rules as the scan (`PathRules`) but asks them to explain (`explainDir`, `explainFile`); the scan
 * itself never pays for explanations.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { LeftOutPath, PathExplanation, SourceRule } from '../types.js';
import type { ResolvedFolderSource } from './config.js';
import { KBIGNORE_FILE } from './kbignore.js';
import { type DirState, type LeftOutRule, PathRules, joinFsPath } from './path-filter.js';
import { keyOfName } from './path-key.js';
import { statToFile } from './scan.js';

/** Entries looked at between two yields to the event loop. */
const SLICE = 2048;

/**
 * Every path of the source the rules leave out, in scan order: hidden names, the state folder, `exclude` and
 * `.kbignore` matches, files no `include` pattern matches and folders none can reach. A folder left out is one path
 * (what is below it is not visited); `.kbignore` files themselves are rules, not listed. Folders that cannot be read
 * are passed over (the scan reports them).
 */
export async function* folderLeftOut(source: ResolvedFolderSource, options: { excludeDirs: readonly string[]; signal?: AbortSignal | undefined }): AsyncGenerator<LeftOutPath> {
  const rules = new PathRules(source, options.excludeDirs);
  const stack: { fsPath: string; state: DirState }[] = [{ fsPath: rules.root, state: rules.rootState(readKbignore(rules.root)) }];
  let seen = 0;
  while (stack.length > 0) {
    const { fsPath, state } = stack.pop() as { fsPath: string; state: DirState };
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(fsPath, { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const keyPrefix = state.key === '' ? '' : `${state.key}/`;
    const subdirs: { fsPath: string; state: DirState }[] = [];
    for (const entry of entries) {
      if (++seen % SLICE === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        options.signal?.throwIfAborted();
      }
      const name = entry.name;
      if (name === KBIGNORE_FILE) continue;
      const key = keyPrefix + keyOfName(name);
      const childFs = joinFsPath(fsPath, name) as string;
      if (isFolder(entry, childFs)) {
        const rule = rules.explainDir(state, key, name, entry.isSymbolicLink() ? undefined : realKeyOf(childFs));
        if (rule) yield { key, isDir: true, rule: describeRule(rule, rules.root) };
        else if (!entry.isSymbolicLink()) {
          const child = rules.childDir(state, key, name) as DirState;
          subdirs.push({ fsPath: childFs, state: rules.withKbignore(child, readKbignore(childFs)) });
        }
      } else {
        const rule = rules.explainFile(state, key, name);
        if (rule) yield { key, isDir: false, rule: describeRule(rule, rules.root) };
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as { fsPath: string; state: DirState });
  }
}

/**
 * What the rules say about one absolute path: left out (by which rule, or by which folder above it), or a document
 * (and, when the scan would skip it, why). Undefined when the path is not inside the source's folder.
 */
export function folderExplain(source: ResolvedFolderSource, absPath: string, options: { excludeDirs: readonly string[] }): PathExplanation | undefined {
  const rules = new PathRules(source, options.excludeDirs);
  const rel = path.relative(rules.root, path.resolve(absPath));
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  if (rel === '') return { key: '', isDir: true, exists: true };
  const names = rel.split(path.sep);
  let state = rules.rootState(readKbignore(rules.root));
  let fsPath = rules.root;
  for (let i = 0; i < names.length - 1; i++) {
    const name = names[i] as string;
    const key = names.slice(0, i + 1).map(keyOfName).join('/');
    fsPath = path.join(fsPath, name);
    const rule = rules.explainDir(state, key, name, realKeyOf(fsPath));
    if (rule) {
      const described = describeRule(rule, rules.root);
      const leftOut = described.via ? described : { ...described, via: key, description: `in folder "${key}", which is left out: ${described.description}` };
      return { key: names.map(keyOfName).join('/'), isDir: isDirectory(absPath), exists: fs.existsSync(absPath), leftOut };
    }
    state = rules.withKbignore(rules.childDir(state, key, name) as DirState, readKbignore(fsPath));
  }
  const name = names.at(-1) as string;
  const key = names.map(keyOfName).join('/');
  const exists = fs.existsSync(absPath);
  const isDir = isDirectory(absPath);
  const rule = isDir ? rules.explainDir(state, key, name, realKeyOf(absPath)) : rules.explainFile(state, key, name);
  if (rule) return { key, isDir, exists, leftOut: describeRule(rule, rules.root) };
  if (isDir || !exists) return { key, isDir, exists };
  const file = statToFile(source, absPath, { excludeDirs: [...options.excludeDirs] });
  return { key, isDir, exists, ...(file?.skipReason ? { skip: { code: file.skipCode ?? 'skipped', reason: file.skipReason } } : {}) };
}

/** A rule of `PathRules` for people: where it is written (config key, or `.kbignore` file and line) and what it says. */
function describeRule(rule: LeftOutRule, root: string): SourceRule {
  switch (rule.kind) {
    case 'hidden':
      return { kind: 'hidden', where: 'hidden name', description: 'a hidden name (it starts with a dot)' };
    case 'state-folder':
      return { kind: 'state-folder', where: 'sync.stateDir', description: "lanying-kb's own state folder" };
    case 'exclude':
      return {
        kind: 'exclude',
        where: `exclude[${rule.index}]`,
        pattern: rule.pattern,
        via: rule.via,
        description: rule.via ? `in folder "${rule.via}", which matches exclude pattern "${rule.pattern}"` : `matches exclude pattern "${rule.pattern}"`,
      };
    case 'include':
      return rule.reach
        ? { kind: 'include', where: 'include', description: 'no include pattern can match anything in it' }
        : { kind: 'include', where: 'include', description: 'matches no include pattern' };
    case 'include-exception':
      return { kind: 'include-exception', where: `include[${rule.index}]`, pattern: rule.pattern, description: `matches include exception "${rule.pattern}"` };
    case 'kbignore': {
      const file = path.join(root, ...rule.file.split('/'));
      return { kind: 'kbignore', where: `${file}:${rule.line}`, pattern: rule.pattern, description: `matches .kbignore rule "${rule.pattern}"` };
    }
  }
}

function isFolder(entry: fs.Dirent, fsPath: string): boolean {
  if (entry.isDirectory()) return true;
  return entry.isSymbolicLink() && isDirectory(fsPath);
}

function isDirectory(fsPath: string): boolean {
  try {
    return fs.statSync(fsPath).isDirectory();
  } catch {
    return false;
  }
}

/** The real path of a folder, escaped like a key (to recognise the state folder however it is reached). */
function realKeyOf(fsPath: string): string | undefined {
  try {
    return fs.realpathSync.native(fsPath).split('/').map(keyOfName).join('/');
  } catch {
    return undefined;
  }
}

function readKbignore(dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, KBIGNORE_FILE), 'utf8');
  } catch {
    return undefined;
  }
}
