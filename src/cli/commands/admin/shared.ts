import { createInterface } from 'node:readline';
import type { LanyingClient } from '../../../api/client.js';
import { createClient } from '../../../runtime/create-client.js';
import type { ResolvedConfig } from '../../../config/resolve.js';
import { UsageError, ValidationError } from '../../../errors.js';
import type { CliContext, GlobalOptions } from '../../context.js';
import { loadCliConfig } from '../../load-config.js';

/** Loads the configuration (only its `api` section matters to most admin commands) and makes a client from it. */
export async function adminClient(globals: GlobalOptions, ctx: CliContext): Promise<{ config: ResolvedConfig; client: LanyingClient }> {
  const config = await loadCliConfig(globals, ctx);
  return { config, client: createClient(config) };
}

/** Parses a user or group ID; `what` names the flag or argument in the error. */
export function parseId(value: string, what: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new ValidationError(what, `"${value}" is not an ID (a positive integer)`);
  return n;
}

/** Parses a flag's value as a JSON object, or throws a `ValidationError` naming the flag. */
export function parseJsonObject(text: string, flag: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(flag, `is not valid JSON (${error instanceof Error ? error.message : String(error)}); give an object such as '{"key":"value"}'`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError(flag, `must be a JSON object such as '{"key":"value"}', not ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`);
  }
  return parsed as Record<string, unknown>;
}

/** Reads one line from a stream (without its line end), or undefined when the stream ends first. */
export async function readLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of rl) return line;
    return undefined;
  } finally {
    rl.close();
  }
}

/**
 * Asks on the terminal for the word "yes" (nothing shorter: "y" is not enough for what cannot be undone). Throws a
 * `UsageError` (exit 2) when the answer is anything else, or when there is no terminal to ask on (then `--yes` is how
 * to confirm). `question` and `refusal` are shown as they are: escape what they quote.
 */
export async function confirmWithYes(ctx: CliContext, question: string, refusal: string): Promise<void> {
  if (!ctx.stdin.isTTY) throw new UsageError(`${refusal}: add --yes to confirm (no terminal to ask on)`);
  ctx.stderr.write(`${question} Type "yes" to confirm: `);
  const answer = (await readLine(ctx.stdin))?.trim().toLowerCase();
  if (answer !== 'yes') throw new UsageError(`not confirmed (the answer was not "yes"): ${refusal.replace(/^./, (c) => c.toLowerCase())}, nothing was done`);
}

/** Reads all of standard input as UTF-8 text (`--text -`), without one trailing line break. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `1 user`, `3 users`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
