import path from 'node:path';
import { KB_MAX_DOCUMENT_BYTES } from '../api/knowledge-base.js';
import { readAccessTokenFile } from './access-token-file.js';
import type { ParsedConfig, PushAudience } from './schema.js';
import { parseByteSize, parseDuration } from './units.js';

/** Defaults applied by `resolveConfig`. */
export const DEFAULTS = Object.freeze({
  timeoutMs: 20_000,
  maxRetries: 3,
  stateDirName: '.lanying-kb',
  concurrency: 4,
  maxAttempts: 3,
  maxFileSize: KB_MAX_DOCUMENT_BYTES,
  refreshIntervalMs: 3_600_000,
  fetchTimeoutMs: 30_000,
  maxRedirects: 5,
  maxUrlBytes: KB_MAX_DOCUMENT_BYTES,
  debounceMs: 1000,
  reconcileIntervalMs: 3_600_000,
  shutdownTimeoutMs: 30_000,
  httpHost: '127.0.0.1',
});

export interface ResolvedApiConfig {
  endpoint: string;
  appId: string;
  /** The token (from `api.accessToken`, or read from `api.accessTokenFile`). Never log it. */
  accessToken: string;
  /** The absolute path the token was read from, when it came from `api.accessTokenFile`. */
  accessTokenFile?: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  allowInsecureHttp: boolean;
}

export interface ResolvedKnowledgeBase {
  chatbotUserId: number;
  adminUserId: number;
  name: string;
}

interface ResolvedSourceCommon {
  name: string;
  metadata: Record<string, string>;
  chatbotUserId: number | undefined;
  enabled: boolean;
}

export interface ResolvedFolderSource extends ResolvedSourceCommon {
  type: 'folder';
  /** Absolute path. */
  path: string;
  include: string[] | undefined;
  exclude: string[];
  followSymlinks: boolean;
  maxFileSize: number;
  linkBase: string | undefined;
  usePolling: boolean;
}

export interface ResolvedUrlSource extends ResolvedSourceCommon {
  type: 'urls';
  urls: string[];
  /** Absolute path. */
  listFile: string | undefined;
  sitemap: string | undefined;
  refreshIntervalMs: number;
  fetchTimeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
}

export type ResolvedSource = ResolvedFolderSource | ResolvedUrlSource;

export interface ResolvedSyncConfig {
  /** Absolute path. */
  stateDir: string;
  concurrency: number;
  requestsPerSecond: number | undefined;
  maxAttempts: number;
}

export interface ResolvedDaemonConfig {
  debounceMs: number;
  reconcileIntervalMs: number;
  shutdownTimeoutMs: number;
  http: { host: string; port: number } | undefined;
}

export interface ResolvedProvisionUser {
  username: string;
  password: string | undefined;
  userId: number | undefined;
  nickname: string | undefined;
  description: string | undefined;
  friends: string[];
}

export interface ResolvedProvisionGroup {
  name: string;
  owner: string;
  description: string | undefined;
  members: string[];
}

export interface ResolvedNotifyConfig {
  push: { audience: PushAudience; title: string | undefined; body: string } | undefined;
  message: { from: number; users: number[]; groups: number[]; text: string } | undefined;
}

/** A validated configuration with every default applied, units converted and paths made absolute. */
export interface ResolvedConfig {
  /** The file it came from, when it came from a file. */
  filepath: string | undefined;
  /** The folder relative paths were resolved against. */
  baseDir: string;
  api: ResolvedApiConfig;
  knowledgeBase: ResolvedKnowledgeBase | undefined;
  sources: ResolvedSource[];
  sync: ResolvedSyncConfig;
  daemon: ResolvedDaemonConfig;
  provision: { users: ResolvedProvisionUser[]; groups: ResolvedProvisionGroup[] };
  notify: ResolvedNotifyConfig;
}

/** Where the environment puts things, as the CLI reads it (library code never reads the environment). */
export interface ResolveOptions {
  /**
   * The state folder when `sync.stateDir` is not set (the CLI passes systemd's `$STATE_DIRECTORY`).
   * @default `.lanying-kb` beside the configuration file
   */
  defaultStateDir?: string | undefined;
  /**
   * Where a relative `api.accessTokenFile` is looked up (the CLI passes systemd's `$CREDENTIALS_DIRECTORY`).
   * @default the configuration file's folder
   */
  credentialsDirectory?: string | undefined;
}

/**
 * Applies defaults, converts units and resolves paths against `baseDir`; reads `api.accessTokenFile`. The input must
 * be schema-valid. A token file that cannot be read is a `ConfigError` naming it.
 */
export function resolveConfig(parsed: ParsedConfig, baseDir: string, filepath?: string, options: ResolveOptions = {}): ResolvedConfig {
  const abs = (p: string) => path.resolve(baseDir, p);
  const sources: ResolvedSource[] = parsed.sources.map((s) => {
    const common: ResolvedSourceCommon = {
      name: s.name,
      metadata: { ...(s.metadata ?? {}) },
      chatbotUserId: s.chatbotUserId,
      enabled: s.enabled ?? true,
    };
    if (s.type === 'folder') {
      return {
        ...common,
        type: 'folder',
        path: abs(s.path),
        include: s.include,
        exclude: s.exclude ?? [],
        followSymlinks: s.followSymlinks ?? false,
        maxFileSize: s.maxFileSize === undefined ? DEFAULTS.maxFileSize : (parseByteSize(s.maxFileSize) as number),
        linkBase: s.linkBase,
        usePolling: s.usePolling ?? false,
      };
    }
    return {
      ...common,
      type: 'urls',
      urls: s.urls ?? [],
      listFile: s.listFile === undefined ? undefined : abs(s.listFile),
      sitemap: s.sitemap,
      refreshIntervalMs: s.refreshInterval === undefined ? DEFAULTS.refreshIntervalMs : (parseDuration(s.refreshInterval) as number),
      fetchTimeoutMs: s.fetchTimeoutMs ?? DEFAULTS.fetchTimeoutMs,
      maxRedirects: s.maxRedirects ?? DEFAULTS.maxRedirects,
      maxBytes: s.maxBytes === undefined ? DEFAULTS.maxUrlBytes : (parseByteSize(s.maxBytes) as number),
    };
  });

  const daemon = parsed.daemon ?? {};
  const tokenFile = parsed.api.accessTokenFile === undefined ? undefined : path.resolve(options.credentialsDirectory || baseDir, parsed.api.accessTokenFile);
  // The schema makes sure exactly one of the two is set.
  const accessToken = tokenFile === undefined ? (parsed.api.accessToken as string) : readAccessTokenFile(tokenFile, filepath);
  return {
    filepath,
    baseDir,
    api: {
      endpoint: parsed.api.endpoint.replace(/\/+$/, ''),
      appId: parsed.api.appId,
      accessToken,
      accessTokenFile: tokenFile,
      timeoutMs: parsed.api.timeoutMs ?? DEFAULTS.timeoutMs,
      maxRetries: parsed.api.maxRetries ?? DEFAULTS.maxRetries,
      allowInsecureHttp: parsed.api.allowInsecureHttp ?? false,
    },
    knowledgeBase: parsed.knowledgeBase ? { ...parsed.knowledgeBase } : undefined,
    sources,
    sync: {
      stateDir: parsed.sync?.stateDir !== undefined ? abs(parsed.sync.stateDir) : options.defaultStateDir ? path.resolve(baseDir, options.defaultStateDir) : abs(DEFAULTS.stateDirName),
      concurrency: parsed.sync?.concurrency ?? DEFAULTS.concurrency,
      requestsPerSecond: parsed.sync?.requestsPerSecond,
      maxAttempts: parsed.sync?.maxAttempts ?? DEFAULTS.maxAttempts,
    },
    daemon: {
      debounceMs: daemon.debounceMs ?? DEFAULTS.debounceMs,
      reconcileIntervalMs: daemon.reconcileInterval === undefined ? DEFAULTS.reconcileIntervalMs : (parseDuration(daemon.reconcileInterval) as number),
      shutdownTimeoutMs: daemon.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
      http: daemon.http ? { host: daemon.http.host ?? DEFAULTS.httpHost, port: daemon.http.port } : undefined,
    },
    provision: {
      users: (parsed.provision?.users ?? []).map((u) => ({
        username: u.username,
        password: u.password,
        userId: u.userId,
        nickname: u.nickname,
        description: u.description,
        friends: u.friends ?? [],
      })),
      groups: (parsed.provision?.groups ?? []).map((g) => ({
        name: g.name,
        owner: g.owner,
        description: g.description,
        members: g.members ?? [],
      })),
    },
    notify: {
      push: parsed.notify?.push
        ? { audience: parsed.notify.push.audience, title: parsed.notify.push.title, body: parsed.notify.push.body }
        : undefined,
      message: parsed.notify?.message
        ? {
            from: parsed.notify.message.from,
            users: parsed.notify.message.users ?? [],
            groups: parsed.notify.message.groups ?? [],
            text: parsed.notify.message.text,
          }
        : undefined,
    },
  };
}
