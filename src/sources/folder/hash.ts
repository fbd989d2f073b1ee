/**
 * SHA-256 of a folder source's files, many at a time: the main thread and the worker thread (`fs-worker.ts`) share
 * the work through the one batch loop (`BatchPump`), and both hash with the one function `hashFileSync`
 * (`fs-batch.js`).
 *
 * Measured on 100k small files (2 cores, warm cache): synchronous open/read/close is 2-3x faster than asynchronous
 * reads through libuv's thread pool at any concurrency (the per-request overhead dominates). So small files are
 * hashed synchronously, in short time slices that yield to the event loop, here and in the worker at once; large
 * files (over 1 MiB, or of unknown size) go to the worker, one per batch, so that hashing 50 MiB never holds up the
 * event loop (this thread hashes them only when no worker can be had).
 */

import { LocalFileError } from '../../errors.js';
import { errnoCode, hashFileSync, READ_CHUNK } from './fs-batch.js';
import type { HashBatch } from './fs-batch.js';
import { BatchPump, hasSpareCore, workerRunning, type WorkerBatch } from './fs-worker.js';
import { displayPath } from './path-key.js';

/** The digest of a file's content. */
export interface FileHash {
  /** Lower-case hex SHA-256. */
  sha256: string;
  /** Bytes hashed: differs from an earlier `stat` when the file changed in between. */
  size: number;
}

/** A file for `hashFiles`: its path and, when known (from a scan), its size. */
export interface HashInput {
  fsPath: string | Buffer;
  size?: number | undefined;
}

/** Options of `hashFiles`. */
export interface HashFilesOptions {
  /** Stops hashing: `hashFiles` then rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Called as each result is known (in no particular order). */
  onResult?: ((index: number, result: FileHash | LocalFileError) => void) | undefined;
  /**
   * The worker thread: `auto` (the default) uses it when it is running already, for large files, and for 2,000 small
   * files or more on a machine with a second core; `always` whenever there are files; `never`.
   */
  worker?: 'auto' | 'always' | 'never' | undefined;
}

/** Known sizes up to this are small: hashed by either thread, in batches. */
const SMALL_MAX_BYTES = READ_CHUNK;
/** Small files to hash before a worker thread is worth starting (it takes about 30 ms to start). */
const WORKER_MIN_FILES = 2000;
/** The largest batch of small files handed to the worker. */
const MAX_BATCH = 256;
/** Fewer small files than this are all hashed here (in `auto` mode): a message to the worker would cost more. */
const MIN_SHARED = 16;

/** The read buffer of this thread (one thread, one read at a time). */
let buffer: Buffer | undefined;

function readError(path: string | Buffer, error: unknown): LocalFileError {
  const code = errnoCode(error);
  const changed = code === 'ENOENT' || code === 'ENOTDIR';
  const message = changed ? `vanished before it could be read (${code})` : `cannot be read (${code})`;
  return new LocalFileError(displayPath(path), message, { cause: error, changed });
}

/**
 * Hashes many files. Returns one result per input, in input order: the `FileHash`, or the `LocalFileError` for a
 * file that could not be read (`changed: true` when it vanished), so that one bad file does not stop the rest.
 */
export async function hashFiles(files: readonly HashInput[], options: HashFilesOptions = {}): Promise<(FileHash | LocalFileError)[]> {
  const { signal, onResult } = options;
  signal?.throwIfAborted();
  const results = new Array<FileHash | LocalFileError>(files.length);
  const settle = (index: number, result: FileHash | LocalFileError) => {
    results[index] = result;
    onResult?.(index, result);
  };
  const hashHere = (index: number) => {
    const path = (files[index] as HashInput).fsPath;
    try {
      settle(index, hashFileSync(path, (buffer ??= Buffer.allocUnsafe(READ_CHUNK))));
    } catch (error) {
      settle(index, readError(path, error));
    }
  };

  const small: number[] = [];
  const large: number[] = [];
  files.forEach((file, i) => (file.size !== undefined && file.size <= SMALL_MAX_BYTES ? small : large).push(i));
  const mode = options.worker ?? 'auto';
  const shareSmall = mode === 'always' || (mode === 'auto' && hasSpareCore() && small.length >= MIN_SHARED);
  // Few messages: a folder's worth of files is split in two halves (a message costs tens of microseconds, like a few
  // small files), a large set in batches of `MAX_BATCH`.
  const batchSize = small.length <= 2 * MAX_BATCH ? Math.max(1, Math.floor(small.length / 2)) : MAX_BATCH;
  let front = 0;
  let back = small.length;
  let nextLarge = 0;

  const batchOf = (indices: number[]): WorkerBatch<'hash'> => ({
    op: 'hash',
    paths: indices.map((i) => (files[i] as HashInput).fsPath),
    done: (reply: HashBatch) => {
      indices.forEach((index, j) => {
        const sha256 = reply.hashes[j];
        if (sha256 != null) settle(index, { sha256, size: reply.sizes[j] as number });
        else settle(index, readError((files[index] as HashInput).fsPath, Object.assign(new Error(reply.errors?.[j] ?? 'EIO'), { code: reply.errors?.[j] ?? 'EIO' })));
      });
    },
    runHere: () => indices.forEach(hashHere),
  });

  const pump: BatchPump = new BatchPump(
    {
      step() {
        if (front < back) {
          hashHere(small[front++] as number);
          return true;
        }
        // Large files here only when there is no worker to take them.
        if (!pump.hasWorker && nextLarge < large.length) {
          hashHere(large[nextLarge++] as number);
          return true;
        }
        return false;
      },
      spare() {
        if (nextLarge < large.length) return batchOf([large[nextLarge++] as number]);
        if (shareSmall && back - front >= 2 * batchSize) {
          back -= batchSize;
          return batchOf(small.slice(back, back + batchSize));
        }
        return undefined;
      },
    },
    {
      signal,
      wantWorker: () =>
        files.length > 0 && (mode === 'always' || (mode === 'auto' && (workerRunning() || large.length > 0 || (small.length >= WORKER_MIN_FILES && hasSpareCore())))),
    },
  );
  try {
    await pump.run();
  } finally {
    pump.close();
  }
  signal?.throwIfAborted();
  return results;
}
