import type { Stats } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CosmiconfigResult, Loader, Loaders, Options, PublicExplorer } from 'cosmiconfig';
import { ConfigError } from '../errors.js';
import { commonJsExports } from '../util/commonjs-exports.js';

// Finding and reading configuration files. cosmiconfig does the looking in each folder, the reading, the choice of
// a loader by extension, the "lanying-kb" key of package.json and the empty-file result; the code here adds only
// what cosmiconfig cannot do safely, each piece with its reason.

export const MODULE_NAME = 'lanying-kb';

/** Where the search looks, in each folder from the start folder upward; the first that exists wins. */
export const SEARCH_PLACES: readonly string[] = [
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
const PROGRAM_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** The options of cosmiconfig's Explorer, as its `cosmiconfig()` factory completes them. */
interface ExplorerOptions extends Options {
  moduleName: string;
  metaConfigFilePath: null;
}

/**
 * cosmiconfig's search-and-load engine, made without its `cosmiconfig()` factory. Note: the factory (9.0.2) first
 * looks for a "meta config" in `process.cwd()` (a "cosmiconfig" key in package.json, `.config/config.json`, `.yaml`,
 * `.js`, `.ts`, `.cjs`, `.mjs`) with cosmiconfig's own default loaders: it runs `.config/config.js` of whatever
 * folder the command starts in before our loaders apply, lets that file replace our search places, stop folder and
 * cache setting, and returns its "lanying-kb" key as our configuration from outside the search. No option turns it
 * off, so the factory is left out: the Explorer class it wraps does the same search and load without the meta
 * config. The class is not in cosmiconfig's typed API (hence the exact version pin, and a test that runs the CLI in
 * a folder holding `.config/config.cjs` and `.config/config.json`).
 */
const require = createRequire(import.meta.url);
const { Explorer } = require('cosmiconfig/dist/Explorer.js') as { Explorer: new (options: ExplorerOptions) => PublicExplorer };

function explorer(searchPlaces: readonly string[], loaders: Loaders): PublicExplorer {
  return new Explorer({
    moduleName: MODULE_NAME,
    packageProp: MODULE_NAME,
    searchPlaces: [...searchPlaces],
    // One folder per search() call: the walk upward is ours (see searchConfigFile).
    searchStrategy: 'none',
    // The first file that exists wins; an empty one is reported, not skipped in favour of one further up.
    ignoreEmptySearchPlaces: false,
    // Every load reads the file again: the daemon's SIGHUP reload must see the edited file.
    cache: false,
    loaders,
    transform: (result) => result,
    mergeImportArrays: true,
    mergeSearchPlaces: false,
    metaConfigFilePath: null,
  });
}

/**
 * The configuration file that the search finds in `start` or a folder above it, read and parsed; null when there
 * is none. The search stops after the home folder `home`, a repository root (a folder holding `.git`) or `/`.
 *
 * Note: the walk upward is ours; cosmiconfig searches one folder at a time (its "none" strategy). It cannot stop at
 * a repository root: its "global" strategy stops at one `stopDir` and then also reads
 * `$XDG_CONFIG_HOME/lanying-kb/config*` (a place we never searched, chosen by the process environment), and its
 * "project" strategy stops at a folder holding package.json, not `.git`.
 */
export async function searchConfigFile(start: string, home: string): Promise<CosmiconfigResult> {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const { places, refused } = await readablePlaces(dir);
    const found = places.length > 0 ? await explorer(places, DISCOVERED_LOADERS).search(dir).catch(rethrowAsConfigError()) : null;
    if (found) return found;
    if (refused) throw refused;
    const parent = path.dirname(dir);
    if (dir === home || parent === dir || (await statOrUndefined(path.join(dir, '.git'))) !== undefined) return null;
  }
}

/**
 * The search places in `dir` that cosmiconfig may read, in order. Note: cosmiconfig reads a candidate whole
 * (`fs.readFile`) before any loader sees it, so what must not be read is left out here, by its `stat`: anything but
 * a regular file (a FIFO would block the read, a device would not end it) is skipped, and a file over the size
 * limit or one we may not read is refused if nothing before it is found (a package.json is then skipped: one that
 * cannot be read is not ours). An empty package.json is not ours either. The bound holds for a file that is not
 * replaced between this stat and cosmiconfig's read; the loaders refuse a text over the limit after the read.
 */
async function readablePlaces(dir: string): Promise<{ places: string[]; refused?: ConfigError }> {
  const places: string[] = [];
  for (const name of SEARCH_PLACES) {
    const filepath = path.join(dir, name);
    const stats = await statOrUndefined(filepath);
    if (!stats?.isFile()) continue;
    const refused = stats.size > CONFIG_LIMITS.maxBytes ? tooLarge(filepath, stats.size) : await unreadable(filepath);
    if (name === 'package.json' && (refused !== undefined || stats.size === 0)) continue;
    if (refused) return { places, refused };
    places.push(name);
  }
  return { places };
}

/**
 * The configuration file named by the user (`--config`), read and parsed. A program (`.js`, `.mjs`, `.cjs`, `.ts`)
 * is run. Null for a package.json without a "lanying-kb" key.
 */
export async function loadConfigFile(filepath: string): Promise<CosmiconfigResult> {
  let stats: Stats;
  try {
    stats = await stat(filepath);
  } catch (error) {
    throw toConfigError(error, filepath);
  }
  // Note: checked before cosmiconfig reads the file whole. A pipe or device the user names (`--config /dev/stdin`)
  // has no size to check: it is read to its end, and refused afterwards if it was too large.
  if (stats.isFile() && stats.size > CONFIG_LIMITS.maxBytes) throw tooLarge(filepath, stats.size);
  return explorer([], NAMED_LOADERS).load(filepath).catch(rethrowAsConfigError(filepath));
}

// ---- loaders: cosmiconfig calls them with the file's path and text (never for an empty or blank file) ----------

/** JSON: `JSON.parse` keeps a "__proto__" key a key (reported later as unknown); never the prototype. */
const parseJson: Loader = (filepath, content) => parsed(filepath, () => JSON.parse(text(filepath, content)) as unknown);

/** YAML through the `yaml` package (loaded only for YAML files), with the alias limit. */
const parseYaml: Loader = async (filepath, content) => {
  const source = text(filepath, content);
  const { parse } = commonJsExports(await import('yaml'));
  return parsed(filepath, () => parse(source, { maxAliasCount: CONFIG_LIMITS.maxYamlAliases, uniqueKeys: true, logLevel: 'error' }) as unknown);
};

/** A file without a known extension (`.lanying-kbrc`): JSON when it starts with `{`, else YAML. */
const parseJsonOrYaml: Loader = (filepath, content) => (text(filepath, content).trimStart().startsWith('{') ? parseJson(filepath, content) : parseYaml(filepath, content));

/**
 * A JavaScript or TypeScript config named with `--config`. Note: cosmiconfig's own JS loader imports the file by
 * its plain URL, which Node caches for the life of the process (a SIGHUP reload would get the old file), and its
 * TypeScript loader needs the `typescript` package and writes a compiled copy beside the config; this one imports
 * a fresh URL each time and leaves TypeScript to Node.
 */
const importProgram: Loader = async (filepath) => {
  try {
    const mod = (await import(`${pathToFileURL(filepath).href}?mtime=${Date.now()}`)) as { default?: unknown };
    return mod.default ?? mod;
  } catch (error) {
    const ts = /^\.[mc]?ts$/.test(path.extname(filepath)) && (error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION';
    throw new ConfigError(filepath, `cannot be read: ${firstLine(error)}${ts ? ' (this Node.js cannot load TypeScript; use .json, .yaml or .js)' : ''}`, { cause: error });
  }
};

/** A program that the search found: never run. */
const refuseProgram: Loader = (filepath) => {
  throw new ConfigError(
    filepath,
    `a ${path.extname(filepath)} configuration found by the search is not run (it is a program); name it with --config ${filepath} to use it`,
  );
};

/**
 * A package.json that the search found counts only when it has a "lanying-kb" key; one that cannot be parsed is
 * not ours (`{}`: cosmiconfig then finds no key and goes on).
 */
const discoveredPackageJson: Loader = async (filepath, content) => {
  let value: unknown;
  try {
    value = JSON.parse(text(filepath, content));
  } catch {
    return {};
  }
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, MODULE_NAME)) return {};
  await refuseUntrusted(filepath);
  return value;
};

/** Loaders for a file the search found: checked for its owner and mode before it is parsed; programs refused. */
const DISCOVERED_LOADERS: Loaders = withImportsRefused({
  '.json': (filepath, content) => (path.basename(filepath) === 'package.json' ? discoveredPackageJson(filepath, content) : trusted(parseJson)(filepath, content)),
  '.yaml': trusted(parseYaml),
  '.yml': trusted(parseYaml),
  noExt: trusted(parseJsonOrYaml),
  ...Object.fromEntries(PROGRAM_EXTENSIONS.map((ext) => [ext, trusted(refuseProgram)])),
});

/** Loaders for the file named with `--config`: any extension; programs run. */
const NAMED_LOADERS: Loaders = withImportsRefused({
  // A package.json of `null` is one without our key (cosmiconfig cannot look for a key in null).
  '.json': async (filepath, content) => ((await parseJson(filepath, content)) ?? (path.basename(filepath) === 'package.json' ? {} : undefined)) as unknown,
  '.yaml': parseYaml,
  '.yml': parseYaml,
  noExt: parseJsonOrYaml,
  default: parseJsonOrYaml,
  ...Object.fromEntries(PROGRAM_EXTENSIONS.map((ext) => [ext, importProgram])),
});

/** A loader that first refuses a found file the user should not trust. */
function trusted(loader: Loader): Loader {
  return async (filepath, content) => {
    await refuseUntrusted(filepath);
    return loader(filepath, content);
  };
}

/**
 * A file found by the search (not named by the user) must be the user's (or root's) and not writable by everyone:
 * otherwise anyone who can write a parent folder, such as /tmp, could choose the endpoint the token is sent to.
 */
async function refuseUntrusted(filepath: string): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const stats = await stat(filepath);
  if (stats.uid !== uid && stats.uid !== 0) {
    throw new ConfigError(filepath, `found by the search but owned by another user (uid ${stats.uid}); name it with --config to use it`);
  }
  if ((stats.mode & 0o002) !== 0) {
    throw new ConfigError(filepath, 'found by the search but writable by every user; fix its permissions (chmod o-w) or name it with --config');
  }
}

/**
 * Note: cosmiconfig 9 merges the files a config lists under "$import" into it, reading them whole with no checks
 * and with the same loaders (so a JSON file named with `--config` could run a `.js` it imports). lanying-kb's
 * configuration is one file, so a "$import" key is refused, where cosmiconfig would look at it (the value of the
 * "lanying-kb" key in package.json).
 */
function withImportsRefused(loaders: Loaders): Loaders {
  return Object.fromEntries(
    Object.entries(loaders).map(([ext, loader]) => [
      ext,
      async (filepath: string, content: string) => {
        const value: unknown = await loader(filepath, content);
        const own: unknown = path.basename(filepath, path.extname(filepath)) === 'package' ? (value as Record<string, unknown> | null)?.[MODULE_NAME] : value;
        if (own !== null && typeof own === 'object' && Object.hasOwn(own, '$import')) {
          throw new ConfigError(filepath, [{ path: '$import', message: 'unknown key (a configuration is one file; it cannot import others)' }]);
        }
        return value;
      },
    ]),
  );
}

/** The text a loader parses: without a byte-order mark, and refused when it grew past the limit since its stat. */
function text(filepath: string, content: string): string {
  // Each byte read gives at most one UTF-16 unit, so a longer string comes from a larger file.
  if (content.length > CONFIG_LIMITS.maxBytes) {
    throw new ConfigError(filepath, `is over ${CONFIG_LIMITS.maxBytes} bytes; a configuration file may have at most ${CONFIG_LIMITS.maxBytes}`);
  }
  return content.replace(/^\uFEFF/, '');
}

/**
 * The parsed value, or a ConfigError naming the file. Null (a file of comments, or `null`) becomes undefined, which
 * cosmiconfig reports as an empty file rather than skipping it as not found.
 */
function parsed(filepath: string, parse: () => unknown): unknown {
  try {
    return parse() ?? undefined;
  } catch (error) {
    const detail = /alias count/i.test(firstLine(error)) ? `more than ${CONFIG_LIMITS.maxYamlAliases} YAML alias expansions (an alias bomb?)` : firstLine(error);
    throw new ConfigError(filepath, `cannot be read: ${detail}`, { cause: error });
  }
}

function tooLarge(filepath: string, size: number): ConfigError {
  return new ConfigError(filepath, `is ${size} bytes; a configuration file may have at most ${CONFIG_LIMITS.maxBytes}`);
}

async function unreadable(filepath: string): Promise<ConfigError | undefined> {
  try {
    await access(filepath, constants.R_OK);
    return undefined;
  } catch (error) {
    return toConfigError(error, filepath);
  }
}

async function statOrUndefined(filepath: string): Promise<Stats | undefined> {
  try {
    return await stat(filepath);
  } catch {
    return undefined;
  }
}

/** Any failure while finding or reading a file, as a one-line ConfigError naming the file. */
function toConfigError(error: unknown, filepath?: string): ConfigError {
  if (error instanceof ConfigError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (filepath !== undefined && code === 'ENOENT') return new ConfigError(filepath, 'file not found');
  const where = filepath ?? (error as { filepath?: string }).filepath ?? (error as { path?: string }).path;
  return new ConfigError(where, `cannot be read: ${code ?? firstLine(error)}`, { cause: error });
}

function rethrowAsConfigError(filepath?: string): (error: unknown) => never {
  return (error) => {
    throw toConfigError(error, filepath);
  };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[0] ?? 'unknown error';
}
