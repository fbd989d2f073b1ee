/**
 * The source tree the lifecycle property drives: folder sources ("roots") full of small documents, and the
 * operations a person (or a disk) does to them. Operations are data drawn by fast-check; their numbers pick among
 * what exists when they run (modulo), so that every drawn sequence is valid and shrinks well.
 *
 * Every file's content is unique at all times (the copy rule of `moves.ts` would otherwise skip a file whose content
 * another one already sent, which is right but not what this property is about).
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

/** How an unmounted root looks: gone (its folder vanished), or an empty file system mounted over it. */
export type HiddenAs = 'vanished' | 'empty-mount';

export type TreeOp =
  | { op: 'add'; root: number; dir: number; ext: 'md' | 'txt' }
  | { op: 'edit'; pick: number }
  | { op: 'rename'; pick: number; dir: number }
  | { op: 'move-folder'; root: number; dir: number }
  | { op: 'delete'; pick: number }
  /** A deleted file comes back with the content it had (within the grace period, or after its deletion). */
  | { op: 'undelete'; pick: number }
  | { op: 'unmount'; root: number; as: HiddenAs }
  | { op: 'restore'; root: number };

export interface Root {
  /** The folder source's name. */
  name: string;
  /** The folder the source points at. */
  dir: string;
  hidden: HiddenAs | undefined;
}

export interface TreeFile {
  root: number;
  /** Relative path, `/`-separated (the source's key). */
  key: string;
  content: string;
}

/** The drawn operations, weighted roughly like real use: edits and adds most, unmounts rarely. */
export function treeOpArbitrary(options: { roots: number; hideAs: readonly HiddenAs[] }): fc.Arbitrary<TreeOp> {
  const root = fc.nat({ max: options.roots - 1 });
  const pick = fc.nat({ max: 0xffff });
  const dir = fc.nat({ max: 7 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('add' as const), root, dir, ext: fc.constantFrom('md' as const, 'txt' as const) }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('edit' as const), pick }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('rename' as const), pick, dir }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('move-folder' as const), root, dir }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), pick }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('undelete' as const), pick }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('unmount' as const), root, as: fc.constantFrom(...options.hideAs) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('restore' as const), root }) },
  );
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The folder names a root's documents live in (a few levels, so that a folder move carries subfolders along). */
const DIRS = ['', 'guide', 'guide/setup', 'faq', 'api', 'api/v2', 'notes', 'notes/old'];

/** The source tree on disk and what the test knows of it. */
export class SourceTree {
  readonly roots: Root[];
  /** The files as they are, by `root:key`. */
  readonly files = new Map<string, TreeFile>();
  /** Files deleted, with their last content (for `undelete`). */
  readonly graveyard: TreeFile[] = [];
  #seq = 0;
  /** Folder renames so far, to make new names. */
  #moves = 0;
  readonly #away: string;
  readonly #unmount = new Map<number, () => void>();

  constructor(base: string, names: readonly string[]) {
    this.roots = names.map((name) => ({ name, dir: path.join(base, 'roots', name), hidden: undefined }));
    this.#away = path.join(base, 'away');
    for (const root of this.roots) mkdirSync(root.dir, { recursive: true });
    mkdirSync(this.#away, { recursive: true });
  }

  /** Writes `count` documents spread over the roots and their folders. */
  populate(count: number): void {
    for (let i = 0; i < count; i++) this.#add(i % this.roots.length, DIRS[i % DIRS.length] as string, i % 3 === 0 ? 'txt' : 'md');
  }

  /** Applies one operation; returns what it did, for the failure report (or undefined when it had nothing to act on). */
  apply(op: TreeOp): string | undefined {
    switch (op.op) {
      case 'add': {
        const root = op.root % this.roots.length;
        if (this.#hidden(root)) return undefined;
        return `add ${this.#add(root, DIRS[op.dir % DIRS.length] as string, op.ext)}`;
      }
      case 'edit': {
        const file = this.#pick(op.pick);
        if (!file) return undefined;
        file.content = this.#content(file.key);
        this.#write(file);
        return `edit ${this.#label(file)}`;
      }
      case 'rename': {
        const file = this.#pick(op.pick);
        if (!file) return undefined;
        const before = this.#label(file);
        const key = this.#freeKey(file.root, DIRS[op.dir % DIRS.length] as string, path.extname(file.key).slice(1));
        mkdirSync(path.dirname(this.#abs({ root: file.root, key })), { recursive: true });
        renameSync(this.#abs(file), this.#abs({ root: file.root, key }));
        this.files.delete(`${file.root}:${file.key}`);
        file.key = key;
        this.files.set(`${file.root}:${key}`, file);
        return `rename ${before} -> ${key}`;
      }
      case 'move-folder': {
        const root = op.root % this.roots.length;
        if (this.#hidden(root)) return undefined;
        const from = DIRS[1 + (op.dir % (DIRS.length - 1))] as string;
        const inside = [...this.files.values()].filter((f) => f.root === root && f.key.startsWith(`${from}/`));
        if (inside.length === 0) return undefined;
        const to = `moved${++this.#moves}/${path.basename(from)}`;
        const rootDir = (this.roots[root] as Root).dir;
        mkdirSync(path.dirname(path.join(rootDir, to)), { recursive: true });
        renameSync(path.join(rootDir, from), path.join(rootDir, to));
        for (const file of inside) {
          this.files.delete(`${root}:${file.key}`);
          file.key = to + file.key.slice(from.length);
          this.files.set(`${root}:${file.key}`, file);
        }
        return `move folder ${this.roots[root]?.name}:${from} -> ${to} (${inside.length} files)`;
      }
      case 'delete': {
        const file = this.#pick(op.pick);
        if (!file) return undefined;
        rmSync(this.#abs(file));
        this.files.delete(`${file.root}:${file.key}`);
        this.graveyard.push({ ...file });
        return `delete ${this.#label(file)}`;
      }
      case 'undelete': {
        const candidates = this.graveyard.filter(
          (g) => !this.#hidden(g.root) && !this.files.has(`${g.root}:${g.key}`) && ![...this.files.values()].some((f) => f.content === g.content),
        );
        if (candidates.length === 0) return undefined;
        const ghost = candidates[op.pick % candidates.length] as TreeFile;
        const file = { ...ghost };
        this.files.set(`${file.root}:${file.key}`, file);
        this.#write(file);
        return `undelete ${this.#label(file)}`;
      }
      case 'unmount': {
        const root = op.root % this.roots.length;
        const r = this.roots[root] as Root;
        if (r.hidden) return undefined;
        if (op.as === 'empty-mount') this.#unmount.set(root, mountEmpty(r.dir));
        else renameSync(r.dir, path.join(this.#away, r.name));
        r.hidden = op.as;
        return `unmount ${r.name} (${op.as})`;
      }
      case 'restore': {
        const root = op.root % this.roots.length;
        const r = this.roots[root] as Root;
        if (!r.hidden) return undefined;
        this.#reveal(root);
        return `restore ${r.name}`;
      }
    }
  }

  /** Brings every hidden root back. */
  restoreAll(): void {
    for (let i = 0; i < this.roots.length; i++) if (this.roots[i]?.hidden) this.#reveal(i);
  }

  /** Unmounts whatever is still mounted (the test's end). */
  dispose(): void {
    for (const unmount of this.#unmount.values()) unmount();
    this.#unmount.clear();
  }

  /** The documents of the visible roots, as read from disk (the truth the knowledge base must equal). */
  expected(): ExpectedDocument[] {
    const out: ExpectedDocument[] = [];
    for (const root of this.roots) {
      if (root.hidden || !existsSync(root.dir)) continue;
      for (const key of listFiles(root.dir)) out.push({ source: root.name, key, sha256: sha256(readFileSync(path.join(root.dir, key))) });
    }
    return out;
  }

  /** The files of one root (as the test knows them). */
  filesOf(root: number): TreeFile[] {
    return [...this.files.values()].filter((f) => f.root === root);
  }

  #reveal(root: number): void {
    const r = this.roots[root] as Root;
    if (r.hidden === 'empty-mount') {
      this.#unmount.get(root)?.();
      this.#unmount.delete(root);
    } else {
      renameSync(path.join(this.#away, r.name), r.dir);
    }
    r.hidden = undefined;
  }

  #hidden(root: number): boolean {
    return this.roots[root]?.hidden !== undefined;
  }

  /** A file of a visible root, picked by `n`. */
  #pick(n: number): TreeFile | undefined {
    const visible = [...this.files.values()].filter((f) => !this.#hidden(f.root));
    return visible.length === 0 ? undefined : visible[n % visible.length];
  }

  #add(root: number, dir: string, ext: string): string {
    const key = this.#freeKey(root, dir, ext);
    const file = { root, key, content: this.#content(key) };
    this.files.set(`${root}:${key}`, file);
    this.#write(file);
    return this.#label(file);
  }

  #freeKey(root: number, dir: string, ext: string): string {
    for (;;) {
      const key = `${dir ? `${dir}/` : ''}doc-${++this.#seq}.${ext}`;
      if (!this.files.has(`${root}:${key}`) && !this.graveyard.some((g) => g.root === root && g.key === key)) return key;
    }
  }

  #content(key: string): string {
    return `# ${path.basename(key)}\n\nVersion ${++this.#seq} of this document.\n`;
  }

  #abs(file: Pick<TreeFile, 'root' | 'key'>): string {
    return path.join((this.roots[file.root] as Root).dir, file.key);
  }

  #write(file: TreeFile): void {
    const abs = this.#abs(file);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, file.content);
  }

  #label(file: Pick<TreeFile, 'root' | 'key'>): string {
    return `${this.roots[file.root]?.name}:${file.key}`;
  }
}

/** One document the knowledge base must hold: the current version of a file. */
export interface ExpectedDocument {
  source: string;
  key: string;
  sha256: string;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

function run(args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

/**
 * Mounts an empty tmpfs over `dir` (hiding what is there); returns the unmount. (Not `mountTmpfs` of
 * `test/helpers/mounts.ts`: the tree unmounts and mounts again within a test, and says when.)
 */
function mountEmpty(dir: string): () => void {
  const result = run(['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', dir]);
  if (!result.ok) throw new Error(`mount tmpfs on ${dir} failed: ${result.output}`);
  let mounted = true;
  return () => {
    if (!mounted) return;
    mounted = false;
    if (!run(['umount', dir]).ok) run(['umount', '-l', dir]);
  };
}
