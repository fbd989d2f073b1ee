import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonEnv, isSentinel, logSink, settle, sleep, tally, useDaemon, waitFor } from './helpers.js';

describe('lanying-kb watch: changes while running', () => {
  it('sends an added file, re-sends an edited one, records a rename as a move (nothing sent) and a deletion', async () => {
    const env = await daemonEnv();
    env.write('start.md', '# Start\n');
    const logs = logSink();
    const daemon = await useDaemon(env.config(), { logs });
    await daemon.ready;
    expect(env.sentPaths()).toEqual(['start.md']);

    env.write('guide/new.md', '# New\n');
    await waitFor(() => env.sentPaths().includes('guide/new.md'), 5000, 'the added file');

    env.write('guide/new.md', '# New, edited\n');
    await waitFor(() => env.sentPaths().filter((p) => p === 'guide/new.md').length === 2, 5000, 'the edited file');

    renameSync(path.join(env.docs, 'guide/new.md'), path.join(env.docs, 'guide/renamed.md'));
    await waitFor(() => env.read((s) => s.get('docs', 'guide/renamed.md')?.status) === 'ingested', 5000, 'the rename in the state');
    const moved = env.state().get('docs', 'guide/renamed.md');
    expect(moved?.movedFrom).toBe('docs:guide/new.md');
    expect(env.state().get('docs', 'guide/new.md')).toBeUndefined();

    rmSync(path.join(env.docs, 'start.md'));
    await waitFor(() => env.read((s) => s.get('docs', 'start.md')?.status) === 'removed', 5000, 'the deletion in the state');
    await daemon.whenIdle();

    // Three sends in all: start, new, new (edited). The rename and the deletion sent nothing.
    expect(env.sentPaths()).toEqual(['start.md', 'guide/new.md', 'guide/new.md']);
    const events = logs.lines.map((l) => l.event);
    expect(events).toContain('moved');
    expect(events).toContain('removed');
    const sent = logs.lines.filter((l) => l.event === 'sent');
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatchObject({ source: 'docs', key: 'start.md', reason: 'first seen' });
    expect(JSON.stringify(logs.lines)).not.toContain(env.sandbox.accessToken);
  });

  it('sends an atomic save (write a temporary file, rename it over) exactly once', async () => {
    const env = await daemonEnv();
    env.write('page.md', '# Version 1\n');
    const daemon = await useDaemon(env.config());
    await daemon.ready;
    expect(env.sentPaths()).toEqual(['page.md']);

    // An editor's save: the new content goes to a temporary file that replaces the document.
    const tmp = path.join(env.docs, 'page.md.tmp~1234');
    writeFileSync(tmp, '# Version 2\n');
    renameSync(tmp, path.join(env.docs, 'page.md'));
    await waitFor(() => env.sentPaths().length === 2, 5000, 'the saved file');
    // And an unlink + add save.
    rmSync(path.join(env.docs, 'page.md'));
    writeFileSync(path.join(env.docs, 'page.md'), '# Version 3\n');
    await waitFor(() => env.sentPaths().length === 3, 5000, 'the second save');
    await settle(env, daemon);

    expect(env.sentPaths()).toEqual(['page.md', 'page.md', 'page.md']);
    const record = env.state().get('docs', 'page.md');
    expect(record?.status).toMatch(/^(sent|ingested)$/);
    expect(env.state().list().map((r) => r.key).filter((key) => !isSentinel(key))).toEqual(['page.md']);
  });

  it('records a renamed folder as moves of its files: nothing sent again', async () => {
    const env = await daemonEnv();
    for (const name of ['one', 'two', 'three']) env.write(`guide/${name}.md`, `# ${name}\n`);
    const daemon = await useDaemon(env.config());
    await daemon.ready;
    expect(env.sentPaths()).toHaveLength(3);

    renameSync(path.join(env.docs, 'guide'), path.join(env.docs, 'manual'));
    await waitFor(() => env.read((s) => s.list({ status: ['sent', 'ingested'] }).every((r) => r.key.startsWith('manual/'))), 5000, 'the moves');
    await settle(env, daemon);
    const rows = env.state().list().filter((r) => !isSentinel(r.key));
    expect(rows.map((r) => [r.key, r.status, r.movedFrom])).toEqual([
      ['manual/one.md', 'ingested', 'docs:guide/one.md'],
      ['manual/three.md', 'ingested', 'docs:guide/three.md'],
      ['manual/two.md', 'ingested', 'docs:guide/two.md'],
    ]);
    expect(env.sentPaths()).toHaveLength(3);
  });

  it('waits until a file being written is stable before sending it', async () => {
    const env = await daemonEnv({ daemon: { debounceMs: 150 } });
    const daemon = await useDaemon(env.config());
    await daemon.ready;
    const file = path.join(env.docs, 'growing.md');
    writeFileSync(file, '# Part 1\n');
    for (let i = 2; i <= 5; i++) {
      await sleep(60);
      writeFileSync(file, `# Part 1\n${'more\n'.repeat(i)}`, { flag: 'w' });
    }
    await waitFor(() => env.sentPaths().length === 1, 5000, 'the finished file');
    await settle(env, daemon);
    expect(env.sentPaths()).toEqual(['growing.md']);
    expect(env.sends()).toHaveLength(1);
  });

  it('handles a burst of 1,000 new files: each reaches the sandbox exactly once', async () => {
    const env = await daemonEnv({ sync: { concurrency: 8 } });
    const daemon = await useDaemon(env.config(), { maxBatch: 400 });
    await daemon.ready;
    const names: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const rel = `burst/${String(Math.floor(i / 100)).padStart(2, '0')}/doc-${String(i).padStart(4, '0')}.md`;
      names.push(rel);
      env.write(rel, `# Document ${i}\n`);
    }
    // Note: polls the state, not the sandbox (whose state() copies everything it holds).
    await waitFor(() => env.read((s) => s.list({ status: ['sent', 'ingested'] }).length) >= 1000, 60_000, '1,000 documents', 100);
    await daemon.whenIdle();
    const counts = tally(env.sentPaths());
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect([...counts.keys()].sort()).toEqual(names.sort());
    const uploaded = env.state().list({ status: ['sent', 'ingested'] });
    expect(uploaded).toHaveLength(1000);
  }, 90_000);

  it('logs a file skipped for the same reason at info once, then at debug on later reconciles', async () => {
    const env = await daemonEnv({ daemon: { reconcileInterval: '300ms' } });
    env.write('doc.md', '# Doc\n');
    env.write('picture.png', 'not a document');
    const logs = logSink();
    const daemon = await useDaemon(env.config(), { logs });
    await daemon.ready;
    const skips = () => logs.lines.filter((l) => l.event === 'skipped' && l.key === 'picture.png');
    await waitFor(() => skips().length >= 3, 5000, 'three reconciles');
    expect(skips().map((l) => l.level)).toEqual(['info', ...skips().slice(1).map(() => 'debug')]);
  });
});
