/**
 * Is a folder source's root the folder it was, or an unmounted mount point? An unmounted disk or share leaves an
 * empty folder (or the files of the folder underneath) where the documents were: read as it is, every document would
 * be taken for removed. So the root's device and whether it was a mount point are kept in the state (`SourceMemo`),
 * compared at every observation, and a root that looks unmounted makes the source unavailable (a `SourceError`): the
 * run stops before it decides anything, and nothing is taken for removed until the folder is back.
 *
 * The root is unavailable when:
 * - the source has a `marker` (like Syncthing's `.stfolder`) and that file is missing from the root;
 * - it was a mount point when last seen and is not one now (unmounted);
 * - it is on another device than when last seen and is empty (a mount that failed, or an empty file system mounted
 *   over the folder).
 * A root on another device that holds files is taken as it is (a disk replaced and restored, a share mounted again:
 * many file systems get a new device number at every mount) and recorded anew.
 */

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SourceError } from '../../errors.js';
import type { SourceMemo } from '../types.js';
import type { ResolvedFolderSource } from './config.js';

/** The name under which a folder source keeps its root's record (`SourceMemo`). */
const MEMO_ROOT = 'root';

/** What is recorded of a root when it was last seen available. */
interface RootRecord {
  /** The root's path then: a record of another path (the configuration changed) is not compared. */
  path: string;
  /** `st_dev`, as decimal text. */
  dev: string;
  mountPoint: boolean;
}

/** The reason a root is unavailable now, or undefined when it looks like the folder it was. */
export function rootUnavailableReason(source: ResolvedFolderSource, memo: SourceMemo | undefined): string | undefined {
  const root = source.path;
  let st;
  try {
    st = statSync(root);
  } catch {
    // A missing root is the scan's to report ("does not exist"), also unavailable.
    return undefined;
  }
  if (source.marker !== undefined && !existsSync(path.join(root, source.marker))) {
    return `the marker file ${source.marker} is missing from ${root} (not mounted, or not the folder it should be)`;
  }
  const now: RootRecord = { path: root, dev: String(st.dev), mountPoint: isMountPoint(root) };
  const before = parseRecord(memo?.get(MEMO_ROOT));
  if (before && before.path === root) {
    if (before.mountPoint && !now.mountPoint) return `${root} was a mount point when last seen and is not one now (unmounted?)`;
    if (before.dev !== now.dev && isEmptyFolder(root)) {
      return `${root} is empty and on another device than when last seen (device ${before.dev}, now ${now.dev}): not mounted?`;
    }
  }
  if (!before || before.path !== now.path || before.dev !== now.dev || before.mountPoint !== now.mountPoint) memo?.set(MEMO_ROOT, JSON.stringify(now));
  return undefined;
}

/** Throws the source's `SourceError` when its root is unavailable (see `rootUnavailableReason`). */
export function assertRootAvailable(source: ResolvedFolderSource, memo: SourceMemo | undefined): void {
  const reason = rootUnavailableReason(source, memo);
  if (reason !== undefined) {
    throw new SourceError(source.name, `unavailable: ${reason}; no document is taken for removed until it is back (lanying-kb state forget-root ${source.name} accepts the folder as it is now)`);
  }
}

function parseRecord(text: string | undefined): RootRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<RootRecord>;
    if (typeof parsed.path !== 'string' || typeof parsed.dev !== 'string' || typeof parsed.mountPoint !== 'boolean') return undefined;
    return parsed as RootRecord;
  } catch {
    return undefined;
  }
}

function isEmptyFolder(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/**
 * Whether `dir` is a mount point. On Linux from the mount table (`/proc/self/mountinfo`, which also knows bind mounts
 * of a folder of the same file system); elsewhere a folder on another device than its parent.
 */
export function isMountPoint(dir: string): boolean {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return false;
  }
  if (real === path.parse(real).root) return true;
  if (process.platform === 'linux') {
    const mountPoints = linuxMountPoints();
    if (mountPoints) return mountPoints.has(real);
  }
  try {
    return statSync(real).dev !== statSync(path.dirname(real)).dev;
  } catch {
    return false;
  }
}

/** The mount points of this process's mount namespace; undefined when the table cannot be read. */
function linuxMountPoints(): Set<string> | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const points = new Set<string>();
  for (const line of text.split('\n')) {
    // Fields: ID, parent ID, major:minor, root, mount point, ... (the mount point's spaces and such as \040).
    const field = line.split(' ')[4];
    if (field !== undefined) points.add(field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}
