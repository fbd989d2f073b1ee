import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockError } from '../../src/errors.js';
import { acquireStateLock, LOCK_FILE_NAME } from '../../src/state/lock.js';
import { tmpDir } from '../helpers/tmp-dir.js';

describe('state lock', () => {
  it('lets one holder in and refuses a second, naming the owner', () => {
    const dir = tmpDir();
    const lock = acquireStateLock(dir, 'watch');
    expect(() => acquireStateLock(dir, 'sync')).toThrow(LockError);
    expect(() => acquireStateLock(dir, 'sync')).toThrow(new RegExp(`another lanying-kb \\(watch, pid ${process.pid}`));
    lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(false);
    acquireStateLock(dir, 'sync').release();
  });

  it('takes over a lock left by a process that died', () => {
    const dir = tmpDir();
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    writeFileSync(path.join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: deadPid, host: hostname(), command: 'watch', since: 'then' }));
    const lock = acquireStateLock(dir, 'sync');
    expect(JSON.parse(readFileSync(lock.filepath, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose PID was reused by another process (start time differs)', () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: process.pid, host: hostname(), startTicks: '1', command: 'watch', since: 'then' }));
    const lock = acquireStateLock(dir, 'sync');
    expect(JSON.parse(readFileSync(lock.filepath, 'utf8')).command).toBe('sync');
    lock.release();
  });

  it('takes over an unreadable lock file', () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, LOCK_FILE_NAME), '{half');
    acquireStateLock(dir, 'sync').release();
  });
});
