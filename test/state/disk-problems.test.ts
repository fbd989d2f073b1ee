import { chmodSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../helpers/cli-process.js';
import { bindReadOnly, fillDisk, mounting, mountTmpfs, noteSkip } from '../helpers/mounts.js';
import { canTestPermissions } from '../helpers/permissions.js';
import { setupSync, type SyncSetup } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

/** Writes the setup's config for the CLI process. */
function writeCliConfig(setup: SyncSetup): void {
  writeFileSync(path.join(setup.dir, 'lanying-kb.config.json'), JSON.stringify(setup.raw));
}

/** Documents in the sandbox's knowledge base per path: a version sent twice shows as 2. */
function documentsPerPath(setup: SyncSetup): Map<string, number> {
  const counts = new Map<string, number>();
  for (const doc of setup.sandbox.state().knowledgeBase.documents) {
    const key = `${doc.metadata.path}@${doc.metadata.sha256}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The stderr of a failed run: one `lanying-kb:` line, no stack trace, nothing empty. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at |unexpected error/);
  return lines[0] as string;
}

describe('a read-only or full state disk', () => {
  it.runIf(canTestPermissions)('names a read-only state.db (exit 2, one line); once writable again the next run sends only what is new', async () => {
    const setup = await setupSync();
    writeCliConfig(setup);
    for (let i = 0; i < 5; i++) writeFile(setup.root, `a-${i}.md`, `# A ${i}\n`);
    expect((await runCliProcess(['sync'], { cwd: setup.dir })).code).toBe(0);
    writeFile(setup.root, 'b.md', '# B\n');
    const stateFile = path.join(setup.config.sync.stateDir, 'state.db');
    chmodSync(stateFile, 0o444);
    const refused = await runCliProcess(['sync'], { cwd: setup.dir, unprivileged: true });
    expect(refused.code).toBe(2);
    const line = expectOneLine(refused.stderr);
    expect(line).toContain(`${stateFile}: cannot be written: permission denied (EACCES)`);
    chmodSync(stateFile, 0o600);
    const again = await runCliProcess(['sync', '--json'], { cwd: setup.dir, unprivileged: true });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).counts).toMatchObject({ sent: 1, unchanged: 5 });
    expect([...documentsPerPath(setup).values()].every((n) => n === 1)).toBe(true);
  });

  it.runIf(mounting.allowed)('names a state folder on a read-only file system (exit 2, one line)', async () => {
    const setup = await setupSync();
    writeCliConfig(setup);
    writeFile(setup.root, 'a.md', '# A\n');
    expect((await runCliProcess(['sync'], { cwd: setup.dir })).code).toBe(0);
    writeFile(setup.root, 'b.md', '# B\n');
    const mount = bindReadOnly(setup.config.sync.stateDir);
    const refused = await runCliProcess(['sync'], { cwd: setup.dir });
    expect(refused.code).toBe(2);
    const line = expectOneLine(refused.stderr);
    expect(line).toMatch(/the file system is mounted read-only \(EROFS\)/);
    expect(line).toContain(setup.config.sync.stateDir);
    mount.unmount();
    const again = await runCliProcess(['sync', '--json'], { cwd: setup.dir });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).counts).toMatchObject({ sent: 1, unchanged: 1 });
  });

  it.runIf(mounting.allowed)('names a full disk, at the start and in the middle of a run (exit 2, one line); once space is back nothing is lost or sent twice', async () => {
    const setup = await setupSync();
    writeCliConfig(setup);
    const stateDir = setup.config.sync.stateDir;
    mkdirSync(stateDir, { recursive: true });
    mountTmpfs(stateDir, '8m');
    writeFile(setup.root, 'first.md', '# First\n');
    expect((await runCliProcess(['sync'], { cwd: setup.dir })).code).toBe(0);

    // Full before the run starts.
    for (let i = 0; i < 40; i++) writeFile(setup.root, `doc-${i}.md`, `# Doc ${i}\n${'words '.repeat(50)}\n`);
    const filler = fillDisk(stateDir);
    const full = await runCliProcess(['sync'], { cwd: setup.dir });
    expect(full.code).toBe(2);
    expect(expectOneLine(full.stderr)).toMatch(/the disk is full \((ENOSPC|SQLITE_FULL)\)/);

    // Full in the middle of the run: room for the rows of a few documents only (about 48 KiB).
    rmSync(filler);
    const { bavail, bsize } = statfsSync(stateDir);
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 48 * 1024)));
    const midRun = await runCliProcess(['sync'], { cwd: setup.dir });
    expect(midRun.code).toBe(2);
    expect(expectOneLine(midRun.stderr)).toMatch(/state\.db: cannot be written: the disk is full \((ENOSPC|SQLITE_FULL)\)/);

    rmSync(filler);
    const recovered = await runCliProcess(['sync', '--json'], { cwd: setup.dir });
    expect(recovered.stderr).toBe('');
    expect(recovered.code).toBe(0);
    await setup.sandbox.idle();
    const perPath = documentsPerPath(setup);
    expect(perPath.size).toBe(41);
    expect([...perPath.entries()].filter(([, n]) => n > 1)).toEqual([]);
  }, 60_000);

  it('mount tests run where the machine allows mounting', () => {
    noteSkip('read-only bind mount and full tmpfs tests');
    expect(true).toBe(true);
  });
});
