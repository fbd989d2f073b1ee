import os from 'node:os';
import path from 'node:path';
import type { CosmiconfigResult } from 'cosmiconfig';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { CONFIG_LIMITS, loadConfigFile, MODULE_NAME, searchConfigFile } from './config-files.js';
import { interpolateEnv } from './interpolate.js';
import { formatKeyPath } from './key-path.js';
import { type ResolveOptions, type ResolvedConfig, resolveConfig } from './resolve.js';
import { configSchema } from './schema.js';

export { CONFIG_LIMITS } from './config-files.js';

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
  /** The search stops at this folder (after looking in it). @default os.homedir() */
  homeDir?: string | undefined;
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
 *
 * Without `file`, the search (cosmiconfig) looks in `cwd` and each folder above it for the names in `SEARCH_PLACES`
 * (config-files.ts), and stops after the home folder, a repository root (a folder holding `.git`) or the file-system
 * root. A file it finds must belong to the current user (or root) and not be writable by everyone; a JavaScript or
 * TypeScript config it finds is never run: only one named with `file` (`--config`) is. Nothing is cached: each call
 * reads the file again.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  let result: CosmiconfigResult;
  if (options.file !== undefined) {
    if (!path.isAbsolute(options.file) && options.cwd === undefined) {
      throw new ConfigError(options.file, 'a relative config path needs a cwd to resolve against');
    }
    const filepath = path.resolve(options.cwd ?? '/', options.file);
    result = await loadConfigFile(filepath);
    if (result === null) throw new ConfigError(filepath, `has no "${MODULE_NAME}" key`);
  } else {
    if (options.cwd === undefined) throw new ConfigError(undefined, 'no config file given and no folder to search from');
    result = await searchConfigFile(path.resolve(options.cwd), path.resolve(options.homeDir ?? os.homedir()));
    if (result === null) {
      throw new ConfigError(
        undefined,
        `no configuration found in ${options.cwd} or any folder above it up to the home folder or repository root (looked for ${MODULE_NAME}.config.json, .yaml, ` +
          `.${MODULE_NAME}rc*, or a "${MODULE_NAME}" key in package.json); pass --config FILE or create one from ${MODULE_NAME}.config.example.json`,
      );
    }
  }
  const { filepath, config: raw } = result;
  if (result.isEmpty === true || raw === undefined || raw === null) throw new ConfigError(filepath, 'the file is empty');
  return parseConfig(raw, {
    baseDir: path.dirname(filepath),
    filepath,
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
  if (nestingDeeperThan(raw, CONFIG_LIMITS.maxDepth)) {
    throw new ConfigError(options.filepath, `objects and arrays are nested more than ${CONFIG_LIMITS.maxDepth} levels deep`);
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
  // The alternatives of the right type say what is wrong with the value; the others only that the type differs.
  const typed = issue.errors.filter((branch) => !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0));
  const messages = (typed.length > 0 ? typed : issue.errors).flat().map((e) => e.message.replace(/^Invalid input: /, ''));
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

/** Whether `value` nests objects and arrays deeper than `limit` (checked without recursion). */
function nestingDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth > limit) return true;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}
