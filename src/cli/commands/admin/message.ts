import { statSync } from 'node:fs';
import path from 'node:path';
import type { MessageTarget } from '../../../api/resources/messages.js';
import { sendFileMessage } from '../../../admin/send-file.js';
import { UsageError, ValidationError } from '../../../errors.js';
import type { CliContext, GlobalOptions } from '../../context.js';
import { writeLine, writeResult } from '../../context.js';
import { EXIT } from '../../exit-codes.js';
import { adminClient, parseJsonObject, plural, readAll } from './shared.js';

export interface MessageSendOptions {
  user?: number[];
  group?: number[];
  text?: string;
  file?: string;
  from?: number;
  ext?: string;
}

/**
 * `lanying-kb message send (--user ID... | --group ID...) (--text T | --file PATH) [--from ID] [--ext JSON]`.
 * Text goes to every receiver in one send; a file is uploaded once per receiver (an upload slot is per receiver)
 * and sent as a file message. Exit 3 when some receivers failed.
 */
export async function messageSendCommand(options: MessageSendOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const users = [...new Set(options.user ?? [])];
  const groups = [...new Set(options.group ?? [])];
  if (users.length > 0 && groups.length > 0) throw new UsageError('--user and --group cannot be mixed: the API sends to users or to groups, not both at once');
  if (users.length === 0 && groups.length === 0) throw new UsageError('name the receivers with --user ID... or --group ID...');
  if ((options.text === undefined) === (options.file === undefined)) throw new UsageError('give exactly one of --text or --file');
  // A text needs no sender: the admin token sends as the app's administrator, as the quick start's example does
  // (server-api-quick-start.md:391-431). A file does: its upload slot is asked for as the sending user.
  if (options.from === undefined && options.file !== undefined) {
    throw new UsageError('--file needs --from USER_ID: the upload slot is asked for as the user who sends the file');
  }
  const ext = options.ext === undefined ? undefined : parseJsonObject(options.ext, '--ext');
  // `--text -`: the text is standard input (all of it, without its last line break).
  if (options.text === '-') {
    options = { ...options, text: await readAll(ctx.stdin) };
    if (options.text === '') throw new UsageError('--text -: standard input was empty; give the text on stdin (e.g. echo hello | lanying-kb message send ... --text -)');
  }
  const filepath = options.file === undefined ? undefined : path.resolve(ctx.cwd, options.file);
  if (filepath !== undefined) checkFile(filepath, options.file as string);
  const to: MessageTarget = users.length > 0 ? { users } : { groups };
  const kind = users.length > 0 ? 'user' : 'group';
  const ids = users.length > 0 ? users : groups;
  const { client } = await adminClient(globals, ctx);

  if (filepath === undefined) {
    const sent = await client.messages.sendText(to, options.text as string, { ...(options.from !== undefined ? { from: options.from } : {}), ...(ext ? { ext } : {}) });
    if (globals.json) writeResult(ctx, globals, { ok: true, to: { [`${kind}s`]: ids }, msgIds: sent.msgIds });
    else writeLine(ctx.stdout, `sent to ${plural(ids.length, kind)} (${ids.join(', ')})${sent.msgIds.length ? `: message ID ${sent.msgIds.join(', ')}` : ''}`);
    return EXIT.OK;
  }

  const results = await sendFileMessage(client, { from: options.from as number, to, path: filepath, ...(ext ? { ext } : {}) });
  const failed = results.filter((r) => !r.ok);
  const exitCode = failed.length > 0 ? EXIT.FAILED : EXIT.OK;
  if (globals.json) {
    writeResult(ctx, globals, { ok: failed.length === 0, exitCode, file: filepath, results: results.map((r) => ({ [`${kind}Id`]: r.target, ...r, target: undefined })) });
    return exitCode;
  }
  for (const r of results) {
    if (r.ok) writeLine(ctx.stdout, `ok    ${kind} ${r.target}: ${path.basename(filepath)} (${r.size} bytes)${r.msgIds?.length ? `, message ID ${r.msgIds.join(', ')}` : ''}`);
    else writeLine(ctx.stdout, `FAIL  ${kind} ${r.target}: ${r.error}`);
  }
  if (results.length > 1 || failed.length > 0) writeLine(ctx.stdout, `${plural(results.length - failed.length, kind)} sent the file, ${failed.length} failed.`);
  return exitCode;
}

function checkFile(filepath: string, given: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(filepath).isFile();
  } catch (error) {
    throw new ValidationError('--file', `${given}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (!isFile) throw new ValidationError('--file', `${given}: not a regular file`);
}
