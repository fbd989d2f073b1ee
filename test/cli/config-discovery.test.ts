import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../helpers/cli-process.js';
import { canTestPermissions } from '../helpers/permissions.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// The search as the real CLI does it, in the working folder it is started in (which cosmiconfig's factory would
// also search for a "meta config" of its own: see src/config/config-files.ts).

const api = (appId: string) => ({ endpoint: 'https://api.example.test', appId, accessToken: 'token-1234567890' });

function folderWithConfig(): string {
  const dir = tmpDir();
  writeFileSync(path.join(dir, 'lanying-kb.config.json'), JSON.stringify({ api: api('search') }));
  mkdirSync(path.join(dir, '.config'));
  return dir;
}

describe('lanying-kb: the configuration search from the working folder', () => {
  it('ignores a cosmiconfig meta config in the working folder: neither its options nor its "lanying-kb" key', async () => {
    const dir = folderWithConfig();
    writeFileSync(
      path.join(dir, '.config', 'config.json'),
      JSON.stringify({ cosmiconfig: { searchPlaces: ['elsewhere.json'], cache: true }, 'lanying-kb': { api: api('meta') } }),
    );
    const run = await runCliProcess(['validate'], { cwd: dir });
    expect(run.stdout).toBe(`ok   config: ${path.join(dir, 'lanying-kb.config.json')} is valid (0 source(s))\n`);
    expect(run.code).toBe(0);
  });

  it('never runs a cosmiconfig meta config program in the working folder', async () => {
    const code = folderWithConfig();
    const marker = path.join(code, 'ran');
    writeFileSync(path.join(code, '.config', 'config.cjs'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = {};\n`);
    const second = await runCliProcess(['validate'], { cwd: code });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it.runIf(canTestPermissions)('reports a found file it may not read (exit 2) instead of going on to one further up', async () => {
    const dir = folderWithConfig();
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    const locked = path.join(sub, 'lanying-kb.config.json');
    writeFileSync(locked, JSON.stringify({ api: api('locked') }));
    chmodSync(locked, 0o000);
    const run = await runCliProcess(['validate'], { cwd: sub, unprivileged: true });
    expect(run.stderr).toContain(`${locked}: cannot be read: EACCES`);
    expect(run.code).toBe(2);
  });

  // The CLI is a bundle (scripts/bundle-cli.mjs) that loads yaml lazily and programs by their path: each kind of
  // file, read by the real process (a program only when named: the search does not run one).
  it.each([
    ['lanying-kb.config.yaml', `api:\n  endpoint: https://api.example.test\n  appId: yaml\n  accessToken: token-1234567890\n`, []],
    ['.lanying-kbrc.yml', `api: { endpoint: "https://api.example.test", appId: yml, accessToken: token-1234567890 }\n`, []],
    ['lanying-kb.config.mjs', `export default ${JSON.stringify({ api: api('mjs') })};\n`, ['--config', 'lanying-kb.config.mjs']],
    ['lanying-kb.config.cjs', `module.exports = ${JSON.stringify({ api: api('cjs') })};\n`, ['--config', 'lanying-kb.config.cjs']],
  ])('reads %s', async (name, text, args) => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, name), text);
    const run = await runCliProcess(['validate', ...args], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`ok   config: ${path.join(dir, name)} is valid (0 source(s))\n`);
    expect(run.code).toBe(0);
  });
});
