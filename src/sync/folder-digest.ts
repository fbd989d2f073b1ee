import crypto from 'node:crypto';
import type { ObservedItem } from '../sources/types.js';

/** Changes when what goes into a digest changes, so that digests of an older lanying-kb are never trusted. */
const DIGEST_VERSION = '1';

/**
 * A digest of what a source saw in one folder: every item's key, size, time, inode and skip reason, plus `settings`
 * (the source's configuration and the target). Equal digests mean the folder looks exactly as it did when the digest
 * was recorded, so its documents need no new decision. Undefined when the folder must always be looked at: an item
 * could not be read (it may become readable without any visible change), or an item has no stat to compare.
 */
export function folderDigest(items: readonly ObservedItem[], settings: string): string | undefined {
  const parts: string[] = [DIGEST_VERSION, settings];
  for (const item of items) {
    if (item.failure !== undefined || item.skip?.code === 'unreadable') return undefined;
    if (!item.stat && !item.isFolder) return undefined;
    parts.push(`${item.key}\0${item.size}\0${item.stat?.mtimeMs ?? ''}\0${item.stat?.ino ?? ''}\0${item.skip?.code ?? ''}\0${item.skip?.reason ?? ''}`);
  }
  return crypto.hash('sha1', parts.join('\n'), 'base64');
}
