import type Database from 'better-sqlite3';
import { StateError } from '../errors.js';

/**
 * What went wrong with a file of the state folder, in a few words an operator can act on, from a Node errno code
 * (`ENOSPC`, `EROFS`, ...) or an SQLite result code (`SQLITE_FULL`, `SQLITE_READONLY_DBMOVED`, ...). Never empty.
 */
export function describeFsError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code !== 'string') return message || 'unknown error';
  const hint = HINTS.find(([pattern]) => pattern.test(code))?.[1];
  if (hint) return `${hint} (${code})`;
  return message && message !== code ? `${code}: ${message}` : code;
}

const HINTS: readonly [RegExp, string][] = [
  [/^(ENOSPC|SQLITE_FULL)$/, 'the disk is full'],
  [/^EDQUOT$/, 'the disk quota is exhausted'],
  [/^EROFS$/, 'the file system is mounted read-only'],
  [/^SQLITE_READONLY/, 'it is read-only'],
  [/^(EACCES|EPERM|SQLITE_PERM|SQLITE_AUTH)$/, 'permission denied'],
  [/^(SQLITE_IOERR|EIO$)/, 'a disk input/output error; the disk may be full or failing'],
  [/^SQLITE_CANTOPEN/, 'it cannot be opened'],
  [/^(SQLITE_CORRUPT|SQLITE_NOTADB)/, 'the database is damaged'],
  [/^SQLITE_BUSY/, 'another process keeps the database busy'],
];

/** SQLite result codes that speak of the file or the disk rather than of a statement (a bug). */
const DISK_CODES = /^(SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB|BUSY|PERM|AUTH)|E(NOSPC|DQUOT|ROFS|ACCES|PERM|IO)$)/;

/** Whether `error` is a failure of the state file or its disk (full, read-only, failing), not of lanying-kb. */
export function isDiskError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && DISK_CODES.test(code);
}

/** The `StateError` for a failed read or write of the state database, naming the file, the problem and the fix. */
export function stateDiskError(filepath: string, error: unknown): StateError {
  const code = String((error as { code?: unknown }).code);
  const fix = /FULL|ENOSPC|EDQUOT/.test(code)
    ? 'free some space and run again; what was recorded so far is kept'
    : /READONLY|EROFS|EACCES|EPERM|SQLITE_PERM/.test(code)
      ? 'lanying-kb must be able to write its state folder: check the owner and mode of the folder and its files, and that the file system is mounted read-write'
      : /CORRUPT|NOTADB/.test(code)
        ? 'restore it from a backup (lanying-kb state backup) or move it away to start afresh'
        : 'check the disk, then run again';
  return new StateError(filepath, `cannot be written: ${describeFsError(error)}; ${fix}`, { cause: error });
}

/**
 * Wraps a database connection so that every failure of its file or disk (a full disk, a file made read-only, an
 * I/O error), from any statement, pragma or transaction, is thrown as a `StateError` naming the file and the
 * problem, instead of an SQLite error with a stack trace or an empty text. Other errors pass through unchanged.
 */
export function guardDiskErrors(db: Database.Database, filepath: string): Database.Database {
  const map = (error: unknown): unknown => (isDiskError(error) ? stateDiskError(filepath, error) : error);
  const call = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      throw map(error);
    }
  };
  const guardStatement = (statement: Database.Statement): Database.Statement => {
    const proxy: Database.Statement = new Proxy(statement, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = call(() => (value as (...a: unknown[]) => unknown).apply(target, args));
          if (result === target) return proxy;
          if (prop === 'iterate') return guardIterator(result as IterableIterator<unknown>, call);
          return result;
        };
      },
    });
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      switch (prop) {
        case 'prepare':
          return (source: string) => guardStatement(call(() => target.prepare(source)));
        case 'transaction':
          return (fn: (...a: unknown[]) => unknown) => {
            const transaction = target.transaction(fn);
            return (...args: unknown[]) => call(() => transaction(...args));
          };
        default:
          return (...args: unknown[]) => call(() => (value as (...a: unknown[]) => unknown).apply(target, args));
      }
    },
  });
}

function guardIterator<T>(iterator: IterableIterator<T>, call: <R>(fn: () => R) => R): IterableIterator<T> {
  const guarded: IterableIterator<T> = {
    next: (...args: [] | [unknown]) => call(() => iterator.next(...args)),
    return: (value?: unknown) => call(() => iterator.return?.(value) ?? { done: true, value: undefined as T }),
    [Symbol.iterator]: () => guarded,
  };
  return guarded;
}
