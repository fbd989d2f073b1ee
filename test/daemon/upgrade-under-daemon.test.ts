import { copyFileSync, cpSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp-dir.js';
import { daemonEnv, spawnWatch, waitFor } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

// The CLI is a bundle whose lazily loaded parts are chunk files named by their content (scripts/bundle-cli.mjs). An
// upgrade of the package replaces them while a daemon started before it still runs: it must not need them any more.
describe('lanying-kb watch: the package upgraded under a running daemon', () => {
  it('goes on sending (uploads, the HTTP client) after every chunk file of the bundle it was started from is gone', async () => {
    const env = await daemonEnv();
    env.writeConfig();
    // A copy of the package (its dependencies linked), whose bundle can be taken away.
    const pkg = tmpDir('lkb-package-');
    cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
    const bundle = path.join(pkg, 'dist', 'cli', 'bundle');
    const proc = spawnWatch(env.dir, env.configFile, [], {}, path.join(bundle, 'lanying-kb.js'));
    await proc.waitForLog((l) => l.event === 'ready', 20_000, 'the daemon to be ready');
    expect(env.sends()).toHaveLength(0);

    const chunks = readdirSync(bundle).filter((f) => f.startsWith('chunk-'));
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) rmSync(path.join(bundle, chunk));
    env.write('after-upgrade.md', '# Written after the upgrade\n');
    await waitFor(() => env.sentPaths().includes('after-upgrade.md'), 20_000, 'the new file sent');
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    expect(proc.logs.filter((l) => l.level === 'error' || l.level === 50)).toEqual([]);
  });
});
