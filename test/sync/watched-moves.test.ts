import { copyFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openRuntime } from '../../src/runtime/open-runtime.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

/**
 * A watcher hands the engine changed paths in batches. The two halves of a rename usually arrive together, but not
 * always: the new path may be handled while the old document is still recorded in the knowledge base (its removal comes in a
 * later batch). These tests hand the engine exactly such batches, as the daemon does.
 */
async function watchedEngine() {
  const s = await setupSync();
  writeFile(s.root, 'guide/old.md', '# Same content\n');
  writeFile(s.root, 'keep.md', '# Kept\n');
  expect((await s.sync()).counts).toMatchObject({ sent: 2 });
  const runtime = openRuntime(s.config, { command: 'watch' });
  onTestFinished(() => runtime.close());
  const engine = new SyncEngine({ config: s.config, client: runtime.client, store: runtime.store });
  const paths = (...rel: string[]) => engine.syncPaths('docs', rel.map((p) => path.join(s.root, p)));
  return { s, store: runtime.store, paths };
}

describe('moves seen by a watcher', () => {
  it('a rename whose new path is handled first (the old one not yet reported gone) is a move: nothing sent', async () => {
    const { s, store, paths } = await watchedEngine();
    renameSync(path.join(s.root, 'guide/old.md'), path.join(s.root, 'guide/new.md'));
    const first = await paths('guide/new.md');
    expect(first.entries.map((e) => [e.key, e.action])).toEqual([['guide/new.md', 'moved']]);
    expect(first.counts).toMatchObject({ moved: 1, sent: 0 });
    expect(store.get('docs', 'guide/new.md')).toMatchObject({ status: 'ingested', movedFrom: 'docs:guide/old.md' });
    expect(store.get('docs', 'guide/old.md')).toBeUndefined();
    // The old path's event comes later: nothing is left to remove.
    const second = await paths('guide/old.md');
    expect(second.counts).toMatchObject({ removed: 0, sent: 0 });
    expect(s.sends()).toHaveLength(2);
  });

  it('a rename handled in one batch is a move', async () => {
    const { s, store, paths } = await watchedEngine();
    renameSync(path.join(s.root, 'guide/old.md'), path.join(s.root, 'manual.md'));
    const report = await paths('guide/old.md', 'manual.md');
    expect(report.counts).toMatchObject({ moved: 1, removed: 0, sent: 0 });
    expect(store.list().map((r) => [r.key, r.status])).toEqual([
      ['keep.md', 'ingested'],
      ['manual.md', 'ingested'],
    ]);
  });

  it('a copy (the old path still there) is reported as skipped, and the original stays as it was', async () => {
    const { s, store, paths } = await watchedEngine();
    copyFileSync(path.join(s.root, 'guide/old.md'), path.join(s.root, 'copy.md'));
    const report = await paths('copy.md');
    expect(report.entries.map((e) => [e.key, e.action, e.reason])).toEqual([['copy.md', 'skipped', 'same content as docs:guide/old.md, already sent']]);
    expect(store.get('docs', 'guide/old.md')).toMatchObject({ status: 'ingested', movedFrom: null });
    expect(store.get('docs', 'copy.md')).toMatchObject({ status: 'skipped' });
    expect(s.sends()).toHaveLength(2);
  });
});
