import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StateStore } from '../../src/state/store.js';
import { daemonEnv, sleep, spawnWatch, useDaemon } from '../daemon/helpers.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { runWith } from '../helpers/cli.js';
import { setupSync } from '../helpers/sync.js';
import { tmpDir, writeFile } from '../helpers/tmp-dir.js';

/** Opens a copy of a state database alone (without its `-wal`), as a plain file copy or a lost log leaves it. */
function openCopy(stateFile: string): StateStore {
  const dir = tmpDir('lkb-copy-');
  copyFileSync(stateFile, path.join(dir, 'state.db'));
  const store = StateStore.open(dir, { readonly: true });
  onTestFinished(() => store.close());
  return store;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A process that starts making a new state and is killed (SIGKILL, by itself) while the schema is built: its first
 * `CREATE TABLE` never returns.
 */
const KILLED_WHILE_CREATING = `
import { createRequire } from 'node:module';
const require = createRequire(process.argv[1] + '/package.json');
const Database = require('better-sqlite3');
const exec = Database.prototype.exec;
Database.prototype.exec = function (sql) {
  if (/CREATE TABLE documents/.test(sql)) process.kill(process.pid, 'SIGKILL');
  return exec.call(this, sql);
};
const { StateStore } = await import(process.argv[1] + '/dist/state/store.js');
StateStore.open(process.argv[2]);
`;

describe('the state stays whole', () => {
  it.runIf(existsSync(path.join(root, 'dist/state/store.js')))('a process killed while it makes a new state leaves none behind: the next run starts afresh', async () => {
    const dir = path.join(tmpDir(), 'state');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', KILLED_WHILE_CREATING, root.replace(/\/$/, ''), dir]);
    expect(child.signal).toBe('SIGKILL');
    expect(existsSync(path.join(dir, 'state.db'))).toBe(false);
    const store = StateStore.open(dir);
    onTestFinished(() => store.close());
    expect(store.documentsOf('docs').size).toBe(0);
    expect(existsSync(path.join(dir, 'state.db.new'))).toBe(false);
  });

  it("keeps a daemon's reconciled rows in state.db itself: a kill -9 and a deleted -wal send nothing twice", async () => {
    const env = await daemonEnv();
    for (let i = 0; i < 12; i++) env.write(`doc-${i}.md`, `# Doc ${i}\n`);
    const watch = spawnWatch(env.dir, env.configFile, ['--log-format', 'json']);
    await watch.waitForLog((l) => l.event === 'ready', 20_000, 'the first reconcile');
    expect(env.sends()).toHaveLength(12);
    watch.child.kill('SIGKILL');
    await watch.exited;
    const stateFile = path.join(env.dir, '.lanying-kb', 'state.db');
    // The daemon never closed the database: what it recorded is in state.db only if it checkpointed.
    rmSync(`${stateFile}-wal`, { force: true });
    rmSync(`${stateFile}-shm`, { force: true });
    const run = await runWith(['sync', '--json'], { cwd: env.dir });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).counts).toMatchObject({ sent: 0, unchanged: 12 });
    expect(env.sends()).toHaveLength(12);
  }, 40_000);

  it('makes state.db current after every sync run, even while another process reads the state', async () => {
    const setup = await setupSync();
    writeFile(setup.root, 'first.md', '# First\n');
    await setup.sync();
    // A reader (a `status`, a monitoring script) keeps the database open: closing the writer does not checkpoint then.
    const reader = setup.state();
    onTestFinished(() => reader.close());
    for (let i = 0; i < 8; i++) writeFile(setup.root, `more-${i}.md`, `# More ${i}\n`);
    const report = await setup.sync();
    expect(report.counts.sent).toBe(8);
    const copy = openCopy(path.join(setup.config.sync.stateDir, 'state.db'));
    expect(copy.documentsOf('docs').size).toBe(9);
    expect(copy.recentRuns(1)[0]?.outcome).toBe('ok');
  });

  it('state backup: a copy taken while a daemon writes opens as a valid, current state', async () => {
    const env = await daemonEnv();
    env.write('start.md', '# Start\n');
    const daemon = await useDaemon(env.config());
    await daemon.ready;
    const backups = tmpDir('lkb-backups-');
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 60; i++) {
        env.write(`live-${i}.md`, `# Live ${i}\n${'text '.repeat(200)}\n`);
        await sleep(15);
      }
    })();
    const results = [];
    for (let i = 0; i < 3; i++) {
      mkdirSync(path.join(backups, `b${i}`));
      results.push(await runCliProcess(['state', 'backup', path.join(backups, `b${i}`, 'state.db')], { cwd: env.dir }));
    }
    writing = false;
    await writer;
    await daemon.whenIdle();
    for (const [i, result] of results.entries()) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Backed up .*state\.db to .*state\.db \(\d+ document record\(s\), /);
      const file = path.join(backups, `b${i}`, 'state.db');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(existsSync(`${file}-wal`)).toBe(false);
      // Opening runs the integrity check (no clean-close mark beside a backup).
      const store = StateStore.open(path.dirname(file));
      onTestFinished(() => store.close());
      expect(store.documentsOf('docs').has('start.md')).toBe(true);
    }
    // A backup taken once the daemon is idle holds every document it recorded.
    const last = await runWith(['state', 'backup', path.join(backups, 'last.db')], { cwd: env.dir });
    expect(last.code).toBe(0);
    const lastDir = tmpDir();
    copyFileSync(path.join(backups, 'last.db'), path.join(lastDir, 'state.db'));
    const copy = StateStore.open(lastDir, { readonly: true });
    onTestFinished(() => copy.close());
    expect(copy.documentsOf('docs').size).toBe(env.read((s) => s.documentsOf('docs').size));
  }, 60_000);

  it('state backup refuses to replace a file unless --force, and says when there is no state yet', async () => {
    const setup = await setupSync();
    const cli = (argv: string[]) => runWith(argv, { cwd: setup.dir });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(setup.dir, 'lanying-kb.config.json'), JSON.stringify(setup.raw));
    const none = await cli(['state', 'backup', 'copy.db']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/state\.db: does not exist yet: there is nothing to back up/);
    writeFile(setup.root, 'a.md', '# A\n');
    await setup.sync();
    expect((await cli(['state', 'backup', 'copy.db'])).code).toBe(0);
    const again = await cli(['state', 'backup', 'copy.db']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/copy\.db: exists already; choose another file, or pass --force/);
    expect((await cli(['state', 'backup', '--force', 'copy.db'])).code).toBe(0);
    const missingFolder = await cli(['state', 'backup', 'nowhere/copy.db']);
    expect(missingFolder.code).toBe(2);
    expect(missingFolder.stderr).toMatch(/nowhere\/copy\.db: its folder does not exist/);
  });
});
