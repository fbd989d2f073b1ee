import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstAbsolutePath, loadCliConfig } from '../../src/cli/load-config.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { canTestPermissions } from '../helpers/permissions.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const SECRET = 'tok-3f9a1c2b7d5e4f60a8b9c0d1e2f3a4b5';
const api = (extra: Record<string, unknown>) => ({ api: { endpoint: 'https://example.com', appId: 'app', ...extra } });

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('api.accessTokenFile', () => {
  it('reads the token from the file (one line; the final newline dropped); relative paths beside the config file', () => {
    const dir = tmpDir('lkb-token-');
    writeFileSync(path.join(dir, 'kb.token'), `${SECRET}\n`);
    const config = parseConfig(api({ accessTokenFile: 'kb.token' }), { baseDir: dir, filepath: path.join(dir, 'kb.json') });
    expect(config.api.accessToken).toBe(SECRET);
    expect(config.api.accessTokenFile).toBe(path.join(dir, 'kb.token'));
  });

  it('a relative path is looked up in the credentials directory when there is one ($CREDENTIALS_DIRECTORY)', () => {
    const dir = tmpDir('lkb-token-');
    const credentials = path.join(dir, 'credentials');
    mkdirSync(credentials);
    writeFileSync(path.join(dir, 'kb.token'), 'the-wrong-one');
    writeFileSync(path.join(credentials, 'kb.token'), SECRET);
    const config = parseConfig(api({ accessTokenFile: 'kb.token' }), { baseDir: dir, credentialsDirectory: credentials });
    expect(config.api.accessToken).toBe(SECRET);
    // An absolute path is taken as it is.
    const absolute = parseConfig(api({ accessTokenFile: path.join(dir, 'kb.token') }), { baseDir: dir, credentialsDirectory: credentials });
    expect(absolute.api.accessToken).toBe('the-wrong-one');
  });

  it.each([
    { name: 'missing', setup: () => undefined, message: /kb\.token: cannot be read \(ENOENT: no such file\)$/ },
    { name: 'empty', setup: (f: string) => writeFileSync(f, ' \n'), message: /kb\.token: is empty$/ },
    { name: 'two lines', setup: (f: string) => writeFileSync(f, `${SECRET}\n${SECRET}\n`), message: /kb\.token: holds more than one line/ },
    { name: 'a folder', setup: (f: string) => mkdirSync(f), message: /kb\.token: (not a regular file|cannot be read \(EISDIR)/ },
    { name: 'huge', setup: (f: string) => writeFileSync(f, 'x'.repeat(70_000)), message: /kb\.token: 70000 bytes: too large/ },
  ])('a file that is $name: a ConfigError at api.accessTokenFile naming the file, never its content', ({ setup, message }) => {
    const dir = tmpDir('lkb-token-');
    const file = path.join(dir, 'kb.token');
    setup(file);
    const found = problems(() => parseConfig(api({ accessTokenFile: 'kb.token' }), { baseDir: dir, filepath: path.join(dir, 'kb.json') }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^api\.accessTokenFile: /);
    expect(found[0]).toContain(file);
    expect(found[0]).toMatch(message);
    expect(found[0]).not.toContain(SECRET);
  });

  it.runIf(canTestPermissions)('an unreadable file: permission denied, naming it', async () => {
    const dir = tmpDir('lkb-token-');
    const file = path.join(dir, 'kb.token');
    writeFileSync(file, SECRET);
    chmodSync(file, 0o000);
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'kb.json'), JSON.stringify(api({ accessTokenFile: 'kb.token' })));
    const run = await runCliProcess(['validate', '--config', path.join(dir, 'kb.json')], { cwd: dir, unprivileged: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`api.accessTokenFile: ${file}: cannot be read (EACCES: permission denied)`);
    expect(run.stderr + run.stdout).not.toContain(SECRET);
  });

  it.each([
    { raw: api({ accessToken: 'a', accessTokenFile: 'kb.token' }), env: {}, expected: ['api.accessTokenFile: api.accessToken (or LANYING_ACCESS_TOKEN) is set too: use one of them'] },
    { raw: api({ accessTokenFile: 'kb.token' }), env: { LANYING_ACCESS_TOKEN: 'from-env' }, expected: ['api.accessTokenFile: api.accessToken (or LANYING_ACCESS_TOKEN) is set too: use one of them'] },
    { raw: api({}), env: {}, expected: ['api.accessToken: required (string), or set api.accessTokenFile'] },
    // Reported together with the other problems.
    { raw: { api: { endpoint: 'https://example.com', appId: 1 } }, env: {}, expected: ['api.appId: expected string, received number', 'api.accessToken: required (string), or set api.accessTokenFile'] },
  ])('exclusive with api.accessToken: $expected', ({ raw, env, expected }) => {
    const dir = tmpDir('lkb-token-');
    writeFileSync(path.join(dir, 'kb.token'), SECRET);
    expect(problems(() => parseConfig(raw, { baseDir: dir, env }))).toEqual(expected);
  });
});

describe('what the CLI takes from systemd', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['/var/lib/lanying-kb/kb', '/var/lib/lanying-kb/kb'],
    ['/var/lib/a:/var/lib/b', '/var/lib/a'],
    ['relative/path', undefined],
  ])('firstAbsolutePath(%j) = %j', (value, expected) => {
    expect(firstAbsolutePath(value)).toBe(expected);
  });

  it('$STATE_DIRECTORY is the default state folder; sync.stateDir still wins; $CREDENTIALS_DIRECTORY holds the token file', async () => {
    const dir = tmpDir('lkb-systemd-env-');
    const credentials = path.join(dir, 'creds');
    mkdirSync(credentials);
    writeFileSync(path.join(credentials, 'kb.token'), SECRET);
    const file = path.join(dir, 'kb.json');
    writeFileSync(file, JSON.stringify(api({ accessTokenFile: 'kb.token' })));
    const ctx = (env: Record<string, string>) => ({ cwd: dir, env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, onSignal: () => () => {} });
    const systemd = await loadCliConfig({ config: file }, ctx({ STATE_DIRECTORY: '/var/lib/lanying-kb/kb', CREDENTIALS_DIRECTORY: credentials }));
    expect(systemd.sync.stateDir).toBe('/var/lib/lanying-kb/kb');
    expect(systemd.api.accessToken).toBe(SECRET);

    const plain = parseConfig(api({ accessToken: 'x' }), { baseDir: dir });
    expect(plain.sync.stateDir).toBe(path.join(dir, '.lanying-kb'));

    writeFileSync(file, JSON.stringify({ ...api({ accessToken: 'x' }), sync: { stateDir: 'own-state' } }));
    const explicit = await loadCliConfig({ config: file }, ctx({ STATE_DIRECTORY: '/var/lib/lanying-kb/kb' }));
    expect(explicit.sync.stateDir).toBe(path.join(dir, 'own-state'));
  });
});
