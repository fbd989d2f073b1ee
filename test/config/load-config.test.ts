import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { rejectionOf } from '../helpers/errors.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const valid = {
  api: { endpoint: 'https://api.example.test', appId: 'app1', accessToken: '${TOKEN}' },
  knowledgeBase: { chatbotUserId: 11, adminUserId: 12, name: 'kb' },
  sources: [{ type: 'folder', name: 'docs', path: './docs' }],
};

function expectConfigError(promise: Promise<unknown>): Promise<ConfigError> {
  return rejectionOf(promise, ConfigError);
}

describe('loadConfig', () => {
  it('finds lanying-kb.config.json upward from a subfolder and resolves paths from the file', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'lanying-kb.config.json'), JSON.stringify(valid));
    const sub = path.join(dir, 'a', 'b');
    mkdirSync(sub, { recursive: true });
    const config = await loadConfig({ cwd: sub, env: { TOKEN: 'secret-token' } });
    expect(config.filepath).toBe(path.join(dir, 'lanying-kb.config.json'));
    expect(config.api.accessToken).toBe('secret-token');
    expect(config.sources[0]).toMatchObject({ type: 'folder', name: 'docs', path: path.join(dir, 'docs'), maxFileSize: 50 * 1024 * 1024, followSymlinks: false });
    expect(config.sync).toEqual({
      stateDir: path.join(dir, '.lanying-kb'),
      concurrency: 4,
      requestsPerSecond: undefined,
      maxAttempts: 3,
      onChange: 'replace',
      onRemove: 'delete',
      deleteAfterMs: 3_600_000,
      maxDelete: { count: 1000, percent: 50 },
      confirmTimeoutMs: 600_000,
      confirmPollIntervalMs: 2000,
      commandTimeoutMs: 30_000,
      maxIngestAttempts: 3,
      ingestRetryDelayMs: 300_000,
      maxSendsPerRun: undefined,
    });
    expect(config.api.timeoutMs).toBe(20_000);
    expect(config.api.maxRetries).toBe(3);
    expect(config.daemon).toMatchObject({ debounceMs: 1000, reconcileIntervalMs: 3_600_000, shutdownTimeoutMs: 30_000 });
  });

  it('reads YAML, a .lanying-kbrc file and a "lanying-kb" key in package.json', async () => {
    const yamlDir = tmpDir();
    writeFileSync(
      path.join(yamlDir, 'lanying-kb.config.yaml'),
      'api:\n  endpoint: https://api.example.test\n  appId: app1\n  accessToken: tok\nsources:\n  - type: urls\n    name: web\n    urls: [https://example.test/a]\n    refreshInterval: 15m\n',
    );
    const fromYaml = await loadConfig({ cwd: yamlDir, env: {} });
    expect(fromYaml.sources[0]).toMatchObject({ type: 'urls', refreshIntervalMs: 900_000, urls: ['https://example.test/a'] });

    const rcDir = tmpDir();
    writeFileSync(path.join(rcDir, '.lanying-kbrc'), JSON.stringify({ api: { endpoint: 'https://x.test', appId: 'a', accessToken: 't' } }));
    expect((await loadConfig({ cwd: rcDir, env: {} })).api.appId).toBe('a');

    const pkgDir = tmpDir();
    writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: 'x', 'lanying-kb': { api: { endpoint: 'https://x.test', appId: 'pkg', accessToken: 't' } } }));
    expect((await loadConfig({ cwd: pkgDir, env: {} })).api.appId).toBe('pkg');
  });

  it('loads the file named by --config, relative to the working folder', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'custom.json'), JSON.stringify(valid));
    const config = await loadConfig({ file: 'custom.json', cwd: dir, env: { TOKEN: 't' } });
    expect(config.filepath).toBe(path.join(dir, 'custom.json'));
  });

  it('reports a missing file, and no config found, each naming what was looked for', async () => {
    const dir = tmpDir();
    const missing = await expectConfigError(loadConfig({ file: 'nope.json', cwd: dir, env: {} }));
    expect(missing.message).toBe(`${path.join(dir, 'nope.json')}: file not found`);
    const none = await expectConfigError(loadConfig({ cwd: dir, env: {} }));
    expect(none.message).toMatch(/no configuration found in .* \(looked for lanying-kb\.config\.json/);
  });

  it('reports bad JSON and bad YAML with the file name, in one line', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bad.json'), '{ "api": { "appId": "x", } ');
    const json = await expectConfigError(loadConfig({ file: 'bad.json', cwd: dir, env: {} }));
    expect(json.message.split('\n')).toHaveLength(1);
    expect(json.message).toContain(path.join(dir, 'bad.json'));
    expect(json.message).toMatch(/cannot be read/);

    writeFileSync(path.join(dir, 'bad.yaml'), 'api:\n  appId: [unclosed\n  endpoint: x\n');
    const yaml = await expectConfigError(loadConfig({ file: 'bad.yaml', cwd: dir, env: {} }));
    expect(yaml.message.split('\n')).toHaveLength(1);
    expect(yaml.message).toContain(path.join(dir, 'bad.yaml'));
  });

  it('reports every problem at once, each with the file and its key path', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'lanying-kb.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        api: { endpoint: 'https://x.test', appId: 5, accessToken: 't', extra: true },
        knowledgeBase: { chatbotUserId: 'eleven', adminUserId: 12, name: 'kb' },
        sources: [{ type: 'folder', name: 'docs' }, { type: 'ftp', name: 'x' }, { type: 'urls', name: 'docs', urls: ['https://a.test'] }],
        sync: { concurrency: 0 },
        daemon: { reconcileInterval: 'soon' },
      }),
    );
    const error = await expectConfigError(loadConfig({ cwd: dir, env: {} }));
    const lines = error.message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `${file}: api.appId: expected string, received number`,
        `${file}: api.extra: unknown key`,
        `${file}: knowledgeBase.chatbotUserId: expected number, received string`,
        `${file}: sources[0].path: required (string)`,
        `${file}: sources[1].type: must be "folder" or "urls"`,
        `${file}: sources[2].name: duplicate source name "docs" (also sources[0])`,
        `${file}: daemon.reconcileInterval: not a duration such as "30s", "15m" or "1h"`,
      ]),
    );
    expect(lines.some((l) => l.startsWith(`${file}: sync.concurrency:`))).toBe(true);
    expect(error.problems.length).toBe(lines.length);
  });

  it('reports an unset environment variable at its key, and never prints the token', async () => {
    const error = (() => {
      try {
        parseConfig(valid, { baseDir: '/x', filepath: '/x/c.json', env: {} });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toBe('/x/c.json: api.accessToken: environment variable TOKEN is not set');
  });

  it('supports ${VAR:-fallback} and $${ escapes', () => {
    const config = parseConfig(
      { ...valid, api: { ...valid.api, appId: '${APP:-fallback-app}', accessToken: 'lit$${x}' } },
      { baseDir: '/x', env: {} },
    );
    expect(config.api.appId).toBe('fallback-app');
    expect(config.api.accessToken).toBe('lit${x}');
  });

  it('lets LANYING_ENDPOINT, LANYING_APP_ID and LANYING_ACCESS_TOKEN override the api section', () => {
    const config = parseConfig(
      { sources: [] },
      { baseDir: '/x', env: { LANYING_ENDPOINT: 'https://env.test/', LANYING_APP_ID: 'env-app', LANYING_ACCESS_TOKEN: 'env-token' } },
    );
    expect(config.api).toMatchObject({ endpoint: 'https://env.test', appId: 'env-app', accessToken: 'env-token' });
  });

  it('refuses plain http:// unless loopback or allowInsecureHttp', () => {
    const withEndpoint = (endpoint: string, allowInsecureHttp?: boolean) => ({ api: { ...valid.api, endpoint, accessToken: 't', ...(allowInsecureHttp ? { allowInsecureHttp } : {}) } });
    expect(() => parseConfig(withEndpoint('http://api.example.test'), { baseDir: '/x', env: {} })).toThrow(
      /api\.endpoint: plain http:\/\/ to api\.example\.test would send the access token in clear text/,
    );
    expect(parseConfig(withEndpoint('http://127.0.0.1:8080'), { baseDir: '/x', env: {} }).api.endpoint).toBe('http://127.0.0.1:8080');
    expect(parseConfig(withEndpoint('http://localhost:8080'), { baseDir: '/x', env: {} }).api.endpoint).toBe('http://localhost:8080');
    expect(parseConfig(withEndpoint('http://api.example.test', true), { baseDir: '/x', env: {} }).api.endpoint).toBe('http://api.example.test');
  });

  it('needs a urls source to name at least one of urls, listFile or sitemap', () => {
    expect(() => parseConfig({ api: { ...valid.api, accessToken: 't' }, sources: [{ type: 'urls', name: 'web' }] }, { baseDir: '/x', env: {} })).toThrow(
      /sources\[0\]: a urls source needs at least one of "urls", "listFile" or "sitemap"/,
    );
  });
});
