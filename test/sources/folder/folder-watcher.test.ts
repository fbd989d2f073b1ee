import { mkdirSync, renameSync, rmSync, type Stats, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FolderWatcher } from '../../../src/sources/folder/folder-watcher.js';
import { tmpDir, writeFile } from '../../helpers/tmp-dir.js';
import { waitFor } from '../../daemon/helpers.js';

type Seen = { event: string; rel: string; size: number | undefined };

async function start(root: string, ignored: (p: string, stats?: { isDirectory(): boolean }) => boolean = () => false) {
  const watcher = new FolderWatcher(root, { ignored });
  onTestFinished(() => watcher.close());
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  watcher.on('all', (event: string, p: string, stats?: Stats) => seen.push({ event, rel: path.relative(root, p), size: stats?.size }));
  watcher.on('error', (error: unknown) => errors.push(error));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  const has = (event: string, rel: string) => seen.some((s) => s.event === event && s.rel === rel);
  return { watcher, seen, errors, has };
}

describe('FolderWatcher (one inotify watch per folder)', () => {
  it.runIf(process.platform === 'linux')('watches folders only, reports nothing that was there, then files written, added, renamed and removed', async () => {
    const root = tmpDir();
    writeFile(root, 'a.md', '# A\n');
    writeFile(root, 'guide/b.md', '# B\n');
    writeFile(root, 'guide/deep/c.md', '# C\n');
    const { watcher, seen, errors, has } = await start(root);
    expect(watcher.folderCount).toBe(3);
    // A file written now is reported after anything that was reported for the files already there.
    writeFile(root, 'sentinel.md', '# S\n');
    await waitFor(() => has('change', 'sentinel.md'), 5000, 'the sentinel');
    expect(new Set(seen.map((s) => s.rel))).toEqual(new Set(['sentinel.md']));

    writeFileSync(path.join(root, 'guide/b.md'), '# B, edited\n');
    await waitFor(() => seen.some((s) => s.rel === 'guide/b.md' && s.size === 12), 5000, 'the edit, with its size');
    expect(seen.find((s) => s.rel === 'guide/b.md')?.event).toBe('change');

    writeFile(root, 'guide/deep/new.md', '# New\n');
    await waitFor(() => has('change', 'guide/deep/new.md'), 5000, 'the new file');

    renameSync(path.join(root, 'a.md'), path.join(root, 'renamed.md'));
    await waitFor(() => has('unlink', 'a.md') && has('change', 'renamed.md'), 5000, 'both halves of the rename');

    rmSync(path.join(root, 'guide/deep/c.md'));
    await waitFor(() => has('unlink', 'guide/deep/c.md'), 5000, 'the deletion');
    expect(errors).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('reports a new folder with what it holds, watches it, and follows folder renames and deletions', async () => {
    const root = tmpDir();
    writeFile(root, 'keep.md', '# Keep\n');
    const { watcher, seen, has } = await start(root);

    // Made in one go, faster than the watcher can look: what is inside is reported as added.
    writeFile(root, 'manual/one.md', '# One\n');
    writeFile(root, 'manual/part/two.md', '# Two\n');
    await waitFor(() => has('addDir', 'manual') && has('addDir', 'manual/part') && has('add', 'manual/part/two.md'), 5000, 'the new folders and files');
    expect(seen.some((s) => s.rel === 'manual/one.md')).toBe(true);
    expect(watcher.folderCount).toBe(3);

    // The new folder is watched.
    writeFile(root, 'manual/part/three.md', '# Three\n');
    await waitFor(() => has('change', 'manual/part/three.md'), 5000, 'a file in the new folder');

    renameSync(path.join(root, 'manual'), path.join(root, 'handbook'));
    await waitFor(() => has('unlinkDir', 'manual') && has('addDir', 'handbook') && has('add', 'handbook/part/two.md'), 5000, 'the folder rename');
    expect(watcher.folderCount).toBe(3);
    writeFile(root, 'handbook/part/four.md', '# Four\n');
    await waitFor(() => has('change', 'handbook/part/four.md'), 5000, 'a file in the renamed folder');

    rmSync(path.join(root, 'handbook'), { recursive: true });
    await waitFor(() => has('unlinkDir', 'handbook'), 5000, 'the folder deletion');
    expect(watcher.folderCount).toBe(1);
    // A folder's own events (its deletion) are not reported as files.
    expect(seen.filter((s) => s.event === 'unlink' && s.rel.endsWith('handbook/handbook'))).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('leaves out what `ignored` says, and reports nothing after close()', async () => {
    const root = tmpDir();
    writeFile(root, 'drafts/x.md', '# X\n');
    writeFile(root, 'docs/y.md', '# Y\n');
    const ignored = (p: string, stats?: { isDirectory(): boolean }) => path.basename(p) === 'drafts' || (stats !== undefined && !stats.isDirectory() && p.endsWith('.tmp'));
    const { watcher, seen, has } = await start(root, ignored);
    expect(watcher.folderCount).toBe(2);

    writeFileSync(path.join(root, 'drafts/x.md'), '# X, edited\n');
    writeFileSync(path.join(root, 'docs/y.tmp'), 'temporary');
    mkdirSync(path.join(root, 'drafts/sub'));
    writeFileSync(path.join(root, 'docs/y.md'), '# Y, edited\n');
    writeFileSync(path.join(root, 'docs/sentinel.md'), '# S\n');
    await waitFor(() => has('change', 'docs/sentinel.md'), 5000, 'the sentinel, after everything written before it');
    expect(new Set(seen.map((s) => s.rel))).toEqual(new Set(['docs/y.md', 'docs/sentinel.md']));
    const before = seen.length;

    // Another watcher of the same folder sees the next write: the closed one reports nothing.
    const observer = await start(root, ignored);
    await watcher.close();
    writeFileSync(path.join(root, 'docs/y.md'), '# Y, edited again\n');
    await waitFor(() => observer.has('change', 'docs/y.md'), 5000, 'the write, seen by the other watcher');
    expect(seen).toHaveLength(before);
  });
});
