import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A fresh temporary folder for the current test, removed when the test finishes (even after a failure, and
 * even when the test left folders without permissions). Returns its real absolute path.
 */
export function tmpDir(prefix = 'lanying-kb-test-'): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
  onTestFinished(() => removeTree(dir));
  return dir;
}

/** Writes a file below `root`, creating the folders on the way; returns its absolute path. */
export function writeFile(root: string, rel: string, content: string | Uint8Array = 'x'): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    restorePermissions(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function restorePermissions(dir: string): void {
  try {
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) restorePermissions(path.join(dir, entry.name));
    }
  } catch {
    // Best effort: the rmSync that follows reports what is left.
  }
}
