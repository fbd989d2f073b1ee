import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliFor } from '../helpers/cli.js';
import { useSandbox } from '../helpers/sandbox.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = `${root}dist/cli/main.js`;
const builtAdmin = `${root}dist/cli/commands/admin/apply.js`;
const sourceAdmin = `${root}src/cli/commands/admin/apply.ts`;

/** `node dist/cli/main.js` when the build is there and not older than the sources; `tsx src/cli/main.ts` otherwise. */
function command(): [string, string[]] {
  if (existsSync(built) && existsSync(builtAdmin) && statSync(builtAdmin).mtimeMs >= statSync(sourceAdmin).mtimeMs) return [process.execPath, [built]];
  return [process.execPath, ['--import', pathToFileURL(`${root}node_modules/tsx/dist/loader.mjs`).href, `${root}src/cli/main.ts`]];
}

function spawnCli(args: string[], cwd: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [bin, pre] = command();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...pre, ...args], { cwd, env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('the real lanying-kb binary', () => {
  it('registers a user with the password on stdin, then refuses a non-TTY destroy without --yes', async () => {
    const sandbox = await useSandbox();
    const cli = cliFor(sandbox);
    const ok = await spawnCli(['--json', 'user', 'register', 'spawned_user', '--password-stdin'], cli.dir, 'pw-from-stdin\n');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const userId = (JSON.parse(ok.stdout) as { userId: number }).userId;
    expect(userId).toBeGreaterThan(0);

    const refused = await spawnCli(['group', 'destroy', '--owner', String(userId), '--group', '1'], cli.dir, '');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/add --yes to confirm/);
  });
});
