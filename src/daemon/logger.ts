import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { escapeControl } from '../util/terminal-text.js';

export type { Logger } from 'pino';

/** How log lines look: one JSON object a line (for journald and log shippers), or readable lines for a terminal. */
export type LogFormat = 'json' | 'pretty';

/** Options of `createLogger`. */
export interface CreateLoggerOptions {
  /** Where lines go (the CLI passes its stdout). */
  destination: { write(chunk: string): unknown };
  /** @default 'json' */
  format?: LogFormat | undefined;
  /** @default 'info' */
  level?: string | undefined;
  /** The clock of the readable format, for tests. @default () => new Date() */
  now?: (() => Date) | undefined;
  /**
   * Start every line with its syslog priority (`<6>` info, `<4>` warn, `<3>` error, ...), which journald reads and
   * strips, so that `journalctl -p warning` shows warnings and errors. For a destination that is the journal (the
   * CLI checks `$JOURNAL_STREAM`). @default false
   */
  syslogPrefix?: boolean | undefined;
}

/** syslog priorities (RFC 5424) of pino's levels. */
export const SYSLOG_PRIORITY: Readonly<Record<string, number>> = Object.freeze({ trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 });

/** The `<N>` prefix of a level name (info when unknown). */
export function syslogPrefix(level: unknown): string {
  return `<${SYSLOG_PRIORITY[String(level)] ?? 6}>`;
}

/**
 * Paths that are never written, should a caller log an object that holds a secret. The daemon itself never logs a
 * token, a header or the configuration's `api` section.
 */
export const REDACTED_PATHS = [
  'accessToken',
  'token',
  'password',
  '*.accessToken',
  '*.token',
  '*.password',
  'api.accessToken',
  'config.api.accessToken',
  'headers["access-token"]',
  '*.headers["access-token"]',
];

/**
 * The daemon's logger: pino, with ISO timestamps and secrets redacted. `format: 'pretty'` turns each record into a
 * line such as `12:00:01.250 INFO  sent docs:guide.md source=docs key=guide.md bytes=1200`.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const format = options.format ?? 'json';
  const prefix = options.syslogPrefix === true;
  const stream =
    format === 'pretty'
      ? prettyStream(options.destination, options.now ?? (() => new Date()), prefix)
      : prefix
        ? jsonWithPriority(options.destination)
        : options.destination;
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'lanying-kb' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream as pino.DestinationStream,
  );
}

/** A logger that drops everything (the default of library callers that pass none). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' }, { write: () => {} });
}

/** Fields a readable line leaves out: the line's own parts, and `event` (for machines; the message says it). */
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname', 'event']);

/** Formats one pino JSON record as a readable line (without the newline). */
export function formatLogLine(record: Record<string, unknown>, now: () => Date = () => new Date()): string {
  const time = typeof record.time === 'string' ? new Date(record.time) : now();
  const clock = Number.isNaN(time.getTime()) ? '' : time.toTimeString().slice(0, 8) + `.${String(time.getMilliseconds()).padStart(3, '0')}`;
  const level = String(record.level ?? 'info').toUpperCase().padEnd(5);
  // Note: messages and values carry file names and server text; escaped, they cannot drive the terminal or forge a line.
  const msg = escapeControl(String(record.msg ?? ''));
  const extras: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_FIELDS.has(key) || value === undefined) continue;
    // What the message already says (its source, key, reason) is not repeated.
    if (typeof value === 'string' && value.length > 0 && msg.includes(escapeControl(value))) continue;
    extras.push(`${key}=${formatValue(value)}`);
  }
  return `${clock} ${level} ${msg}${extras.length ? `  ${extras.join(' ')}` : ''}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? escapeControl(JSON.stringify(value)) : escapeControl(value);
  if (value !== null && typeof value === 'object') {
    const err = value as { message?: unknown; type?: unknown };
    if (typeof err.message === 'string') return escapeControl(JSON.stringify(err.message));
    return escapeControl(JSON.stringify(value));
  }
  return String(value);
}

/** pino writes one record per call, starting with its level (see `formatters.level`): `{"level":"warn",...`. */
function jsonWithPriority(destination: CreateLoggerOptions['destination']): CreateLoggerOptions['destination'] {
  return {
    write(chunk: string) {
      const level = /^\{"level":"(\w+)"/.exec(chunk)?.[1];
      return destination.write(`${syslogPrefix(level)}${chunk}`);
    },
  };
}

function prettyStream(destination: CreateLoggerOptions['destination'], now: () => Date, withPriority = false): Writable {
  let partial = '';
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      partial += chunk.toString();
      let newline = partial.indexOf('\n');
      while (newline >= 0) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        if (line.trim()) {
          let out: string;
          let level: unknown;
          try {
            const record = JSON.parse(line) as Record<string, unknown>;
            level = record.level;
            out = formatLogLine(record, now);
          } catch {
            out = line;
          }
          destination.write(`${withPriority ? syslogPrefix(level) : ''}${out}\n`);
        }
        newline = partial.indexOf('\n');
      }
      callback();
    },
  });
}
