import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULTS, resolveConfig } from '../../src/config/resolve.js';
import type { ParsedConfig } from '../../src/config/schema.js';
import { KB_MAX_DOCUMENT_BYTES } from '../../src/protocol/kb-files.js';
import { URL_SOURCE_DEFAULTS } from '../../src/sources/urls/config.js';
import { tmpDir, writeFile } from '../helpers/tmp-dir.js';

const API = { endpoint: 'https://s-1-3-api.maximtop.cn', appId: 'app', accessToken: 'token-1234567890' };
const parse = (raw: Record<string, unknown>, options: { defaultStateDir?: string; credentialsDirectory?: string } = {}) =>
  parseConfig({ api: API, ...raw }, { baseDir: '/srv/kb', filepath: '/srv/kb/lanying-kb.config.json', env: {}, ...options });

/** The `sync` section with every default. */
const SYNC_DEFAULTS = {
  stateDir: '/srv/kb/.lanying-kb',
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
};

describe('resolveConfig: defaults, units and paths', () => {
  it('fills every default of a minimal configuration', () => {
    expect(parse({})).toEqual({
      filepath: '/srv/kb/lanying-kb.config.json',
      baseDir: '/srv/kb',
      api: { ...API, accessTokenFile: undefined, timeoutMs: 20_000, maxRetries: 3, allowInsecureHttp: false },
      knowledgeBase: undefined,
      sources: [],
      sync: SYNC_DEFAULTS,
      daemon: { debounceMs: 1000, reconcileIntervalMs: 3_600_000, shutdownTimeoutMs: 30_000, http: undefined },
      provision: { users: [], groups: [] },
      notify: { push: undefined, message: undefined },
    });
    expect(DEFAULTS).toMatchObject({
      timeoutMs: 20_000,
      maxRetries: 3,
      concurrency: 4,
      maxAttempts: 3,
      deleteAfterMs: 3_600_000,
      maxDeleteCount: 1000,
      maxDeletePercent: 50,
      confirmTimeoutMs: 600_000,
      confirmPollIntervalMs: 2000,
      commandTimeoutMs: 30_000,
      maxIngestAttempts: 3,
      ingestRetryDelayMs: 300_000,
      debounceMs: 1000,
      reconcileIntervalMs: 3_600_000,
      shutdownTimeoutMs: 30_000,
      httpHost: '127.0.0.1',
    });
  });

  it('takes every value given, converting units and resolving paths', () => {
    const config = parse({
      api: { ...API, endpoint: 'https://api.example//', timeoutMs: 5000, maxRetries: 0, allowInsecureHttp: true },
      knowledgeBase: { chatbotUserId: 11, adminUserId: 12, name: 'kb' },
      sync: {
        stateDir: 'state',
        concurrency: 2,
        requestsPerSecond: 5,
        maxAttempts: 1,
        onChange: 'append',
        onRemove: 'keep',
        deleteAfter: '2h',
        maxDelete: { count: 10, percent: 5 },
        confirmTimeout: '1m',
        confirmPollInterval: '500ms',
        commandTimeout: '10s',
        maxIngestAttempts: 5,
        ingestRetryDelay: '1m',
        maxSendsPerRun: 100,
      },
      daemon: { debounceMs: 50, reconcileInterval: '1h30m', shutdownTimeoutMs: 100, http: { port: 9000, host: '0.0.0.0', token: 'secret-token-xyz', allowedHosts: ['kb.example'] } },
    });
    expect(config.api).toEqual({ ...API, endpoint: 'https://api.example', accessTokenFile: undefined, timeoutMs: 5000, maxRetries: 0, allowInsecureHttp: true });
    expect(config.knowledgeBase).toEqual({ chatbotUserId: 11, adminUserId: 12, name: 'kb' });
    expect(config.sync).toEqual({
      stateDir: '/srv/kb/state',
      concurrency: 2,
      requestsPerSecond: 5,
      maxAttempts: 1,
      onChange: 'append',
      onRemove: 'keep',
      deleteAfterMs: 7_200_000,
      maxDelete: { count: 10, percent: 5 },
      confirmTimeoutMs: 60_000,
      confirmPollIntervalMs: 500,
      commandTimeoutMs: 10_000,
      maxIngestAttempts: 5,
      ingestRetryDelayMs: 60_000,
      maxSendsPerRun: 100,
    });
    expect(config.daemon).toEqual({ debounceMs: 50, reconcileIntervalMs: 5_400_000, shutdownTimeoutMs: 100, http: { host: '0.0.0.0', port: 9000, token: 'secret-token-xyz', allowedHosts: ['kb.example'] } });
  });

  const durations: [string | number, number][] = [
    ['30s', 30_000],
    ['15m', 900_000],
    ['2d', 172_800_000],
    ['0', 0],
    [60_000, 60_000],
  ];
  for (const [written, ms] of durations) {
    it(`daemon.reconcileInterval ${JSON.stringify(written)} → ${ms} ms`, () => {
      expect(parse({ daemon: { reconcileInterval: written } }).daemon.reconcileIntervalMs).toBe(ms);
    });
  }

  it('an absolute stateDir stays as it is', () => {
    expect(parse({ sync: { stateDir: '/var/lib/lanying-kb' } }).sync.stateDir).toBe('/var/lib/lanying-kb');
  });

  it('the state folder: sync.stateDir first, then the default the CLI passes ($STATE_DIRECTORY), then beside the file', () => {
    expect(parse({ sync: { stateDir: 'mine' } }, { defaultStateDir: '/var/lib/lanying-kb' }).sync.stateDir).toBe('/srv/kb/mine');
    expect(parse({}, { defaultStateDir: '/var/lib/lanying-kb' }).sync.stateDir).toBe('/var/lib/lanying-kb');
    expect(parse({}, { defaultStateDir: 'relative' }).sync.stateDir).toBe('/srv/kb/relative');
    expect(parse({}, { defaultStateDir: '' }).sync.stateDir).toBe('/srv/kb/.lanying-kb');
  });

  it('maxDelete: each bound defaults on its own', () => {
    expect(parse({ sync: { maxDelete: { count: 5 } } }).sync.maxDelete).toEqual({ count: 5, percent: 50 });
    expect(parse({ sync: { maxDelete: { percent: 10 } } }).sync.maxDelete).toEqual({ count: 1000, percent: 10 });
  });

  it('api.accessTokenFile: read from beside the config file, from the credentials folder the CLI passes, or as given', () => {
    const dir = tmpDir();
    writeFile(dir, 'conf/kb.token', 'token-from-conf\n');
    writeFile(dir, 'creds/kb.token', '  token-from-creds  ');
    const api = { endpoint: API.endpoint, appId: 'app', accessTokenFile: 'kb.token' };
    const base = { baseDir: path.join(dir, 'conf'), env: {} };
    expect(parseConfig({ api }, base).api).toMatchObject({ accessToken: 'token-from-conf', accessTokenFile: path.join(dir, 'conf/kb.token') });
    expect(parseConfig({ api }, { ...base, credentialsDirectory: path.join(dir, 'creds') }).api).toMatchObject({ accessToken: 'token-from-creds', accessTokenFile: path.join(dir, 'creds/kb.token') });
    expect(parseConfig({ api }, { ...base, credentialsDirectory: '' }).api.accessToken).toBe('token-from-conf');
    expect(parseConfig({ api: { ...api, accessTokenFile: path.join(dir, 'creds/kb.token') } }, base).api.accessToken).toBe('token-from-creds');
  });

  it('the ops server: loopback and no allowed hosts by default', () => {
    expect(parse({ daemon: { http: { port: 0 } } }).daemon.http).toEqual({ host: '127.0.0.1', port: 0, token: undefined, allowedHosts: [] });
  });

  it('provision: users and groups with their lists defaulted to empty', () => {
    const config = parse({
      provision: {
        users: [{ username: 'alice', password: 'pw-123456', nickname: 'Alice' }, { username: 'bob', userId: 7, description: 'ops', friends: ['alice'] }],
        groups: [{ name: 'team', owner: 'alice' }, { name: 'ops', owner: 'bob', description: 'd', members: ['alice'] }],
      },
    });
    expect(config.provision).toEqual({
      users: [
        { username: 'alice', password: 'pw-123456', userId: undefined, nickname: 'Alice', description: undefined, friends: [] },
        { username: 'bob', password: undefined, userId: 7, nickname: undefined, description: 'ops', friends: ['alice'] },
      ],
      groups: [
        { name: 'team', owner: 'alice', description: undefined, members: [] },
        { name: 'ops', owner: 'bob', description: 'd', members: ['alice'] },
      ],
    });
  });

  it('notify: a push and a message with their lists defaulted to empty', () => {
    const push = parse({ notify: { push: { audience: 'all', body: '{kb} updated' } } }).notify;
    expect(push).toEqual({ push: { audience: 'all', title: undefined, body: '{kb} updated' }, message: undefined });
    const message = parse({ notify: { message: { from: 1, users: [2], text: 'hi' } } }).notify;
    expect(message).toEqual({ push: undefined, message: { from: 1, users: [2], groups: [], text: 'hi' } });
    expect(parse({ notify: { message: { from: 1, groups: [3], text: 'hi' }, push: { audience: 'all', title: 't', body: 'b' } } }).notify).toEqual({
      push: { audience: 'all', title: 't', body: 'b' },
      message: { from: 1, users: [], groups: [3], text: 'hi' },
    });
  });

  it('copies what it takes: changing the resolved configuration leaves the parsed one alone', () => {
    const parsed = { api: API, knowledgeBase: { chatbotUserId: 1, adminUserId: 2, name: 'kb' }, sources: [{ type: 'folder', name: 'docs', path: 'docs', metadata: { team: 'a' } }] } as unknown as ParsedConfig;
    const config = resolveConfig(parsed, '/srv');
    (config.knowledgeBase as { name: string }).name = 'changed';
    (config.sources[0]?.metadata as Record<string, string>).team = 'b';
    expect(parsed.knowledgeBase?.name).toBe('kb');
    expect((parsed.sources[0] as { metadata: Record<string, string> }).metadata.team).toBe('a');
    expect(config.filepath).toBeUndefined();
  });

  it('refuses a source type no adapter knows (the schema lets none through)', () => {
    const parsed = { api: API, sources: [{ type: 'ftp', name: 'x' }] } as unknown as ParsedConfig;
    expect(() => resolveConfig(parsed, '/srv')).toThrow('resolveConfig: no source type "ftp"');
  });
});

describe('source configuration: defaults per type', () => {
  it('a folder source', () => {
    const [source] = parse({ sources: [{ type: 'folder', name: 'docs', path: 'handbook' }] }).sources;
    expect(source).toEqual({
      type: 'folder',
      name: 'docs',
      metadata: {},
      chatbotUserId: undefined,
      enabled: true,
      path: '/srv/kb/handbook',
      include: undefined,
      exclude: [],
      followSymlinks: false,
      maxFileSize: KB_MAX_DOCUMENT_BYTES,
      linkBase: undefined,
      usePolling: false,
    });
  });

  it('a folder source with every value', () => {
    const [source] = parse({
      sources: [
        {
          type: 'folder',
          name: 'docs',
          path: '/data/docs',
          metadata: { team: 'support' },
          chatbotUserId: 42,
          enabled: false,
          include: ['**/*.md'],
          exclude: ['drafts/**'],
          followSymlinks: true,
          maxFileSize: '2MiB',
          linkBase: 'https://docs.example/kb',
          usePolling: true,
        },
      ],
    }).sources;
    expect(source).toEqual({
      type: 'folder',
      name: 'docs',
      metadata: { team: 'support' },
      chatbotUserId: 42,
      enabled: false,
      path: '/data/docs',
      include: ['**/*.md'],
      exclude: ['drafts/**'],
      followSymlinks: true,
      maxFileSize: 2 * 1024 * 1024,
      linkBase: 'https://docs.example/kb',
      usePolling: true,
    });
  });

  it('a URL source', () => {
    const [source] = parse({ sources: [{ type: 'urls', name: 'site', urls: ['https://example.com/a'] }] }).sources;
    expect(source).toEqual({
      type: 'urls',
      name: 'site',
      metadata: {},
      chatbotUserId: undefined,
      enabled: true,
      urls: ['https://example.com/a'],
      listFile: undefined,
      sitemap: undefined,
      refreshIntervalMs: URL_SOURCE_DEFAULTS.refreshIntervalMs,
      fetchTimeoutMs: URL_SOURCE_DEFAULTS.fetchTimeoutMs,
      maxRedirects: URL_SOURCE_DEFAULTS.maxRedirects,
      maxBytes: URL_SOURCE_DEFAULTS.maxBytes,
      allowPrivateAddresses: false,
    });
    expect(URL_SOURCE_DEFAULTS).toEqual({ refreshIntervalMs: 3_600_000, fetchTimeoutMs: 30_000, maxRedirects: 5, maxBytes: KB_MAX_DOCUMENT_BYTES });
  });

  it('a URL source with every value', () => {
    const [source] = parse({
      sources: [
        {
          type: 'urls',
          name: 'site',
          sitemap: 'https://example.com/sitemap.xml',
          listFile: 'urls.txt',
          refreshInterval: '10m',
          fetchTimeoutMs: 5000,
          maxRedirects: 0,
          maxBytes: '1MB',
          allowPrivateAddresses: true,
          enabled: false,
        },
      ],
    }).sources;
    expect(source).toMatchObject({
      urls: [],
      listFile: '/srv/kb/urls.txt',
      sitemap: 'https://example.com/sitemap.xml',
      refreshIntervalMs: 600_000,
      fetchTimeoutMs: 5000,
      maxRedirects: 0,
      maxBytes: 1_000_000,
      allowPrivateAddresses: true,
      enabled: false,
    });
  });
});
