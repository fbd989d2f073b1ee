import crypto from 'node:crypto';
import type { ObservedItem } from '../sources/types.js';

/** Changes when what goes into a digest changes, so that digests of an older lanying-kb are never trusted. */
const DIGEST_VERSION = '3';
/** Numbers per item: the length of its text, size, time, inode. */
const NUMBERS = 4;
/** Stands for the time and inode of an item without a stat (a folder reported instead of entered). */
const NO_STAT = -1;

/**
 * A digest of what a source saw in one folder: every item's key, size, time, inode and skip reason, plus `settings`
 * (the source's configuration and the target). Equal digests mean the folder looks exactly as it did when the digest
 * was recorded, so its documents need no new decision. Undefined when the folder must always be looked at: an item
 * could not be read (it may become readable without any visible change), or an item has no stat to compare.
 *
 * Every no-op run takes one per folder part, so it is made without a text per item: the keys (with the skip, when
 * there is one) as one text, then the numbers as the bytes of a `Float64Array`. A text per item with its numbers
 * written out allocated 410 bytes a file and spent most of its time turning times into decimals. The first line
 * holds the item count and the settings' length and each item's numbers its text's length, so that the texts cannot
 * be cut apart another way (a file name may hold a line feed: "a\nb" and "c" are not "a" and "b\nc").
 */
export function folderDigest(items: readonly ObservedItem[], settings: string): string | undefined {
  const texts: string[] = new Array<string>(items.length + 2);
  texts[0] = `${DIGEST_VERSION} ${items.length} ${settings.length}`;
  texts[1] = settings;
  const numbers = new Float64Array(items.length * NUMBERS);
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as ObservedItem;
    const { stat, skip } = item;
    if (item.failure !== undefined || skip?.code === 'unreadable') return undefined;
    if (!stat && !item.isFolder) return undefined;
    const text = skip === undefined ? item.key : `${item.key}\0${skip.code}\0${skip.reason}`;
    texts[i + 2] = text;
    const o = i * NUMBERS;
    numbers[o] = text.length;
    numbers[o + 1] = item.size;
    numbers[o + 2] = stat ? stat.mtimeMs : NO_STAT;
    numbers[o + 3] = stat ? stat.ino : NO_STAT;
  }
  return crypto.createHash('sha1').update(texts.join('\n')).update(numbers).digest('base64');
}
