// @ts-check
/**
 * The file work of a folder source that runs in batches, on the main thread or in the worker thread
 * (`fs-worker-thread.js`): `lstat` of many paths, and SHA-256 of many files. One copy of each, used by both threads.
 *
 * Why JavaScript with JSDoc types and not TypeScript: a worker thread loads a module by its file name, and the same
 * file must be there in `dist/` (built) and in `src/` (vitest runs the sources; Node 20 cannot load `.ts` files).
 * tsc copies this file to `dist/` (`allowJs`) and type-checks it (`// @ts-check`); eslint, dependency-cruiser and
 * knip see it like any other module. It imports nothing but Node built-ins.
 */

import crypto from 'node:crypto';
import fs from 'node:fs';

/** Numbers per path in an `lstat` result: mode, size, mtimeMs, ino, uid, gid. */
export const STAT_FIELDS = 6;
/** `mode` value of a path that no longer exists (ENOENT, ENOTDIR). */
export const STAT_GONE = -1;
/** `mode` value of a path whose `lstat` failed otherwise; the error code is in `errors`. */
export const STAT_FAILED = -2;

/** Bytes read at a time. Most documents are read whole by one read, and the read that confirms the end. */
export const READ_CHUNK = 1024 * 1024;
/** Open without blocking, so that a FIFO that replaced a file cannot hang a thread. */
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;
const NO_THROW = { throwIfNoEntry: false };
const EMPTY_SHA256 = crypto.hash('sha256', '', 'hex');

/**
 * @typedef {object} StatBatch
 * @property {Float64Array} stats `STAT_FIELDS` numbers per path, in the order of the batch.
 * @property {Record<number, string> | undefined} errors Error codes of the paths whose mode is `STAT_FAILED`, by index.
 */

/**
 * @typedef {object} HashBatch
 * @property {(string | null)[]} hashes Lower-case hex SHA-256 per path, in order; null where the file could not be read.
 * @property {Float64Array} sizes Bytes hashed per path.
 * @property {Record<number, string> | undefined} errors Error codes (`ENOENT`, `EISDIR`, ...) of the paths whose hash is null, by index.
 */

/**
 * @param {unknown} error
 * @returns {string}
 */
export function errnoCode(error) {
  const code = /** @type {NodeJS.ErrnoException | undefined} */ (error)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/**
 * `lstat` of every path, as numbers (no `fs.Stats` object per path, and a result that moves between threads
 * without a copy).
 * @param {readonly (string | Buffer)[]} paths
 * @returns {StatBatch}
 */
export function lstatBatch(paths) {
  const n = paths.length;
  const stats = new Float64Array(n * STAT_FIELDS);
  /** @type {Record<number, string> | undefined} */
  let errors;
  for (let i = 0; i < n; i++) {
    const o = i * STAT_FIELDS;
    let st;
    try {
      st = fs.lstatSync(/** @type {string | Buffer} */ (paths[i]), NO_THROW);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOTDIR') {
        stats[o] = STAT_GONE;
      } else {
        stats[o] = STAT_FAILED;
        (errors ??= {})[i] = code;
      }
      continue;
    }
    if (st === undefined) {
      stats[o] = STAT_GONE;
      continue;
    }
    stats[o] = st.mode;
    stats[o + 1] = st.size;
    stats[o + 2] = st.mtimeMs;
    stats[o + 3] = st.ino;
    stats[o + 4] = st.uid;
    stats[o + 5] = st.gid;
  }
  return { stats, errors };
}

/**
 * SHA-256 of one file's content, read synchronously in `buffer`-sized reads: the one hashing function of lanying-kb
 * (the main thread and the worker thread both use it). Small files cost an open, two reads and a close, with no
 * trip through libuv's thread pool: measured 2-3x faster than asynchronous reads on 100k small files. Throws the
 * system error (with its `code`) when the file cannot be opened or read.
 * @param {string | Buffer} path
 * @param {Buffer} buffer A reusable read buffer (`READ_CHUNK` bytes is right).
 * @returns {{ sha256: string, size: number }}
 */
export function hashFileSync(path, buffer) {
  const fd = fs.openSync(path, OPEN_FLAGS);
  try {
    let n = fs.readSync(fd, buffer, 0, buffer.length, null);
    if (n < buffer.length) {
      // Most documents: one read, then the read that confirms the end.
      const more = n === 0 ? 0 : fs.readSync(fd, buffer, n, buffer.length - n, null);
      if (more === 0) return { sha256: n === 0 ? EMPTY_SHA256 : crypto.hash('sha256', buffer.subarray(0, n), 'hex'), size: n };
      n += more;
    }
    const hash = crypto.createHash('sha256');
    let size = 0;
    for (; n > 0; n = fs.readSync(fd, buffer, 0, buffer.length, null)) {
      hash.update(buffer.subarray(0, n));
      size += n;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // A read-only descriptor: nothing was written that could be lost.
    }
  }
}

/** @type {Buffer | undefined} */
let batchBuffer;

/**
 * `hashFileSync` of every path, errors as codes.
 * @param {readonly (string | Buffer)[]} paths
 * @returns {HashBatch}
 */
export function hashBatch(paths) {
  const n = paths.length;
  /** @type {(string | null)[]} */
  const hashes = new Array(n);
  const sizes = new Float64Array(n);
  /** @type {Record<number, string> | undefined} */
  let errors;
  const buffer = (batchBuffer ??= Buffer.allocUnsafe(READ_CHUNK));
  for (let i = 0; i < n; i++) {
    try {
      const { sha256, size } = hashFileSync(/** @type {string | Buffer} */ (paths[i]), buffer);
      hashes[i] = sha256;
      sizes[i] = size;
    } catch (error) {
      hashes[i] = null;
      (errors ??= {})[i] = errnoCode(error);
    }
  }
  return { hashes, sizes, errors };
}
