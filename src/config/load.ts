import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { interpolateEnv } from './interpolate.js';
import { formatKeyPath } from './key-path.js';
import { type ResolveOptions, type ResolvedConfig, resolveConfig } from './resolve.js';
import { configSchema } from './schema.js';

export const MODULE_NAME = 'lanying-kb';

/** Where `loadConfig` looks, in each folder from the start folder upward. */
export const SEARCH_PLACES = [
  'package.json',
  `${MODULE_NAME}.config.json`,
  `${MODULE_NAME}.config.yaml`,
  `${MODULE_NAME}.config.yml`,
  `${MODULE_NAME}.config.js`,
  `${MODULE_NAME}.config.mjs`,
  `${MODULE_NAME}.config.cjs`,
  `.${MODULE_NAME}rc`,
  `.${MODULE_NAME}rc.json`,
  `.${MODULE_NAME}rc.yaml`,
  `.${MODULE_NAME}rc.yml`,
  `.${MODULE_NAME}rc.js`,
  `.${MODULE_NAME}rc.mjs`,
  `.${MODULE_NAME}rc.cjs`,
];

/** Environment variables that override the `api` section. */
export const ENV_OVERRIDES = {
  LANYING_ENDPOINT: 'endpoint',
  LANYING_APP_ID: 'appId',
  LANYING_ACCESS_TOKEN: 'accessToken',
} as const;

export interface LoadConfigOptions extends ResolveOptions {
  /** A config file to load instead of searching. Relative paths are resolved from `cwd`. */
  file?: string | undefined;
  /** The folder the search starts from (upward), and the base of a relative `file`. Required unless `file` is absolute. */
  cwd?: string | undefined;
  /** Variables for `${NAME}` interpolation and the `LANYING_*` overrides. Default: none. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface ParseConfigOptions extends ResolveOptions {
  /** Folder that relative paths in the config are resolved from. */
  baseDir: string;
  /** Named in error messages. */
  filepath?: string | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * Finds, reads, validates and resolves the configuration. Every problem is reported at once in one `ConfigError`
 * naming the file and each key path.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'global',
    cache: false,
    loaders: { '.js': freshImport, '.mjs': freshImport, '.cjs': freshImport, noExt: defaultLoaders['.json'] },
  });

  let result: Awaited<ReturnType<typeof explorer.search>>;
  let filepath: string | undefined;
  try {
    if (options.file !== undefined) {
      if (!path.isAbsolute(options.file) && options.cwd === undefined) {
        throw new ConfigError(options.file, 'a relative config path needs a cwd to resolve against');
      }
      filepath = path.resolve(options.cwd ?? '/', options.file);
      if (!existsSync(filepath)) throw new ConfigError(filepath, 'file not found');
      result = await explorer.load(filepath);
    } else {
      if (options.cwd === undefined) throw new ConfigError(undefined, 'no config file given and no folder to search from');
      result = await explorer.search(options.cwd);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(filepath ?? describeFailedFile(error), `cannot be read: ${firstLine(error)}`, { cause: error });
  }

  if (!result) {
    throw new ConfigError(
      undefined,
      `no configuration found in ${options.cwd} or any folder above it (looked for ${MODULE_NAME}.config.json, .yaml, .js, ` +
        `.${MODULE_NAME}rc*, or a "${MODULE_NAME}" key in package.json); pass --config FILE or create one from ${MODULE_NAME}.config.example.json`,
    );
  }
  if (result.isEmpty || result.config === undefined || result.config === null) {
    throw new ConfigError(result.filepath, 'the file is empty');
  }
  return parseConfig(result.config, {
    baseDir: path.dirname(result.filepath),
    filepath: result.filepath,
    env: options.env,
    defaultStateDir: options.defaultStateDir,
    credentialsDirectory: options.credentialsDirectory,
  });
}

/** Validates and resolves a configuration object (already parsed from JSON or YAML, or built in code). */
export function parseConfig(raw: unknown, options: ParseConfigOptions): ResolvedConfig {
  const env = options.env ?? {};
  const problems: ConfigProblem[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(options.filepath, 'the configuration must be an object');
  }

  const interpolated = interpolateEnv(raw, env, problems) as Record<string, unknown>;
  const withOverrides = applyEnvOverrides(interpolated, env);
  const parsed = configSchema.safeParse(withOverrides);
  if (!parsed.success) problems.push(...zodProblems(parsed.error));
  else problems.push(...endpointProblems(parsed.data.api.endpoint, parsed.data.api.allowInsecureHttp ?? false));
  problems.push(...duplicateSourceNames(withOverrides.sources));

  if (problems.length > 0 || !parsed.success) throw new ConfigError(options.filepath, dedupe(problems));
  return resolveConfig(parsed.data, options.baseDir, options.filepath, options);
}

function applyEnvOverrides(config: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const entries = Object.entries(ENV_OVERRIDES).filter(([name]) => env[name]);
  if (entries.length === 0) return config;
  const api = typeof config.api === 'object' && config.api !== null ? { ...(config.api as Record<string, unknown>) } : {};
  for (const [name, key] of entries) api[key] = env[name];
  return { ...config, api };
}

// Checked on the raw list, so that a duplicate is reported even when other problems stop the schema early.
function duplicateSourceNames(sources: unknown): ConfigProblem[] {
  if (!Array.isArray(sources)) return [];
  const first = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  sources.forEach((source: unknown, i) => {
    const name = (source as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, i);
    else problems.push({ path: `sources[${i}].name`, message: `duplicate source name "${name}" (also sources[${earlier}])` });
  });
  return problems;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function endpointProblems(endpoint: string, allowInsecureHttp: boolean): ConfigProblem[] {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' || allowInsecureHttp) return [];
  if (LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)) return [];
  return [
    {
      path: 'api.endpoint',
      message: `plain http:// to ${url.hostname} would send the access token in clear text; use https:// or set api.allowInsecureHttp to true`,
    },
  ];
}

function zodProblems(error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const where = formatKeyPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatKeyPath([...issue.path, key]), message: 'unknown key' });
    } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      problems.push({ path: where, message: `required (${issue.expected})` });
    } else if (issue.code === 'invalid_union' && 'discriminator' in issue && 'options' in issue) {
      const options = (issue.options as unknown[]).map((o) => JSON.stringify(o)).join(' or ');
      problems.push({ path: where, message: `must be ${options}` });
    } else if (issue.code === 'invalid_union') {
      problems.push({ path: where, message: describeUnion(issue) });
    } else {
      problems.push({ path: where, message: lowerFirst(issue.message.replace(/^Invalid input: /, '')) });
    }
  }
  return problems;
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion): string {
  const messages = issue.errors.flat().map((e) => e.message.replace(/^Invalid input: /, ''));
  const unique = [...new Set(messages)];
  return unique.length > 0 ? `invalid value: ${unique.join('; or ')}` : 'invalid value';
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  // cosmiconfig prefixes parse errors with "JSON Error in <file>:" / "YAML Error in <file>:"; keep the detail.
  const detail = lines.find((l) => !/^(JSON|YAML) Error in /.test(l)) ?? lines[0] ?? 'unknown error';
  return detail;
}

function describeFailedFile(error: unknown): string | undefined {
  const text = error instanceof Error ? error.message : '';
  return /Error in (.+?):/.exec(text)?.[1];
}

/** Loads a JS config without Node's module cache, so that a reload sees an edited file. */
const freshImport: Loader = async (filepath) => {
  const mod = (await import(`${pathToFileURL(filepath).href}?mtime=${Date.now()}`)) as { default?: unknown };
  return mod.default ?? mod;
};
