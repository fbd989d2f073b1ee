import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_LIMITS, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { rejectionOf } from '../helpers/errors.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const valid = { api: { endpoint: 'https://api.example.test', appId: 'app1', accessToken: 'token-1234567890' } };
const json = JSON.stringify(valid);

function expectConfigError(promise: Promise<unknown>): Promise<ConfigError> {
  return rejectionOf(promise, ConfigError);
}

/** A JavaScript config that leaves a marker file when it runs. */
function jsConfig(file: string, marker: string): void {
  writeFileSync(file, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = ${json};\n`);
}

describe('loadConfig: bounded and safe', () => {
  it('refuses a YAML alias bomb at once with a ConfigError naming the file', async () => {
    const dir = tmpDir();
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    writeFileSync(path.join(dir, 'lanying-kb.config.yaml'), `${levels.join('\n')}\napi: *l\n`);
    const error = await expectConfigError(loadConfig({ cwd: dir, env: {}, homeDir: dir }));
    expect(error.message).toBe(`${path.join(dir, 'lanying-kb.config.yaml')}: cannot be read: more than ${CONFIG_LIMITS.maxYamlAliases} YAML alias expansions (an alias bomb?)`);
  });

  it('refuses a file over the size limit without parsing it, and nesting deeper than the limit', async () => {
    const dir = tmpDir();
    const big = path.join(dir, 'big.json');
    writeFileSync(big, `{"api": ${json}, "pad": "${'x'.repeat(CONFIG_LIMITS.maxBytes)}"}`);
    const error = await expectConfigError(loadConfig({ file: big, env: {} }));
    expect(error.message).toMatch(new RegExp(`^${big}: is \\d+ bytes; a configuration file may have at most ${CONFIG_LIMITS.maxBytes}$`));

    const deep = path.join(dir, 'deep.json');
    writeFileSync(deep, `{"api": ${json}, "x": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    const nested = await expectConfigError(loadConfig({ file: deep, env: {} }));
    expect(nested.message).toBe(`${deep}: objects and arrays are nested more than ${CONFIG_LIMITS.maxDepth} levels deep`);
  });

  it('keeps a "__proto__" key a key (reported as unknown), never the prototype', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'proto.json');
    writeFileSync(file, `{"__proto__": {"knowledgeBase": {"chatbotUserId": 1, "adminUserId": 2, "name": "x"}}, "api": ${JSON.stringify(valid.api)}}`);
    const error = await expectConfigError(loadConfig({ file, env: {} }));
    expect(error.message).toBe(`${file}: __proto__: unknown key`);
  });

  it('stops the search at the home folder and at a repository root', async () => {
    const root = tmpDir();
    writeFileSync(path.join(root, 'lanying-kb.config.json'), json);
    const home = path.join(root, 'home');
    const work = path.join(home, 'work', 'sub');
    mkdirSync(work, { recursive: true });
    // Found from below while the search may go up to `root`...
    expect((await loadConfig({ cwd: work, env: {}, homeDir: root })).filepath).toBe(path.join(root, 'lanying-kb.config.json'));
    // ...but not past the home folder...
    const none = await expectConfigError(loadConfig({ cwd: work, env: {}, homeDir: home }));
    expect(none.message).toMatch(/no configuration found in .* up to the home folder or repository root/);
    // ...nor past a repository root.
    mkdirSync(path.join(home, 'work', '.git'));
    await expectConfigError(loadConfig({ cwd: work, env: {}, homeDir: '/nonexistent-home' }));
    // A config in the home folder itself (or the repository root) is still found.
    writeFileSync(path.join(home, 'work', '.lanying-kbrc.yaml'), 'api:\n  endpoint: https://api.example.test\n  appId: from-rc\n  accessToken: token-1234567890\n');
    expect((await loadConfig({ cwd: work, env: {}, homeDir: home })).api.appId).toBe('from-rc');
  });

  it('never runs a JavaScript config that the search found; runs one named with --config', async () => {
    const dir = tmpDir();
    const marker = path.join(dir, 'ran');
    const file = path.join(dir, 'lanying-kb.config.cjs');
    jsConfig(file, marker);
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    const error = await expectConfigError(loadConfig({ cwd: sub, env: {}, homeDir: dir }));
    expect(error.message).toBe(`${file}: a .cjs configuration found by the search is not run (it is a program); name it with --config ${file} to use it`);
    expect(existsSync(marker)).toBe(false);

    const named = await loadConfig({ file, env: {} });
    expect(named.api.appId).toBe('app1');
    expect(existsSync(marker)).toBe(true);
  });

  it('refuses a found file that another user owns or everyone may write (unless named with --config)', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'lanying-kb.config.json');
    writeFileSync(file, json);
    chmodSync(file, 0o666);
    const writable = await expectConfigError(loadConfig({ cwd: dir, env: {}, homeDir: dir }));
    expect(writable.message).toBe(`${file}: found by the search but writable by every user; fix its permissions (chmod o-w) or name it with --config`);
    chmodSync(file, 0o644);
    expect((await loadConfig({ cwd: dir, env: {}, homeDir: dir })).filepath).toBe(file);

    if (process.getuid?.() === 0) {
      chownSync(file, 12345, 12345);
      const foreign = await expectConfigError(loadConfig({ cwd: dir, env: {}, homeDir: dir }));
      expect(foreign.message).toBe(`${file}: found by the search but owned by another user (uid 12345); name it with --config to use it`);
      expect((await loadConfig({ file, env: {} })).filepath).toBe(file);
    }
  });

  it('reads a .lanying-kbrc as JSON or YAML, and reports an empty file', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, '.lanying-kbrc'), 'api:\n  endpoint: https://api.example.test\n  appId: yaml-rc\n  accessToken: token-1234567890\n');
    expect((await loadConfig({ cwd: dir, env: {}, homeDir: dir })).api.appId).toBe('yaml-rc');
    const empty = path.join(dir, 'empty.yaml');
    writeFileSync(empty, '\n  \n');
    expect((await expectConfigError(loadConfig({ file: empty, env: {} }))).message).toBe(`${empty}: the file is empty`);
  });
});
