import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { LockError } from '../errors.js';

/** The lock file's name inside the state folder. */
export const LOCK_FILE_NAME = 'lock';

interface LockOwner {
  pid: number;
  host: string;
  /** The owner's start time as the kernel counts it (Linux `/proc/<pid>/stat` field 22), to tell a reused PID apart. */
  startTicks?: string | undefined;
  command: string;
  since: string;
}

/** A held lock; `release()` removes the file if this process still owns it. */
export interface StateLock {
  readonly filepath: string;
  release(): void;
}

/**
 * Takes the state folder's lock: one `sync` or `watch` per state folder. A lock left by a process that died
 * (even by `kill -9`) is detected as stale and taken over; a live owner makes this a `LockError` naming it.
 */
export function acquireStateLock(stateDir: string, command: string, pid: number = process.pid): StateLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const filepath = path.join(stateDir, LOCK_FILE_NAME);
  const owner: LockOwner = { pid, host: hostname(), startTicks: startTicksOf(pid), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(filepath, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(owner));
      } finally {
        closeSync(fd);
      }
      return { filepath, release: () => releaseIfOwned(filepath, owner) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LockError(filepath, `cannot create the lock file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
    const current = readOwner(filepath);
    if (current && isAlive(current)) {
      throw new LockError(
        filepath,
        `another lanying-kb (${current.command}, pid ${current.pid}, since ${current.since}) is using this state folder; stop it or use another sync.stateDir`,
        current.pid,
      );
    }
    // Stale: the owner is gone (or the file is unreadable half-written garbage). Remove it and try again.
    try {
      unlinkSync(filepath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new LockError(filepath, `cannot remove a stale lock (${(error as NodeJS.ErrnoException).code})`);
    }
  }
  throw new LockError(filepath, 'could not take the lock (another process keeps taking it)');
}

function readOwner(filepath: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(filepath, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return parsed as LockOwner;
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  // Note: a lock from another host (a shared folder) cannot be checked; treat it as held.
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = startTicksOf(owner.pid);
  return owner.startTicks === undefined || ticks === undefined || ticks === owner.startTicks;
}

function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the closing parenthesis are space-separated.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function releaseIfOwned(filepath: string, owner: LockOwner): void {
  const current = readOwner(filepath);
  if (current && current.pid === owner.pid && current.since === owner.since) {
    try {
      unlinkSync(filepath);
    } catch {
      // Already gone.
    }
  }
}
