import { describe, expect, it } from 'vitest';
import { cliFor } from '../helpers/cli.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { useSandbox } from '../helpers/sandbox.js';

const spawnCli = (args: string[], cwd: string, input: string) => runCliProcess(args, { cwd, input });

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
