import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LockError } from '../errors.js';
import { describeFsError } from './disk-errors.js';

/** The file inside the state folder that says who holds the lock (JSON; for messages, and older versions). */
export const LOCK_FILE_NAME = 'lock';
/** The file inside the state folder whose operating-system lock is the state lock itself. Never open it otherwise. */
export const LOCK_DB_NAME = 'lock.db';

interface LockOwner {
  pid: number;
  host: string;
  /** The owner's start time as the kernel counts it (Linux `/proc/<pid>/stat` field 22), to tell a reused PID apart. */
  startTicks?: string | undefined;
  command: string;
  since: string;
}

/** A held lock; `release()` gives it up (and removes the owner file if it is still this holder's). */
export interface StateLock {
  /** The owner file (`lock`). */
  readonly filepath: string;
  release(): void;
}

/**
 * Takes the state folder's lock: one `sync` or `watch` per state folder.
 *
 * The lock is an operating-system lock, not a file's existence: SQLite's own exclusive lock on `lock.db` (POSIX
 * advisory locks on Linux and macOS, `LockFileEx` on Windows), held by an open connection for as long as the
 * process holds the state. The kernel drops it when the process ends in any way (`kill -9`, a crash, a power cut),
 * so there is no stale lock to detect and take over, and no window in which two processes that both found the
 * owner dead can both think they took its place: taking the lock is one atomic step of the kernel. (The former
 * lock, a file made with `O_EXCL` and removed when its owner was found dead, let a second process remove the first
 * one's fresh lock.) SQLite is already how the state is kept, so no native module is added for `flock`; SQLite's
 * locking also keeps two connections of one process apart.
 *
 * The owner file `lock` only names the holder (pid, command, since) for the message a refused process prints; it is
 * written after the lock is taken and may be left behind by a crash, which is harmless.
 *
 * Caveats: POSIX locks belong to the process, and closing any descriptor of the file drops them, so nothing in this
 * process may open `lock.db` except this connection. Deleting `lock.db` while a holder runs lets a second process
 * in. On network file systems the lock is as good as their lock manager (NFS: `lockd`).
 */
export function acquireStateLock(stateDir: string, command: string, pid: number = process.pid): StateLock {
  const filepath = path.join(stateDir, LOCK_FILE_NAME);
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new LockError(filepath, `cannot create the state folder ${stateDir} (${describeFsError(error)})`);
  }
  const dbPath = path.join(stateDir, LOCK_DB_NAME);
  const creating = !existsSync(dbPath);
  let db: Database.Database;
  try {
    // timeout 0: a held lock is refused at once, not waited for.
    db = new Database(dbPath, { timeout: 0 });
    if (creating) chmodSync(dbPath, 0o600);
  } catch (error) {
    throw new LockError(dbPath, `cannot open the lock file (${describeFsError(error)})`);
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw heldBy(filepath, readOwner(filepath));
    throw new LockError(dbPath, `cannot take the lock (${describeFsError(error)})`);
  }
  const owner: LockOwner = { pid, host: hostname(), startTicks: startTicksOf(pid), command, since: new Date().toISOString() };
  try {
    writeOwner(filepath, owner);
  } catch (error) {
    db.close();
    throw new LockError(filepath, `cannot write the lock file (${describeFsError(error)})`);
  }
  let released = false;
  return {
    filepath,
    release: () => {
      if (released) return;
      released = true;
      const current = readOwner(filepath);
      if (current && current.pid === owner.pid && current.since === owner.since) rmSync(filepath, { force: true });
      // Closing the connection gives the lock up.
      db.close();
    },
  };
}

function heldBy(filepath: string, owner: LockOwner | undefined): LockError {
  // The owner file may still name a process that died (the new holder has not written its own yet).
  if (owner && isAlive(owner)) {
    return new LockError(
      filepath,
      `another lanying-kb (${owner.command}, pid ${owner.pid}, since ${owner.since}) is using this state folder; stop it or use another sync.stateDir`,
      owner.pid,
    );
  }
  return new LockError(filepath, 'another lanying-kb process is using this state folder (it is just starting); stop it or use another sync.stateDir');
}

/** Writes the owner file whole or not at all (a temporary file renamed over it). */
function writeOwner(filepath: string, owner: LockOwner): void {
  const temp = `${filepath}.${owner.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(owner), { mode: 0o600 });
    renameSync(temp, filepath);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Not there.
    }
    throw error;
  }
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
  // A holder on another host (a shared folder) cannot be checked; take it as alive.
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
