import path from 'node:path';
import type { ResolvedFolderSource } from '../sources/folder/config.js';
import { adapterFor, type ResolvedSource } from '../sources/registry.js';
import type { ResolvedUrlSource } from '../sources/urls/config.js';
import { parseDuration } from '../util/units.js';
import { readAccessTokenFile } from './access-token-file.js';
import type { ParsedConfig, PushAudience } from './schema.js';

export type { ResolvedFolderSource, ResolvedSource, ResolvedUrlSource };

/** Defaults applied by `resolveConfig`. */
export const DEFAULTS = Object.freeze({
  timeoutMs: 20_000,
  maxRetries: 3,
  stateDirName: '.lanying-kb',
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

export interface ResolvedSyncConfig {
  /** Absolute path. */
  stateDir: string;
  concurrency: number;
  requestsPerSecond: number | undefined;
  maxAttempts: number;
  onChange: 'replace' | 'append';
  onRemove: 'delete' | 'keep';
  deleteAfterMs: number;
  maxDelete: { count: number; percent: number };
  confirmTimeoutMs: number;
  confirmPollIntervalMs: number;
  commandTimeoutMs: number;
  maxIngestAttempts: number;
  ingestRetryDelayMs: number;
  maxSendsPerRun: number | undefined;
}

export interface ResolvedDaemonConfig {
  debounceMs: number;
  reconcileIntervalMs: number;
  shutdownTimeoutMs: number;
  http: ResolvedOpsHttpConfig | undefined;
}

/** `daemon.http`: the ops server. */
export interface ResolvedOpsHttpConfig {
  host: string;
  port: number;
  /** The bearer token `/status` and `/metrics` require, when set. A secret: never logged. */
  token: string | undefined;
  /** Host names a request's Host header may name, besides loopback names, IP addresses and `host`. */
  allowedHosts: string[];
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

function durationOr(value: number | string | undefined, fallback: number): number {
  return value === undefined ? fallback : (parseDuration(value) as number);
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
  const sources = parsed.sources.map((input) => {
    const adapter = adapterFor(input.type);
    if (!adapter) throw new Error(`resolveConfig: no source type "${input.type}"`);
    return adapter.resolve(input, { baseDir }) as ResolvedSource;
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
      onChange: parsed.sync?.onChange ?? 'replace',
      onRemove: parsed.sync?.onRemove ?? 'delete',
      deleteAfterMs: durationOr(parsed.sync?.deleteAfter, DEFAULTS.deleteAfterMs),
      maxDelete: { count: parsed.sync?.maxDelete?.count ?? DEFAULTS.maxDeleteCount, percent: parsed.sync?.maxDelete?.percent ?? DEFAULTS.maxDeletePercent },
      confirmTimeoutMs: durationOr(parsed.sync?.confirmTimeout, DEFAULTS.confirmTimeoutMs),
      confirmPollIntervalMs: durationOr(parsed.sync?.confirmPollInterval, DEFAULTS.confirmPollIntervalMs),
      commandTimeoutMs: durationOr(parsed.sync?.commandTimeout, DEFAULTS.commandTimeoutMs),
      maxIngestAttempts: parsed.sync?.maxIngestAttempts ?? DEFAULTS.maxIngestAttempts,
      ingestRetryDelayMs: durationOr(parsed.sync?.ingestRetryDelay, DEFAULTS.ingestRetryDelayMs),
      maxSendsPerRun: parsed.sync?.maxSendsPerRun,
    },
    daemon: {
      debounceMs: daemon.debounceMs ?? DEFAULTS.debounceMs,
      reconcileIntervalMs: daemon.reconcileInterval === undefined ? DEFAULTS.reconcileIntervalMs : (parseDuration(daemon.reconcileInterval) as number),
      shutdownTimeoutMs: daemon.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
      http: daemon.http
        ? { host: daemon.http.host ?? DEFAULTS.httpHost, port: daemon.http.port, token: daemon.http.token, allowedHosts: daemon.http.allowedHosts ?? [] }
        : undefined,
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
