import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { interpolateEnv } from './interpolate.js';
import { formatKeyPath } from './key-path.js';
import { type ResolvedConfig, resolveConfig } from './resolve.js';
import { configSchema } from './schema.js';

export const MODULE_NAME = 'lanying-kb';

/** Where `loadConfig` looks, in each folder from the start folder upward; the first that exists wins. */
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

/** Limits of what the loader reads: a configuration is small; anything bigger is an accident or an attack. */
export const CONFIG_LIMITS = Object.freeze({
  /** The largest configuration file read, in bytes. */
  maxBytes: 1024 * 1024,
  /** The most YAML aliases resolved (an alias bomb expands exponentially). */
  maxYamlAliases: 100,
  /** The deepest nesting of objects and arrays. */
  maxDepth: 64,
});

/** Configuration files that are programs: run only when named with `--config`, never when found by the search. */
const EXECUTABLE = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

/** Environment variables that override the `api` section. */
export const ENV_OVERRIDES = {
  LANYING_ENDPOINT: 'endpoint',
  LANYING_APP_ID: 'appId',
  LANYING_ACCESS_TOKEN: 'accessToken',
} as const;

export interface LoadConfigOptions {
  /** A config file to load instead of searching. Relative paths are resolved from `cwd`. */
  file?: string | undefined;
  /** The folder the search starts from (upward), and the base of a relative `file`. Required unless `file` is absolute. */
  cwd?: string | undefined;
  /** Variables for `${NAME}` interpolation and the `LANYING_*` overrides. Default: none. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The search stops at this folder (after looking in it). @default os.homedir() */
  homeDir?: string | undefined;
}

export interface ParseConfigOptions {
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
 * Without `file`, the search looks in `cwd` and each folder above it for the names in {@link SEARCH_PLACES}, and
 * stops after the home folder, a repository root (a folder holding `.git`) or the file-system root. A file it finds
 * must belong to the current user (or root) and not be writable by everyone; a JavaScript or TypeScript config it
 * finds is never run: only one named with `file` (`--config`) is.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  let filepath: string;
  let discovered = false;
  if (options.file !== undefined) {
    if (!path.isAbsolute(options.file) && options.cwd === undefined) {
      throw new ConfigError(options.file, 'a relative config path needs a cwd to resolve against');
    }
    filepath = path.resolve(options.cwd ?? '/', options.file);
  } else {
    if (options.cwd === undefined) throw new ConfigError(undefined, 'no config file given and no folder to search from');
    const found = await searchConfig(path.resolve(options.cwd), path.resolve(options.homeDir ?? os.homedir()));
    if (found === undefined) {
      throw new ConfigError(
        undefined,
        `no configuration found in ${options.cwd} or any folder above it up to the home folder or repository root (looked for ${MODULE_NAME}.config.json, .yaml, ` +
          `.${MODULE_NAME}rc*, or a "${MODULE_NAME}" key in package.json); pass --config FILE or create one from ${MODULE_NAME}.config.example.json`,
      );
    }
    filepath = found.filepath;
    discovered = true;
    refuseUntrusted(filepath, found.stats);
  }

  const raw = await readConfigFile(filepath, discovered);
  if (raw === undefined || raw === null) throw new ConfigError(filepath, 'the file is empty');
  return parseConfig(raw, { baseDir: path.dirname(filepath), filepath, env: options.env });
}

/** The first configuration file in `start` or a folder above it, up to `home`, a repository root or `/`. */
async function searchConfig(start: string, home: string): Promise<{ filepath: string; stats: Stats } | undefined> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    for (const name of SEARCH_PLACES) {
      const filepath = path.join(dir, name);
      const stats = await statOrUndefined(filepath);
      if (!stats?.isFile()) continue;
      if (name === 'package.json' && !(await packageJsonHasKey(filepath))) continue;
      return { filepath, stats };
    }
    const parent = path.dirname(dir);
    if (dir === home || parent === dir || (await statOrUndefined(path.join(dir, '.git'))) !== undefined) return undefined;
  }
}

async function statOrUndefined(filepath: string): Promise<Stats | undefined> {
  try {
    return await stat(filepath);
  } catch {
    return undefined;
  }
}

/** A package.json counts only when it has a "lanying-kb" key; one that cannot be read or parsed is not ours. */
async function packageJsonHasKey(filepath: string): Promise<boolean> {
  try {
    const parsed = JSON.parse(await readBounded(filepath)) as unknown;
    return parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, MODULE_NAME);
  } catch {
    return false;
  }
}

/**
 * A file found by the search (not named by the user) must be the user's (or root's) and not writable by everyone:
 * otherwise anyone who can write a parent folder, such as /tmp, could choose the endpoint the token is sent to.
 */
function refuseUntrusted(filepath: string, stats: Stats): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  if (stats.uid !== uid && stats.uid !== 0) {
    throw new ConfigError(filepath, `found by the search but owned by another user (uid ${stats.uid}); name it with --config to use it`);
  }
  if ((stats.mode & 0o002) !== 0) {
    throw new ConfigError(filepath, 'found by the search but writable by every user; fix its permissions (chmod o-w) or name it with --config');
  }
}

/** Reads and parses one configuration file by its name; returns the raw configuration (undefined when empty). */
async function readConfigFile(filepath: string, discovered: boolean): Promise<unknown> {
  const ext = path.extname(filepath).toLowerCase();
  if (EXECUTABLE.has(ext)) {
    if (discovered) {
      throw new ConfigError(filepath, `a ${ext} configuration found by the search is not run (it is a program); name it with --config ${filepath} to use it`);
    }
    if (!(await statOrUndefined(filepath))) throw new ConfigError(filepath, 'file not found');
    try {
      return await freshImport(filepath);
    } catch (error) {
      const hint = /^\.[mc]?ts$/.test(ext) && (error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION' ? ' (this Node.js cannot load TypeScript; use .json, .yaml or .js)' : '';
      throw new ConfigError(filepath, `cannot be read: ${firstLine(error)}${hint}`, { cause: error });
    }
  }

  let text: string;
  try {
    text = await readBounded(filepath);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(filepath, 'file not found');
    throw new ConfigError(filepath, `cannot be read: ${code ?? firstLine(error)}`, { cause: error });
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.trim() === '') return undefined;

  let parsed: unknown;
  try {
    const asJson = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'));
    // Note: the YAML parser is loaded only for YAML files; most configurations are JSON.
    parsed = asJson ? JSON.parse(text) : (await import('yaml')).parse(text, { maxAliasCount: CONFIG_LIMITS.maxYamlAliases, uniqueKeys: true, logLevel: 'error' });
  } catch (error) {
    const detail = /alias count/i.test(firstLine(error)) ? `more than ${CONFIG_LIMITS.maxYamlAliases} YAML alias expansions (an alias bomb?)` : firstLine(error);
    throw new ConfigError(filepath, `cannot be read: ${detail}`, { cause: error });
  }
  if (path.basename(filepath) === 'package.json') {
    const own = parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, MODULE_NAME) ? (parsed as Record<string, unknown>)[MODULE_NAME] : undefined;
    if (own === undefined) throw new ConfigError(filepath, `has no "${MODULE_NAME}" key`);
    return own;
  }
  return parsed;
}

/** The file's text; a ConfigError when it is larger than {@link CONFIG_LIMITS}.maxBytes (nothing more is read). */
async function readBounded(filepath: string): Promise<string> {
  const handle = await open(filepath, 'r');
  try {
    const info = await handle.stat();
    const limit = CONFIG_LIMITS.maxBytes;
    if (info.isFile() && info.size > limit) throw new ConfigError(filepath, `is ${info.size} bytes; a configuration file may have at most ${limit}`);
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > limit) throw new ConfigError(filepath, `is over ${limit} bytes; a configuration file may have at most ${limit}`);
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
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
  return resolveConfig(parsed.data, options.baseDir, options.filepath);
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

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[0] ?? 'unknown error';
}

/** Loads a JS config without Node's module cache, so that a reload sees an edited file. */
async function freshImport(filepath: string): Promise<unknown> {
  const mod = (await import(`${pathToFileURL(filepath).href}?mtime=${Date.now()}`)) as { default?: unknown };
  return mod.default ?? mod;
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
