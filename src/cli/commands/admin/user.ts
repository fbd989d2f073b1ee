import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { usernameProblem } from '../../../protocol/username.js';
import type { BatchRegisterResult } from '../../../api/resources/users.js';
import { parseUserList } from '../../../admin/user-list.js';
import { UsageError, ValidationError } from '../../../errors.js';
import type { CliContext, GlobalOptions } from '../../context.js';
import { writeLine, writeResult } from '../../context.js';
import { EXIT } from '../../exit-codes.js';
import { apiObjectForJson } from '../../json-fields.js';
import { adminClient, plural, readLine } from './shared.js';

export interface UserRegisterOptions {
  passwordStdin?: boolean;
  passwordEnv?: string;
  password?: string;
}

/** `lanying-kb user register <username>`: the password from stdin, an environment variable, or (with a warning) argv. */
export async function userRegisterCommand(options: UserRegisterOptions, globals: GlobalOptions, ctx: CliContext, args: string[]): Promise<number> {
  const username = args[0] ?? '';
  const problem = usernameProblem(username);
  if (problem) throw new ValidationError('username', `"${username}" ${problem}`);
  const password = await readPassword(options, ctx);
  const { client } = await adminClient(globals, ctx);
  const settings = await client.users.register({ username, password });
  if (globals.json) writeResult(ctx, globals, { ok: true, username, userId: settings.user_id });
  else writeLine(ctx.stdout, `registered ${username}: user ID ${settings.user_id}`);
  return EXIT.OK;
}

async function readPassword(options: UserRegisterOptions, ctx: CliContext): Promise<string> {
  const given = [options.passwordStdin, options.passwordEnv !== undefined, options.password !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give the password one way only: --password-stdin, --password-env VAR or --password');
  if (given === 0) throw new UsageError('no password: pipe it in with --password-stdin, or name an environment variable with --password-env VAR');
  if (options.password !== undefined) {
    writeLine(ctx.stderr, 'lanying-kb: warning: --password puts the password on the command line, where other users of this machine can see it (ps, /proc); prefer --password-stdin or --password-env');
    if (!options.password) throw new UsageError('--password is empty');
    return options.password;
  }
  if (options.passwordEnv !== undefined) {
    const value = ctx.env[options.passwordEnv];
    if (!value) throw new UsageError(`--password-env: the environment variable ${options.passwordEnv} is not set or is empty`);
    return value;
  }
  const line = await readLine(ctx.stdin);
  if (!line) throw new UsageError('--password-stdin: no password on standard input (expected it on the first line)');
  return line;
}

/** How many users one `/user/register/batch` call carries. */
const BATCH_SIZE = 100;

/** `lanying-kb user batch-register FILE`: a CSV (`username,password` header) or JSON list; a result per user. */
export async function userBatchRegisterCommand(_options: object, globals: GlobalOptions, ctx: CliContext, args: string[]): Promise<number> {
  const file = args[0] ?? '';
  let text: string;
  try {
    text = await readFile(path.resolve(ctx.cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const users = parseUserList(text, file);
  const { client } = await adminClient(globals, ctx);
  const results: BatchRegisterResult[] = [];
  for (let i = 0; i < users.length; i += BATCH_SIZE) results.push(...(await client.users.registerBatch(users.slice(i, i + BATCH_SIZE))));

  const failed = results.filter((r) => !r.success);
  const exitCode = failed.length > 0 ? EXIT.FAILED : EXIT.OK;
  if (globals.json) {
    const list = results.map((r) => ({ username: r.username, ok: r.success, ...(r.user_id !== undefined ? { userId: r.user_id } : {}), ...(r.reason ? { reason: r.reason } : {}) }));
    writeResult(ctx, globals, { ok: failed.length === 0, exitCode, registered: results.length - failed.length, failed: failed.length, results: list });
    return exitCode;
  }
  const width = Math.max(8, ...results.map((r) => r.username.length));
  for (const r of results) {
    if (r.success) writeLine(ctx.stdout, `ok    ${r.username.padEnd(width)}  user ID ${r.user_id}`);
    else writeLine(ctx.stdout, `FAIL  ${r.username.padEnd(width)}  ${r.reason ?? 'refused'}`);
  }
  writeLine(ctx.stdout, `${plural(results.length - failed.length, 'user')} registered, ${failed.length} failed.`);
  return exitCode;
}

export interface UserProfileOptions {
  user: number;
}

/** `lanying-kb user profile --user ID`: shows a user's profile. */
export async function userProfileCommand(options: UserProfileOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const { client } = await adminClient(globals, ctx);
  const profile = await client.users.profile({ actAs: options.user });
  if (globals.json) {
    writeResult(ctx, globals, { ok: true, profile: apiObjectForJson(profile) });
    return EXIT.OK;
  }
  for (const [key, value] of Object.entries(profile)) {
    if (value !== undefined && value !== null && value !== '') writeLine(ctx.stdout, `${key.padEnd(12)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  return EXIT.OK;
}
