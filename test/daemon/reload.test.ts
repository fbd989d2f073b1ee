import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonEnv, logSink, settle, spawnWatch, tally, useDaemon, waitFor } from './helpers.js';

describe('lanying-kb watch: configuration reload', () => {
  it('SIGHUP with a new source sends its documents and not the old ones again; an invalid config is logged and the old one kept', async () => {
    const env = await daemonEnv();
    env.write('a.md', '# A\n');
    env.write('b.md', '# B\n');
    const proc = spawnWatch(env.dir, env.configFile);
    await proc.waitForLog((l) => l.event === 'ready', 20_000, 'ready');
    expect(env.sentPaths().sort()).toEqual(['a.md', 'b.md']);

    const more = path.join(env.dir, 'more');
    mkdirSync(more);
    writeFileSync(path.join(more, 'c.md'), '# C\n');
    writeFileSync(path.join(more, 'd.md'), '# D\n');
    const withMore = { ...env.raw, sources: [...(env.raw.sources as unknown[]), { type: 'folder', name: 'more', path: 'more' }] };
    env.writeConfig(withMore);
    proc.child.kill('SIGHUP');
    const reloaded = await proc.waitForLog((l) => l.event === 'reloaded', 10_000, 'the reload');
    expect(reloaded).toMatchObject({ added: ['more'], removed: [], changed: [] });
    await waitFor(() => env.sentPaths().length === 4, 10_000, 'the new source\'s documents');
    // The new source is watched too.
    writeFileSync(path.join(more, 'e.md'), '# E\n');
    await waitFor(() => env.sentPaths().length === 5, 10_000, 'a file added to the new source');

    // An invalid configuration: one error line naming the file and the key; the daemon goes on with the old one.
    env.writeConfig({ ...withMore, daemon: { ...(env.raw.daemon as object), debounceMs: 'soon' } });
    proc.child.kill('SIGHUP');
    const failed = await proc.waitForLog((l) => l.event === 'reload-failed', 10_000, 'the failed reload');
    expect(failed.level).toBe('error');
    expect(failed.msg).toContain(env.configFile);
    expect(failed.msg).toContain('daemon.debounceMs');
    expect(String(failed.msg)).not.toContain('\n');
    expect(proc.logs.filter((l) => l.event === 'reload-failed')).toHaveLength(1);
    env.write('after.md', '# After\n');
    writeFileSync(path.join(more, 'f.md'), '# F\n');
    await waitFor(() => env.sentPaths().length === 7, 10_000, 'files added after the failed reload');

    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const counts = tally(env.sentPaths());
    expect([...counts.keys()].sort()).toEqual(['a.md', 'after.md', 'b.md', 'c.md', 'd.md', 'e.md', 'f.md']);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const state = env.state();
    expect(state.list({ source: 'more', status: ['sent', 'ingested'] })).toHaveLength(4);
  });

  it('reload(): a removed source stops being watched; a changed one is reconciled without sending unchanged documents again', async () => {
    const env = await daemonEnv({
      sources: () => [
        { type: 'folder', name: 'docs', path: 'docs' },
        { type: 'folder', name: 'other', path: 'other' },
      ],
    });
    mkdirSync(path.join(env.dir, 'other'));
    env.write('keep.md', '# Keep\n');
    env.write('notes.txt', 'notes\n');
    writeFileSync(path.join(env.dir, 'other', 'o.md'), '# O\n');
    const logs = logSink();
    const daemon = await useDaemon(env.config(), { logs });
    await daemon.ready;
    expect(env.sentPaths().sort()).toEqual(['keep.md', 'notes.txt', 'o.md']);

    const next = {
      ...env.raw,
      sources: [{ type: 'folder', name: 'docs', path: 'docs', metadata: { team: 'support' }, exclude: ['*.txt'] }],
    };
    const result = await daemon.reload(env.config(next));
    expect(result).toMatchObject({ ok: true, added: [], removed: ['other'], changed: ['docs'] });
    await daemon.whenIdle();
    expect(daemon.status().sources.map((s) => s.name)).toEqual(['docs']);

    writeFileSync(path.join(env.dir, 'other', 'ignored.md'), '# Not watched any more\n');
    env.write('new.md', '# New\n');
    env.write('more.txt', 'excluded now\n');
    await waitFor(() => env.sentPaths().includes('new.md'), 5000, 'a new file of the changed source');
    await settle(env, daemon);
    expect(env.sentPaths().sort()).toEqual(['keep.md', 'new.md', 'notes.txt', 'o.md']);
  });

  it('a .kbignore change applies at once: a folder it no longer ignores is synced and watched', async () => {
    const env = await daemonEnv();
    env.write('.kbignore', 'drafts/\n');
    env.write('index.md', '# Index\n');
    env.write('drafts/wip.md', '# WIP\n');
    const daemon = await useDaemon(env.config());
    await daemon.ready;
    expect(env.sentPaths()).toEqual(['index.md']);

    env.write('drafts/later.md', '# Still ignored\n');
    await settle(env, daemon);
    expect(env.sentPaths()).toEqual(['index.md']);

    env.write('.kbignore', '# nothing ignored now\n');
    await waitFor(() => env.sentPaths().length === 3, 5000, 'the drafts folder');
    env.write('drafts/newer.md', '# Newer\n');
    await waitFor(() => env.sentPaths().includes('drafts/newer.md'), 5000, 'a new file in the drafts folder');
    await daemon.whenIdle();
    expect(env.sentPaths().sort()).toEqual(['drafts/later.md', 'drafts/newer.md', 'drafts/wip.md', 'index.md']);
  });
});
