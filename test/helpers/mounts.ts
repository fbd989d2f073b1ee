import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

function run(args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

/** Whether this machine lets the tests mount a tmpfs and bind mounts (root, with mount allowed); and why not. */
export const mounting: { allowed: boolean; reason: string } = (() => {
  if (process.platform !== 'linux') return { allowed: false, reason: `mounting is tested on Linux only (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { allowed: false, reason: 'mounting needs root; these tests run as another user' };
  const probe = mkdtempSync(path.join(tmpdir(), 'lkb-mount-probe-'));
  try {
    const mounted = run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    if (!mounted.ok) return { allowed: false, reason: `mount is refused here (${mounted.output || 'no reason given'})` };
    run(['umount', probe]);
    return { allowed: true, reason: '' };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** Prints why a mount test is skipped (once per reason). */
export function noteSkip(what: string): void {
  if (!mounting.allowed) console.warn(`skipped: ${what}: ${mounting.reason}`);
}

/** Mounts a tmpfs of `size` (e.g. `256k`) on `dir`; unmounted when the test ends (if still mounted). */
export function mountTmpfs(dir: string, size: string): { unmount(): void } {
  const result = run(['mount', '-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  if (!result.ok) throw new Error(`mount tmpfs on ${dir} failed: ${result.output}`);
  return unmounter(dir);
}

/** Bind-mounts `dir` onto itself read-only; unmounted when the test ends. */
export function bindReadOnly(dir: string): { unmount(): void } {
  for (const args of [
    ['mount', '--bind', dir, dir],
    ['mount', '-o', 'remount,bind,ro', dir],
  ]) {
    const result = run(args);
    if (!result.ok) throw new Error(`${args.join(' ')} failed: ${result.output}`);
  }
  return unmounter(dir);
}

function unmounter(dir: string): { unmount(): void } {
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    const result = run(['umount', dir]);
    if (!result.ok) run(['umount', '-l', dir]);
  };
  onTestFinished(unmount);
  return { unmount };
}

/** Fills the file system holding `dir` until it is full: a file of every free byte. Returns its path. */
export function fillDisk(dir: string, name = 'filler'): string {
  const file = path.join(dir, name);
  // dd stops at ENOSPC (exit 1): that is the point.
  spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4k'], { encoding: 'utf8' });
  return file;
}
