import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs, { chmodSync, mkdirSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { ResolvedFolderSource } from '../../../src/config/resolve.js';
import { SourceError } from '../../../src/errors.js';
import { scanFolder, statToFile } from '../../../src/sources/folder/scan.js';
import type { ScannedFile } from '../../../src/sources/folder/scan.js';
import { type FileHash, hashFiles } from '../../../src/sources/folder/hash.js';
import { createPathFilter } from '../../../src/sources/folder/path-filter.js';
import { FsWorker } from '../../../src/sources/folder/fs-worker.js';
import { keyOfNameBytes, keyOfName, keyToFsPath } from '../../../src/sources/folder/path-key.js';
import { canTestPermissions, withoutFileOverride } from '../../helpers/permissions.js';
import { tmpDir, writeFile } from '../../helpers/tmp-dir.js';

function folderSource(root: string, overrides: Partial<ResolvedFolderSource> = {}): ResolvedFolderSource {
  return {
    name: 'docs',
    type: 'folder',
    path: root,
    include: undefined,
    exclude: [],
    followSymlinks: false,
    maxFileSize: 50 * 1024 * 1024,
    linkBase: undefined,
    usePolling: false,
    metadata: {},
    chatbotUserId: undefined,
    enabled: true,
    ...overrides,
  };
}

function byKey(files: ScannedFile[]): Map<string, ScannedFile> {
  return new Map(files.map((f) => [f.key, f]));
}

/** Keys of the files that would be uploaded. */
function uploadable(files: ScannedFile[]): string[] {
  return files.filter((f) => f.skipReason === undefined).map((f) => f.key).sort();
}

function skipped(files: ScannedFile[]): Record<string, string | undefined> {
  return Object.fromEntries(files.filter((f) => f.skipReason !== undefined).map((f) => [f.key, f.skipCode]));
}

describe('scanFolder: what is reported', () => {
  it('reports supported types by default and every other file as skipped with a reason', async () => {
    const root = tmpDir();
    writeFile(root, 'a.md', '# a');
    writeFile(root, 'B.PDF', 'pdf');
    writeFile(root, 'sub/deeper/c.txt', 'c');
    writeFile(root, 'sub/d.docx', 'd');
    writeFile(root, 'image.png', 'png');
    writeFile(root, 'Makefile', 'all:');

    const files = await scanFolder(folderSource(root));
    expect(uploadable(files)).toEqual(['B.PDF', 'a.md', 'sub/d.docx', 'sub/deeper/c.txt']);
    const map = byKey(files);
    expect(map.get('image.png')).toMatchObject({ skipCode: 'unsupported', skipReason: 'unsupported type (.png)', ext: 'png' });
    expect(map.get('Makefile')).toMatchObject({ skipCode: 'unsupported', skipReason: 'unsupported type (no extension)', ext: '' });
    const pdf = map.get('B.PDF') as ScannedFile;
    const st = fs.statSync(path.join(root, 'B.PDF'));
    expect(pdf).toMatchObject({ ext: 'pdf', size: 3, mtimeMs: st.mtimeMs, ino: st.ino, fsPath: path.join(root, 'B.PDF') });
    expect(pdf.realPath).toBe(path.join(root, 'B.PDF'));
  });

  it('lists a folder before its subfolders, names in byte order', async () => {
    const root = tmpDir();
    for (const rel of ['b.md', 'a.md', 'z/y.md', 'z/x.md', 'c/a.md', 'C.md']) writeFile(root, rel);
    const files = await scanFolder(folderSource(root));
    expect(files.map((f) => f.key)).toEqual(['C.md', 'a.md', 'b.md', 'c/a.md', 'z/x.md', 'z/y.md']);
  });

  it('reports empty files and files over maxFileSize as skipped', async () => {
    const root = tmpDir();
    writeFile(root, 'empty.md', '');
    writeFile(root, 'big.md', 'x'.repeat(101));
    writeFile(root, 'limit.md', 'x'.repeat(100));
    const files = await scanFolder(folderSource(root, { maxFileSize: 100 }));
    expect(uploadable(files)).toEqual(['limit.md']);
    const map = byKey(files);
    expect(map.get('empty.md')).toMatchObject({ skipCode: 'empty', skipReason: 'empty file', size: 0 });
    expect(map.get('big.md')).toMatchObject({ skipCode: 'too-large', size: 101 });
    expect(map.get('big.md')?.skipReason).toContain('101 > 100');
  });

  it('leaves out hidden files and folders, and the excluded state folder', async () => {
    const root = tmpDir();
    writeFile(root, 'a.md');
    writeFile(root, '.hidden.md');
    writeFile(root, '.git/config.md');
    writeFile(root, 'sub/.secret/x.md');
    writeFile(root, 'state/db.txt');
    writeFile(root, 'sub/state/keep.md');
    const files = await scanFolder(folderSource(root), { excludeDirs: [path.join(root, 'state'), '/somewhere/else'] });
    expect(files.map((f) => f.key).sort()).toEqual(['a.md', 'sub/state/keep.md']);
  });

  it('applies include globs: only matching files, nothing else reported', async () => {
    const root = tmpDir();
    writeFile(root, 'docs/guide/intro.md');
    writeFile(root, 'docs/guide/intro.txt');
    writeFile(root, 'docs/img.png');
    writeFile(root, 'notes.txt');
    writeFile(root, 'deep/er/notes.txt');
    writeFile(root, 'other/x.md');
    const files = await scanFolder(folderSource(root, { include: ['docs/**/*.md', '*.txt', 'docs/*.png'] }));
    expect(files.map((f) => f.key).sort()).toEqual(['deep/er/notes.txt', 'docs/guide/intro.md', 'docs/guide/intro.txt', 'docs/img.png', 'notes.txt']);
    // Included by a pattern but not a type the chatbot takes: still reported, as skipped.
    expect(byKey(files).get('docs/img.png')?.skipCode).toBe('unsupported');

    const anchored = await scanFolder(folderSource(root, { include: ['/notes.txt'] }));
    expect(anchored.map((f) => f.key)).toEqual(['notes.txt']);
  });

  it('applies exclude globs to files and folders, with ! exceptions', async () => {
    const root = tmpDir();
    writeFile(root, 'a.md');
    writeFile(root, 'a.tmp.md');
    writeFile(root, 'sub/b.tmp.md');
    writeFile(root, 'drafts/one.md');
    writeFile(root, 'x/drafts/two.md');
    writeFile(root, 'build/out.md');
    writeFile(root, 'archive/old.md');
    writeFile(root, 'archive/keep/new.md');
    writeFile(root, 'build.md');
    const files = await scanFolder(
      folderSource(root, { exclude: ['*.tmp.md', 'drafts', 'build/', 'archive/**', '!archive/keep/**'] }),
    );
    expect(files.map((f) => f.key).sort()).toEqual(['a.md', 'archive/keep/new.md', 'build.md']);
  });

  it('applies .kbignore files in the root and in subfolders, with negation, like .gitignore', async () => {
    const root = tmpDir();
    writeFile(root, '.kbignore', '# comment\nsecret/\n*.draft.md\n/top-only.md\n');
    writeFile(root, 'a.md');
    writeFile(root, 'a.draft.md');
    writeFile(root, 'top-only.md');
    writeFile(root, 'secret/s.md');
    writeFile(root, 'sub/.kbignore', '!keep.draft.md\nlocal.md\n');
    writeFile(root, 'sub/keep.draft.md');
    writeFile(root, 'sub/other.draft.md');
    writeFile(root, 'sub/local.md');
    writeFile(root, 'sub/top-only.md');
    writeFile(root, 'sub/inner/local.md');
    writeFile(root, 'local.md');
    const files = await scanFolder(folderSource(root));
    expect(files.map((f) => f.key).sort()).toEqual(['a.md', 'local.md', 'sub/keep.draft.md', 'sub/top-only.md']);
  });

  it('cannot re-include a file below an ignored folder (git semantics)', async () => {
    const root = tmpDir();
    writeFile(root, '.kbignore', 'private/\n!private/ok.md\n');
    writeFile(root, 'private/ok.md');
    writeFile(root, 'public.md');
    const files = await scanFolder(folderSource(root));
    expect(files.map((f) => f.key)).toEqual(['public.md']);
  });
});

describe('scanFolder: symbolic links', () => {
  function linkTree(): { root: string; outside: string } {
    const base = tmpDir();
    const root = path.join(base, 'root');
    const outside = path.join(base, 'outside');
    writeFile(root, 'real/a.md', 'a');
    writeFile(outside, 'o.md', 'o');
    symlinkSync(path.join(root, 'real/a.md'), path.join(root, 'link.md'));
    symlinkSync(path.join(root, 'real'), path.join(root, 'linkdir'));
    symlinkSync(path.join(outside, 'o.md'), path.join(root, 'out.md'));
    symlinkSync(outside, path.join(root, 'outdir'));
    symlinkSync(path.join(root, 'missing.md'), path.join(root, 'broken.md'));
    symlinkSync('..', path.join(root, 'real/up')); // a loop: real/up/real/up/...
    symlinkSync('.', path.join(root, 'self'));
    return { root, outside };
  }

  it('with followSymlinks off, reports every link as skipped and follows none', async () => {
    const { root } = linkTree();
    const files = await scanFolder(folderSource(root));
    expect(uploadable(files)).toEqual(['real/a.md']);
    expect(skipped(files)).toEqual({
      'link.md': 'symlink',
      linkdir: 'symlink',
      'out.md': 'symlink',
      outdir: 'symlink',
      'broken.md': 'symlink',
      'real/up': 'symlink',
      self: 'symlink',
    });
    const map = byKey(files);
    expect(map.get('linkdir')?.isDir).toBe(true);
    expect(map.get('link.md')?.skipReason).toBe('symbolic link (followSymlinks is off)');
  });

  it('with followSymlinks on, follows links inside the root only and survives loops', async () => {
    const { root } = linkTree();
    const files = await scanFolder(folderSource(root, { followSymlinks: true }));
    expect(uploadable(files)).toEqual(['link.md', 'linkdir/a.md', 'real/a.md']);
    const map = byKey(files);
    const target = path.join(root, 'real/a.md');
    expect(map.get('link.md')?.realPath).toBe(target);
    expect(map.get('linkdir/a.md')?.realPath).toBe(target);
    expect(map.get('linkdir/a.md')?.fsPath).toBe(path.join(root, 'linkdir/a.md'));
    expect(skipped(files)).toEqual({
      'out.md': 'symlink-outside',
      outdir: 'symlink-outside',
      'broken.md': 'symlink-broken',
      'real/up': 'symlink-loop',
      'linkdir/up': 'symlink-loop',
      self: 'symlink-loop',
    });
    expect(map.get('outdir')?.isDir).toBe(true);
  });

  it('detects a loop that goes through two links', async () => {
    const root = tmpDir();
    writeFile(root, 'a/x.md');
    writeFile(root, 'b/y.md');
    symlinkSync(path.join(root, 'b'), path.join(root, 'a/to-b'));
    symlinkSync(path.join(root, 'a'), path.join(root, 'b/to-a'));
    const files = await scanFolder(folderSource(root, { followSymlinks: true }));
    expect(uploadable(files)).toEqual(['a/to-b/y.md', 'a/x.md', 'b/to-a/x.md', 'b/y.md']);
    expect(skipped(files)).toEqual({ 'a/to-b/to-a': 'symlink-loop', 'b/to-a/to-b': 'symlink-loop' });
  });

  it('leaves out the state folder when reached through a link', async () => {
    const root = tmpDir();
    writeFile(root, 'state/db.md');
    writeFile(root, 'a.md');
    symlinkSync(path.join(root, 'state'), path.join(root, 'alias'));
    const files = await scanFolder(folderSource(root, { followSymlinks: true }), { excludeDirs: [path.join(root, 'state')] });
    expect(files.map((f) => f.key)).toEqual(['a.md']);
  });
});

describe('scanFolder: names that are not valid UTF-8', () => {
  it('finds, keys and hashes a file whose name is not valid UTF-8', async () => {
    const root = tmpDir();
    const rootBytes = Buffer.from(root);
    const name = Buffer.from([0x66, 0xff, 0x2e, 0x6d, 0x64]); // "f\xff.md"
    const filePath = Buffer.concat([rootBytes, Buffer.from('/'), name]);
    writeFileSync(filePath, 'hello');
    const percent = Buffer.concat([Buffer.from('50%'), Buffer.from([0xfe]), Buffer.from('.md')]);
    writeFileSync(Buffer.concat([rootBytes, Buffer.from('/'), percent]), 'p');
    writeFile(root, 'plain.md', 'plain');

    const files = await scanFolder(folderSource(root));
    const map = byKey(files);
    expect([...map.keys()].sort()).toEqual(['50%25%FE.md', 'f%FF.md', 'plain.md']);
    const file = map.get('f%FF.md') as ScannedFile;
    expect(Buffer.isBuffer(file.fsPath)).toBe(true);
    expect((file.fsPath as Buffer).equals(filePath)).toBe(true);
    expect(file).toMatchObject({ ext: 'md', size: 5, realPath: `${root}/f%FF.md`, skipReason: undefined });
    expect(typeof map.get('plain.md')?.fsPath).toBe('string');

    const [hashed] = await hashFiles([{ fsPath: file.fsPath }]);
    const { sha256, size } = hashed as FileHash;
    expect(size).toBe(5);
    expect(sha256).toBe(createHash('sha256').update('hello').digest('hex'));
    expect(keyToFsPath(`${root}/f%FF.md`)).toEqual(filePath);
  });

  it('scans below a folder whose name is not valid UTF-8', async () => {
    const root = tmpDir();
    const dir = Buffer.concat([Buffer.from(`${root}/d`), Buffer.from([0xc3, 0x28])]);
    mkdirSync(dir);
    writeFileSync(Buffer.concat([dir, Buffer.from('/inner.md')]), 'inner');
    const files = await scanFolder(folderSource(root));
    expect(files.map((f) => f.key)).toEqual(['d%C3(/inner.md']);
    expect(fs.readFileSync(files[0]?.fsPath as Buffer, 'utf8')).toBe('inner');
  });

  it('keys are unambiguous: a valid name that looks escaped is escaped too', () => {
    expect(keyOfName('50% off.md')).toBe('50% off.md');
    expect(keyOfName('caf%C3%A9.md')).toBe('caf%25C3%25A9.md');
    expect(keyOfNameBytes(Buffer.from('caf%C3%A9.md'))).toBe('caf%25C3%25A9.md');
    expect(keyOfNameBytes(Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9]))).toBe('café');
    expect(keyOfNameBytes(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe('a%ED%A0%80'); // a UTF-16 surrogate is not UTF-8
    expect(keyToFsPath('caf%25C3%25A9.md')).toBe('caf%C3%A9.md');
    expect(keyToFsPath('50% off.md')).toBe('50% off.md');
    expect(keyToFsPath('a%ED%A0%80')).toEqual(Buffer.from([0x61, 0xed, 0xa0, 0x80]));
  });
});

describe('scanFolder: bad input', () => {
  it('throws SourceError when the root does not exist', async () => {
    const root = path.join(tmpDir(), 'missing');
    await expect(scanFolder(folderSource(root))).rejects.toThrow(SourceError);
    await expect(scanFolder(folderSource(root))).rejects.toThrow(/source "docs": folder .*missing does not exist/);
  });

  it('throws SourceError when the root is a file', async () => {
    const file = writeFile(tmpDir(), 'file.md');
    await expect(scanFolder(folderSource(file))).rejects.toThrow(/is not a folder/);
  });

  it('tolerates a file deleted between readdir and stat', async () => {
    const root = tmpDir();
    writeFile(root, 'a.md');
    writeFile(root, 'gone.md');
    writeFile(root, 'z.md');
    const readdir = fs.readdirSync;
    const spy = vi.spyOn(fs, 'readdirSync').mockImplementation(((...args: Parameters<typeof readdir>) => {
      const names = readdir(...args);
      if (args[0] === root) unlinkSync(path.join(root, 'gone.md'));
      return names;
    }) as typeof readdir);
    try {
      const files = await scanFolder(folderSource(root));
      expect(spy).toHaveBeenCalled();
      expect(files.map((f) => f.key)).toEqual(['a.md', 'z.md']);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects with the abort reason when aborted', async () => {
    const root = tmpDir();
    writeFile(root, 'a.md');
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(scanFolder(folderSource(root), { signal: controller.signal })).rejects.toThrow('stop');
  });

  it('reports special files as skipped', async () => {
    const root = tmpDir();
    const fifo = path.join(root, 'pipe.md');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) return; // no mkfifo here
    writeFile(root, 'a.md');
    const files = await scanFolder(folderSource(root));
    expect(skipped(files)).toEqual({ 'pipe.md': 'not-regular' });
  });

  it.runIf(canTestPermissions)('reports unreadable files and folders, and refuses an unreadable root (run as an unprivileged user)', () => {
    const base = tmpDir();
    chmodSync(base, 0o755);
    const root = path.join(base, 'root');
    writeFile(root, 'ok.md', 'ok');
    writeFile(root, 'locked.md', 'secret');
    writeFile(root, 'closed/inside.md', 'inside');
    writeFile(root, 'later/z.md', 'z');
    chmodSync(path.join(root, 'locked.md'), 0o000);
    chmodSync(path.join(root, 'closed'), 0o000);
    const sealed = path.join(base, 'sealed');
    writeFile(sealed, 'x.md');
    chmodSync(sealed, 0o000);

    const script = path.join(base, 'scan.mts');
    const scanModule = pathToFileURL(path.resolve(import.meta.dirname, '../../../src/sources/folder/scan.ts')).href;
    writeFileSync(
      script,
      `import { scanFolder } from ${JSON.stringify(scanModule)};
const source = (p) => ({ name: 'docs', type: 'folder', path: p, include: undefined, exclude: [], followSymlinks: false, maxFileSize: 1e6 });
const files = await scanFolder(source(${JSON.stringify(root)}));
let rootError = '';
try { await scanFolder(source(${JSON.stringify(sealed)})); } catch (e) { rootError = e.name + ': ' + e.message; }
console.log(JSON.stringify({ files: files.map((f) => [f.key, f.skipCode ?? null, f.skipReason ?? null, f.isDir ?? false]), rootError }));
`,
    );
    chmodSync(script, 0o644);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const [bin, args] = withoutFileOverride([process.execPath, '--import', tsx, script]);
    const run = spawnSync(bin, args, { encoding: 'utf8', cwd: base });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { files: [string, string | null, string | null, boolean][]; rootError: string };
    // An unreadable folder is reported where its files would be: after its parent's files, before its next sibling.
    expect(result.files).toEqual([
      ['locked.md', 'unreadable', 'unreadable (EACCES)', false],
      ['ok.md', null, null, false],
      ['closed', 'unreadable', 'unreadable folder (EACCES)', true],
      ['later/z.md', null, null, false],
    ]);
    expect(result.rootError).toMatch(/^SourceError: source "docs": cannot read folder .*sealed \(EACCES\)$/);
  });
});

describe('createPathFilter and statToFile', () => {
  function ruleTree(): string {
    const root = tmpDir();
    writeFile(root, '.kbignore', 'ignored/\n*.skip.md\n');
    writeFile(root, 'sub/.kbignore', '!back.skip.md\n');
    for (const rel of [
      'a.md',
      'x.skip.md',
      'sub/back.skip.md',
      'sub/other.skip.md',
      'ignored/i.md',
      'excluded/e.md',
      'sub/excluded/e2.md',
      'tmp/t.md',
      'state/s.md',
      '.hidden/h.md',
      'sub/.h.md',
      'photo.png',
      'docs/deep/d.md',
      'docs/deep/d.tmp',
    ]) {
      writeFile(root, rel);
    }
    return root;
  }

  function allFiles(root: string, rel = ''): string[] {
    const out: string[] = [];
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) out.push(...allFiles(root, child));
      else out.push(child);
    }
    return out;
  }

  const configs: Partial<ResolvedFolderSource>[] = [
    { exclude: ['excluded', 'tmp/**'] },
    { include: ['**/*.md', '!docs/**'], exclude: ['**/excluded/'] },
    { include: ['docs/'] },
  ];

  it.each(configs)('agrees with scanFolder on every path (%o)', async (overrides) => {
    const root = ruleTree();
    const source = folderSource(root, overrides);
    const excludeDirs = [path.join(root, 'state')];
    const scanned = new Set((await scanFolder(source, { excludeDirs })).map((f) => f.key));
    const filter = createPathFilter(source, { excludeDirs });
    const all = allFiles(root);
    expect(all.length).toBeGreaterThan(15);
    for (const key of all) {
      expect([key, filter.includesFile(key)]).toEqual([key, scanned.has(key)]);
      expect([key, filter.ignores(path.join(root, key), false)]).toEqual([key, !scanned.has(key) && !filter.isKbignoreFile(key)]);
      const viaStat = statToFile(source, path.join(root, key), { filter });
      expect([key, viaStat?.key]).toEqual([key, scanned.has(key) ? key : undefined]);
    }
    expect(scanned.size).toBeGreaterThan(0);
  });

  it('answers for folders, for paths outside the root, and keeps .kbignore files visible', () => {
    const root = ruleTree();
    const filter = createPathFilter(folderSource(root, { exclude: ['excluded'] }), { excludeDirs: [path.join(root, 'state')] });
    expect(filter.ignoresDir('')).toBe(false);
    expect(filter.ignoresDir('sub')).toBe(false);
    expect(filter.ignoresDir('ignored')).toBe(true);
    expect(filter.ignoresDir('ignored/deeper')).toBe(true);
    expect(filter.ignoresDir('sub/excluded')).toBe(true);
    expect(filter.ignoresDir('state')).toBe(true);
    expect(filter.ignoresDir('.hidden')).toBe(true);
    expect(filter.ignores(path.join(root, 'ignored'), true)).toBe(true);
    // Type unknown: `ignored/` only matches folders, so a file of that name would be kept.
    expect(filter.ignores(path.join(root, 'ignored'))).toBe(false);
    expect(filter.ignores(path.join(root, '.hidden'))).toBe(true);
    expect(filter.ignores(path.join(root, 'sub'))).toBe(false);
    expect(filter.ignores('/elsewhere/a.md')).toBe(true);
    expect(filter.ignores(root)).toBe(false);
    expect(filter.ignores(path.join(root, 'sub/.kbignore'))).toBe(false);
    expect(filter.isKbignoreFile('sub/.kbignore')).toBe(true);
    expect(filter.keyOf(path.join(root, 'sub/a.md'))).toBe('sub/a.md');
    expect(filter.keyOf(`${root}-other/a.md`)).toBeUndefined();
  });

  it('reloads a .kbignore after invalidate', () => {
    const root = tmpDir();
    writeFile(root, 'sub/a.md');
    const filter = createPathFilter(folderSource(root));
    expect(filter.includesFile('sub/a.md')).toBe(true);
    writeFile(root, 'sub/.kbignore', 'a.md\n');
    expect(filter.includesFile('sub/a.md')).toBe(true); // cached
    filter.invalidate('sub');
    expect(filter.includesFile('sub/a.md')).toBe(false);
    writeFile(root, '.kbignore', 'sub/\n');
    filter.invalidate();
    expect(filter.ignoresDir('sub')).toBe(true);
  });

  it('statToFile reports one path like the scan does', async () => {
    const root = tmpDir();
    writeFile(root, 'a.md', 'abc');
    writeFile(root, 'empty.md', '');
    writeFile(root, 'sub/b.txt', 'b');
    symlinkSync(path.join(root, 'a.md'), path.join(root, 'link.md'));
    const source = folderSource(root);
    const scanned = byKey(await scanFolder(source));
    for (const key of ['a.md', 'empty.md', 'sub/b.txt', 'link.md']) {
      expect(statToFile(source, path.join(root, key))).toEqual(scanned.get(key));
    }
    expect(statToFile(source, path.join(root, 'sub'))).toBeUndefined();
    expect(statToFile(source, path.join(root, 'nope.md'))).toBeUndefined();
    expect(statToFile(source, '/etc/hostname')).toBeUndefined();
    expect(statToFile(folderSource(root, { followSymlinks: true }), path.join(root, 'link.md'))).toMatchObject({
      key: 'link.md',
      realPath: path.join(root, 'a.md'),
      skipReason: undefined,
    });
  });
});

describe('scanFolder with a stat worker', () => {
  function bigTree(): string {
    const root = tmpDir();
    writeFile(root, '.kbignore', '*.skip.md\n');
    for (let d = 0; d < 10; d++) {
      mkdirSync(path.join(root, `d${d}`));
      for (let f = 0; f < 300; f++) writeFile(root, `d${d}/f${f}.${f % 7 === 0 ? 'png' : 'md'}`, f % 13 === 0 ? '' : `file ${d}/${f}`);
      writeFile(root, `d${d}/x.skip.md`);
    }
    writeFile(root, 'd3/sub/deeper/last.md');
    writeFileSync(Buffer.concat([Buffer.from(`${root}/d4/`), Buffer.from([0xff, 0x2e, 0x6d, 0x64])]), 'bytes');
    symlinkSync(path.join(root, 'd1'), path.join(root, 'd2/link'));
    symlinkSync(path.join(root, 'd5'), path.join(root, 'd5/self'));
    return root;
  }

  it.each([false, true])('reports exactly what the scan without a worker reports (followSymlinks %s)', async (followSymlinks) => {
    const root = bigTree();
    const source = folderSource(root, { followSymlinks, maxFileSize: 10 });
    const poll = vi.spyOn(FsWorker.prototype, 'poll');
    let withWorker: ScannedFile[];
    try {
      withWorker = await scanFolder(source, { statWorker: 'always' });
      expect(poll.mock.results.filter((r) => (r.value as number) > 0).length).toBeGreaterThan(0); // the worker did answer
    } finally {
      poll.mockRestore();
    }
    const without = await scanFolder(source, { statWorker: 'never' });
    expect(withWorker.length).toBeGreaterThan(800); // several batches of 256
    expect(withWorker).toEqual(without);
    expect(without.filter((f) => f.key.endsWith('.skip.md'))).toEqual([]);
    expect(byKey(without).get('d4/%FF.md')?.size).toBe(5);
  });

  it('finishes the work itself when the worker dies', async () => {
    const root = bigTree();
    const source = folderSource(root);
    const expected = await scanFolder(source, { statWorker: 'never' });
    const send = FsWorker.prototype.send;
    const spy = vi.spyOn(FsWorker.prototype, 'send').mockImplementation(function (this: FsWorker, batch) {
      send.call(this, batch);
      this.dead = true; // as if it had crashed right after taking the batch
    });
    try {
      const files = await scanFolder(source, { statWorker: 'always' });
      expect(spy).toHaveBeenCalledTimes(1); // and no second worker was started
      expect(files).toEqual(expected);
    } finally {
      spy.mockRestore();
    }
  });
});
