import type { Writable } from 'node:stream';
import { escapeControl } from '../util/terminal-text.js';
import { isoTimes } from './json-fields.js';
import { isJournalStream, prefixLines } from './journal-stream.js';

/**
 * Everything a command may take from the process: the only place (with `main.ts`) where argv, the environment
 * and the working directory enter lanying-kb. Tests build one by hand.
 */
export interface CliContext {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Registers a handler for SIGINT/SIGTERM/SIGHUP; returns a function that removes it. */
  onSignal: (signal: NodeJS.Signals, handler: () => void) => () => void;
}

/** Options every command accepts. */
export interface GlobalOptions {
  config?: string | undefined;
  /** Machine-readable output: one JSON document (also set with `--json-lines`, see `jsonLines`). */
  json?: boolean | undefined;
  /** JSON objects, one per line: events as they happen (sync), or the result on one line. */
  jsonLines?: boolean | undefined;
  /** Errors and the summary only. */
  quiet?: boolean | undefined;
  verbose?: boolean | undefined;
  /** `--stats INTERVAL` in milliseconds: a stats line when stderr is not a terminal (0: none). */
  stats?: number | undefined;
  /** `--no-progress`: no progress line on a terminal. */
  progress?: boolean | undefined;
}

export function processContext(): CliContext {
  // Under systemd, what goes to stderr is an error: journald files it at priority 3 ("err") rather than "info".
  const stderr = isJournalStream(process.env.JOURNAL_STREAM, process.stderr.fd) ? prefixLines(process.stderr, '<3>') : process.stderr;
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr,
    stdin: process.stdin,
    onSignal: (signal, handler) => {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
  };
}

/**
 * Writes a line of human-readable output. Control characters other than line breaks are escaped (see
 * `escapeControl`): no file name or server text can drive the terminal. Callers escape untrusted parts themselves
 * too, so that a line break inside them cannot forge a line.
 */
export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${escapeControl(text, { keepNewlines: true })}\n`);
}

/** Writes many lines (escaped as by `writeLine`) in 64 KiB pieces: one write per line would be one system call per line. */
export function writeLines(stream: Writable, lines: Iterable<string>): void {
  writeInPieces(stream, terminated(lines));
}

/**
 * Writes a command's JSON result: indented (`--json`), or on one line (`--json-lines`); times (`…At` fields) as ISO
 * 8601 (`isoTimes`). JSON keeps every name exact.
 */
export function writeResult(ctx: Pick<CliContext, 'stdout'>, globals: GlobalOptions, value: unknown): void {
  const shown = isoTimes(value);
  if (globals.jsonLines) ctx.stdout.write(`${JSON.stringify(shown)}\n`);
  else writeJson(ctx.stdout, shown);
}

/**
 * Writes `value` as indented JSON (the same text as `JSON.stringify(value, null, 2)`), a long array an element at a
 * time: a report of 100k documents is never one 30 MB string.
 */
export function writeJson(stream: Writable, value: unknown): void {
  writeInPieces(stream, jsonDocument(value));
}

/** Joins `texts` into writes of about 64 KiB each. */
function writeInPieces(stream: Writable, texts: Iterable<string>): void {
  let pending = '';
  for (const text of texts) {
    pending += text;
    if (pending.length >= 64 * 1024) {
      stream.write(pending);
      pending = '';
    }
  }
  if (pending) stream.write(pending);
}

function* terminated(lines: Iterable<string>): Generator<string> {
  for (const line of lines) yield `${escapeControl(line, { keepNewlines: true })}\n`;
}

function* jsonDocument(value: unknown): Generator<string> {
  yield* jsonPieces(value, '');
  yield '\n';
}

/** Arrays longer than this are written element by element. */
const PIECEWISE_ARRAY = 256;

/** `value` as indented JSON text in pieces (a long array an element at a time), lines after the first at `indent`. */
export function* jsonPieces(value: unknown, indent: string): Generator<string> {
  const inner = `${indent}  `;
  if (Array.isArray(value) && value.length > PIECEWISE_ARRAY) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      // JSON.stringify writes undefined, functions and symbols in arrays as null.
      const text = JSON.stringify(value[i], null, 2) ?? 'null';
      yield `${i === 0 ? '' : ','}\n${inner}${text.replaceAll('\n', `\n${inner}`)}`;
    }
    yield `\n${indent}]`;
    return;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
    if (entries.length === 0) {
      yield '{}';
      return;
    }
    yield '{';
    for (let i = 0; i < entries.length; i++) {
      const [key, v] = entries[i] as [string, unknown];
      yield `${i === 0 ? '' : ','}\n${inner}${JSON.stringify(key)}: `;
      yield* jsonPieces(v, inner);
    }
    yield `\n${indent}}`;
    return;
  }
  // Note: JSON strings never hold a raw line break, so indenting after each one is safe.
  yield (JSON.stringify(value, null, 2) ?? 'null').replaceAll('\n', `\n${indent}`);
}
