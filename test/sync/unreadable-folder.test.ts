import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canTestPermissions, withoutFileOverride } from '../helpers/permissions.js';
import { setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

const CLI_SOURCE = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs `lanying-kb ARGS` from the sources (so that it is the code under test, built or not) in `cwd`, subject to
 * file permissions although the suite may run as root (see `permissions.ts`).
 */
function cliFromSource(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [bin, argv] = withoutFileOverride([process.execPath, '--import', TSX, CLI_SOURCE, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { cwd, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface JsonReport {
  counts: Record<string, number>;
  entries: { key: string; action: string; reason: string }[];
}

describe('a folder that cannot be read', () => {
  it.runIf(canTestPermissions)('keeps the documents below it (not taken for removed), reports it, and syncs the rest (run as an unprivileged user)', async () => {
    const s = await setupSync();
    writeFile(s.root, 'open.md', '# Open\n');
    writeFile(s.root, 'locked/inside.md', '# Inside\n');
    writeFile(s.root, 'locked/deeper/more.md', '# More\n');
    expect((await s.sync()).counts).toMatchObject({ sent: 3 });
    writeFileSync(path.join(s.dir, 'lanying-kb.config.json'), JSON.stringify(s.raw));

    chmodSync(path.join(s.root, 'locked'), 0o000);
    writeFile(s.root, 'later.md', '# Later\n');
    const run = await cliFromSource(['sync', '--json'], s.dir);
    chmodSync(path.join(s.root, 'locked'), 0o755);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.counts).toMatchObject({ removed: 0, sent: 1, new: 1 });
    // --json streams its entries as they settle: the skip before the send.
    expect(report.entries.filter((e) => e.action !== 'unchanged').map((e) => [e.key, e.action, e.reason])).toEqual([
      ['locked/', 'skipped', 'unreadable folder (EACCES)'],
      ['later.md', 'new', 'first seen'],
    ]);
    const store = s.state();
    expect(store.list().map((r) => [r.key, r.status])).toEqual([
      ['later.md', 'ingested'],
      ['locked/deeper/more.md', 'ingested'],
      ['locked/inside.md', 'ingested'],
      ['open.md', 'ingested'],
    ]);
    store.close();

    // Readable again: nothing was lost, so nothing is sent again.
    expect((await s.sync()).counts).toMatchObject({ sent: 0, removed: 0, unchanged: 4 });
    expect(s.sends()).toHaveLength(4);
  });
});
