import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError } from '../../errors.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeLine, writeResult } from '../context.js';
import { EXIT } from '../exit-codes.js';

export interface InitOptions {
  endpoint?: string;
  appId?: string;
  chatbotUserId?: number;
  adminUserId?: number;
  kbName?: string;
  folder?: string[];
  urlList?: string;
  output: string;
  envFile: string;
  force?: boolean;
}

/** The JSON Schema that ships with the package (beside `dist/`), for editors' completion and checks. */
export const INSTALLED_SCHEMA = fileURLToPath(new URL('../../../lanying-kb.schema.json', import.meta.url));

/** The environment variable the written configuration takes the token from. */
const TOKEN_VARIABLE = 'LANYING_ACCESS_TOKEN';

/** One value `init` needs: its flag, its question, and how to check an answer. */
interface Field {
  key: 'endpoint' | 'appId' | 'chatbotUserId' | 'adminUserId' | 'kbName';
  flag: string;
  question: string;
  parse: (text: string) => string | number | undefined;
  problem: string;
}

const FIELDS: readonly Field[] = [
  { key: 'endpoint', flag: '--endpoint', question: 'API endpoint (the console\'s "Application info", e.g. https://s-1-3-s-api.maximtop.cn)', parse: httpUrl, problem: 'an http(s) URL' },
  { key: 'appId', flag: '--app-id', question: 'App ID', parse: text, problem: 'not empty' },
  { key: 'chatbotUserId', flag: '--chatbot-user-id', question: 'User ID of the AI chatbot', parse: positiveId, problem: 'a positive integer' },
  { key: 'adminUserId', flag: '--admin-user-id', question: 'User ID of the knowledge-base administrator (the sender of every document)', parse: positiveId, problem: 'a positive integer' },
  { key: 'kbName', flag: '--kb-name', question: 'Knowledge base name (as the console shows it)', parse: text, problem: 'not empty' },
];

/**
 * `lanying-kb init`: writes a configuration file (`$schema` pointing at the installed schema, the token taken from
 * `$LANYING_ACCESS_TOKEN`) and an environment-file template for the token (mode 0600). On a terminal it asks for what
 * the flags did not give; otherwise every value must come as a flag. Existing files are kept unless `--force`.
 */
export async function initCommand(options: InitOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const configFile = path.resolve(ctx.cwd, options.output);
  const envFile = path.resolve(ctx.cwd, options.envFile);
  for (const file of [configFile, envFile]) {
    if (existsSync(file) && !options.force) throw new UsageError(`${file} exists: keep it, or overwrite it with --force`);
  }
  const values: Partial<Record<Field['key'], string | number>> = {
    endpoint: options.endpoint === undefined ? undefined : checked(FIELDS[0] as Field, options.endpoint),
    appId: options.appId === undefined ? undefined : checked(FIELDS[1] as Field, options.appId),
    chatbotUserId: options.chatbotUserId,
    adminUserId: options.adminUserId,
    kbName: options.kbName === undefined ? undefined : checked(FIELDS[4] as Field, options.kbName),
  };
  let folders = options.folder;
  const missing = FIELDS.filter((f) => values[f.key] === undefined);
  if (missing.length > 0 || folders === undefined) {
    if (!ctx.stdin.isTTY) {
      if (missing.length > 0) throw new UsageError(`missing ${missing.map((f) => f.flag).join(', ')} (no terminal to ask on)`);
    } else {
      const ask = prompter(ctx);
      try {
        for (const field of missing) values[field.key] = await askUntilValid(ask, field);
        if (folders === undefined && options.urlList === undefined) {
          const answer = (await ask('Folder to sync (empty for none)', './docs')).trim();
          folders = answer === '' ? [] : [answer];
        }
      } finally {
        ask.close();
      }
    }
  }

  const configDir = path.dirname(configFile);
  const config = {
    $schema: schemaReference(configDir),
    api: { endpoint: values.endpoint, appId: values.appId, accessToken: `\${${TOKEN_VARIABLE}}` },
    knowledgeBase: { chatbotUserId: values.chatbotUserId, adminUserId: values.adminUserId, name: values.kbName },
    sources: sourcesOf(folders ?? [], options.urlList, ctx.cwd, configDir),
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
  writeFileSync(envFile, envTemplate(path.basename(configFile)), { mode: 0o600 });

  if (globals.json) {
    writeResult(ctx, globals, { ok: true, config: configFile, envFile, schema: config.$schema, sources: config.sources.map((s) => s.name) });
    return EXIT.OK;
  }
  const rel = (file: string) => escapeControl(path.relative(ctx.cwd, file) || file);
  writeLine(ctx.stdout, `wrote ${rel(configFile)} ($schema: ${escapeControl(config.$schema)})`);
  writeLine(ctx.stdout, `wrote ${rel(envFile)} (mode 0600): put the app's admin access token after ${TOKEN_VARIABLE}=`);
  writeLine(ctx.stdout, `next: set -a; . ${shellPath(envFile, ctx.cwd)}; set +a; lanying-kb validate --deep && lanying-kb sync --dry-run`);
  return EXIT.OK;
}

/** Asks a question on stderr and reads the answer from stdin (one readline for the whole session). */
interface Prompter {
  (question: string, fallback?: string): Promise<string>;
  close(): void;
}

function prompter(ctx: CliContext): Prompter {
  const rl = createInterface({ input: ctx.stdin, crlfDelay: Infinity, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string, fallback?: string) => {
    ctx.stderr.write(`${question}${fallback === undefined ? '' : ` [${fallback}]`}: `);
    const next = await lines.next();
    if (next.done) throw new UsageError(`no answer to "${question}" (standard input ended)`);
    const answer = String(next.value);
    return answer.trim() === '' && fallback !== undefined ? fallback : answer;
  };
  return Object.assign(ask, { close: () => rl.close() });
}

async function askUntilValid(ask: Prompter, field: Field): Promise<string | number> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const value = field.parse(await ask(field.question));
    if (value !== undefined) return value;
  }
  throw new UsageError(`${field.flag}: three answers that were not ${field.problem}`);
}

function checked(field: Field, given: string): string | number {
  const value = field.parse(given);
  if (value === undefined) throw new UsageError(`${field.flag} must be ${field.problem} (got "${given}")`);
  return value;
}

function httpUrl(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href.replace(/\/+$/, '') : undefined;
  } catch {
    return undefined;
  }
}

function text(value: string): string | undefined {
  return value.trim() === '' ? undefined : value.trim();
}

function positiveId(value: string): number | undefined {
  const n = Number(value.trim());
  return /^\d+$/.test(value.trim()) && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * The `$schema` of the written file: the schema of this installation, relative to the file when it lies below the
 * file's folder (`./node_modules/lanying-kb/...`: the project can move), else as a `file://` URL.
 */
function schemaReference(configDir: string): string {
  const rel = path.relative(configDir, INSTALLED_SCHEMA);
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) return `./${rel.split(path.sep).join('/')}`;
  return pathToFileURL(INSTALLED_SCHEMA).href;
}

/** A folder source per folder (named after it), and a URL source for the list file. Paths relative to the config. */
function sourcesOf(folders: readonly string[], urlList: string | undefined, cwd: string, configDir: string): Record<string, string>[] {
  const names = new Set<string>();
  const unique = (base: string) => {
    let name = base.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'docs';
    for (let i = 2; names.has(name); i++) name = `${name.replace(/-\d+$/, '')}-${i}`;
    names.add(name);
    return name;
  };
  const relative = (p: string) => {
    const rel = path.relative(configDir, path.resolve(cwd, p));
    return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(cwd, p) : `./${rel.split(path.sep).join('/')}`;
  };
  const sources: Record<string, string>[] = folders.map((folder) => ({ type: 'folder', name: unique(path.basename(path.resolve(cwd, folder))), path: relative(folder) }));
  if (urlList !== undefined) sources.push({ type: 'urls', name: unique('urls'), listFile: relative(urlList) });
  return sources;
}

function envTemplate(configName: string): string {
  return [
    `# Environment of lanying-kb (${configName} takes the access token from here). Keep this file private (mode 0600).`,
    '# Load it in a shell with:   set -a; . ./lanying-kb.env; set +a',
    '# or in a systemd unit with: EnvironmentFile=/etc/lanying-kb/NAME.env (see docs/systemd.md)',
    '#',
    "# The app's admin access token, from the Lanying console:",
    `${TOKEN_VARIABLE}=`,
    '',
  ].join('\n');
}

function shellPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  const shown = rel.startsWith('..') || path.isAbsolute(rel) ? file : `./${rel}`;
  return /^[\w./-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", "'\\''")}'`;
}
