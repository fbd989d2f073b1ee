import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CONFIG_LIMITS, loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { bounded } from '../fuzz/fuzz-helpers.js';
import { rejectionOf } from '../helpers/errors.js';
import { tmpDir } from '../helpers/tmp-dir.js';

// What the search (cosmiconfig, with our walk, loaders and checks) reads, skips and refuses.

const api = (appId: string) => ({ endpoint: 'https://api.example.test', appId, accessToken: 'token-1234567890' });
const json = (appId: string) => JSON.stringify({ api: api(appId) });
const yaml = (appId: string) => `api:\n  endpoint: https://api.example.test\n  appId: ${appId}\n  accessToken: token-1234567890\n`;

/** A folder `root` holding a valid config (appId "parent") and its subfolder `sub`, searched up to `root`. */
function parentAndSub(): { root: string; sub: string; search: () => ReturnType<typeof loadConfig> } {
  const root = tmpDir();
  writeFileSync(path.join(root, 'lanying-kb.config.json'), json('parent'));
  const sub = path.join(root, 'sub');
  mkdirSync(sub);
  return { root, sub, search: () => loadConfig({ cwd: sub, env: {}, homeDir: root }) };
}

function configError(promise: Promise<unknown>): Promise<ConfigError> {
  return rejectionOf(promise, ConfigError);
}

describe('the configuration search', () => {
  it('takes the first place that exists, in the order of the search places, and reads each call afresh', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, '.lanying-kbrc.yml'), yaml('rc-yml'));
    const load = () => loadConfig({ cwd: dir, env: {}, homeDir: dir });
    expect((await load()).api.appId).toBe('rc-yml');
    writeFileSync(path.join(dir, '.lanying-kbrc'), json('rc'));
    expect((await load()).api.appId).toBe('rc');
    writeFileSync(path.join(dir, 'lanying-kb.config.yaml'), yaml('yaml'));
    expect((await load()).api.appId).toBe('yaml');
    writeFileSync(path.join(dir, 'lanying-kb.config.json'), json('json'));
    expect((await load()).api.appId).toBe('json');
    // Edited between two calls: nothing is cached (the daemon's SIGHUP reload).
    writeFileSync(path.join(dir, 'lanying-kb.config.json'), json('edited'));
    expect((await load()).api.appId).toBe('edited');
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', 'lanying-kb': { api: api('pkg') } }));
    expect((await load()).api.appId).toBe('pkg');
  });

  it('skips a package.json without the key, an empty one and one that is not JSON; stops at one with the key', async () => {
    const { sub, search } = parentAndSub();
    for (const content of ['{"name": "x"}', '', '{ not json', 'null', '5']) {
      writeFileSync(path.join(sub, 'package.json'), content);
      expect((await search()).api.appId, content).toBe('parent');
    }
    writeFileSync(path.join(sub, 'package.json'), JSON.stringify({ 'lanying-kb': { api: api('pkg') } }));
    expect((await search()).api.appId).toBe('pkg');
  });

  it('checks the owner and mode of a found package.json only when it holds the key', async () => {
    const { sub, search } = parentAndSub();
    const pkg = path.join(sub, 'package.json');
    writeFileSync(pkg, '{"name": "someone else\'s"}');
    chmodSync(pkg, 0o666);
    if (process.getuid?.() === 0) chownSync(pkg, 12345, 12345);
    expect((await search()).api.appId).toBe('parent');
    writeFileSync(pkg, JSON.stringify({ 'lanying-kb': { api: api('pkg') } }));
    expect((await configError(search())).message).toMatch(new RegExp(`^${pkg}: found by the search but (owned by another user|writable by every user)`));
  });

  it('reports an empty or comment-only file it finds, rather than going on to a file further up', async () => {
    const { sub, search } = parentAndSub();
    const file = path.join(sub, 'lanying-kb.config.yaml');
    for (const content of ['', '  \n', '# nothing here yet\n', 'null\n']) {
      writeFileSync(file, content);
      expect((await configError(search())).message, JSON.stringify(content)).toBe(`${file}: the file is empty`);
    }
  });

  it('does not read a found file over the size limit (refused by its size), and skips a package.json over it', async () => {
    const { sub, search } = parentAndSub();
    const big = path.join(sub, 'package.json');
    writeFileSync(big, JSON.stringify({ 'lanying-kb': { api: api('big') }, pad: 'x'.repeat(CONFIG_LIMITS.maxBytes) }));
    expect((await search()).api.appId).toBe('parent');

    const file = path.join(sub, '.lanying-kbrc');
    writeFileSync(file, `{"api": ${JSON.stringify(api('big'))}, "pad": "${'x'.repeat(CONFIG_LIMITS.maxBytes)}"}`);
    // "is N bytes" comes from the file's stat before cosmiconfig reads it ("is over" would be the loader's, after).
    expect((await configError(search())).message).toMatch(new RegExp(`^${file}: is \\d+ bytes; a configuration file may have at most ${CONFIG_LIMITS.maxBytes}$`));
    // A place before it still wins.
    writeFileSync(path.join(sub, 'lanying-kb.config.json'), json('before'));
    expect((await search()).api.appId).toBe('before');
  });

  it('never opens a FIFO or a folder that has a search place\'s name', async () => {
    const { sub, search } = parentAndSub();
    mkdirSync(path.join(sub, 'lanying-kb.config.json'));
    const fifo = path.join(sub, 'lanying-kb.config.yaml');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo here
    // Reading a FIFO with no writer blocks for ever: bounded() fails the test instead of hanging.
    expect((await bounded(search)).api.appId).toBe('parent');
  });

  it('does not look in the per-user folder of $XDG_CONFIG_HOME (cosmiconfig\'s "global" strategy would)', async () => {
    const { root, sub } = parentAndSub();
    const xdg = tmpDir();
    mkdirSync(path.join(xdg, 'lanying-kb'));
    writeFileSync(path.join(xdg, 'lanying-kb', 'config.json'), json('xdg'));
    // A package.json without our key: cosmiconfig reads `sub` (and finds nothing of ours there).
    writeFileSync(path.join(sub, 'package.json'), '{"name": "x"}');
    vi.stubEnv('XDG_CONFIG_HOME', xdg);
    try {
      // Searched from `sub` up to `sub` itself: nothing found (neither the XDG file nor the parent's).
      const none = await configError(loadConfig({ cwd: sub, env: {}, homeDir: sub }));
      expect(none.message).toMatch(/^configuration: no configuration found in /);
      expect((await loadConfig({ cwd: sub, env: {}, homeDir: root })).api.appId).toBe('parent');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('refuses "$import" (cosmiconfig would merge other files, and run a .js one named that way)', async () => {
    const dir = tmpDir();
    const marker = path.join(dir, 'ran');
    writeFileSync(path.join(dir, 'extra.cjs'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = { sources: [] };\n`);
    writeFileSync(path.join(dir, 'extra.json'), JSON.stringify({ sources: [] }));
    const named = path.join(dir, 'named.json');
    writeFileSync(named, JSON.stringify({ $import: './extra.cjs', api: api('a') }));
    expect((await configError(loadConfig({ file: named, env: {} }))).message).toBe(
      `${named}: $import: unknown key (a configuration is one file; it cannot import others)`,
    );
    expect(existsSync(marker)).toBe(false);

    const found = path.join(dir, 'lanying-kb.config.yaml');
    writeFileSync(found, `$import: [./extra.json]\n${yaml('a')}`);
    expect((await configError(loadConfig({ cwd: dir, env: {}, homeDir: dir }))).message).toMatch(/lanying-kb\.config\.yaml: \$import: unknown key/);

    writeFileSync(found, '');
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ 'lanying-kb': { $import: './extra.json', api: api('a') } }));
    expect((await configError(loadConfig({ cwd: dir, env: {}, homeDir: dir }))).message).toMatch(/package\.json: \$import: unknown key/);
  });

  it('runs a JavaScript config named with --config afresh on every load (a reload sees the edit)', async () => {
    const dir = tmpDir();
    for (const ext of ['.cjs', '.mjs']) {
      const file = path.join(dir, `lanying-kb.config${ext}`);
      const write = (appId: string) => writeFileSync(file, `${ext === '.cjs' ? 'module.exports =' : 'export default'} ${json(appId)};\n`);
      write('first');
      expect((await loadConfig({ file, env: {} })).api.appId).toBe('first');
      write('second');
      expect((await loadConfig({ file, env: {} })).api.appId).toBe('second');
    }
  });
});
