/**
 * A worker thread that runs `lstat`, or hashes files, in batches of paths, so that a large scan or a large first
 * hash uses a second core: on a 100k-file tree the main thread lists folders and classifies entries while the
 * worker makes most of the `lstat` calls (the bulk of a scan's time), and both threads hash small files. The code is a self-contained string (only `node:fs` and
 * `node:worker_threads`), so it runs the same from `dist/`, from TypeScript sources and under test runners.
 *
 * Results are collected with `receiveMessageOnPort`, synchronously, by a caller that is busy with its own
 * work; a second port wakes a caller that has nothing left to do but wait (`wait()`).
 */

import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

/** Numbers per path in a result: mode, size, mtimeMs, ino, uid, gid. */
export const STAT_FIELDS = 6;
/** `mode` value of a path that no longer exists (ENOENT, ENOTDIR). */
export const STAT_GONE = -1;
/** `mode` value of a path whose `lstat` failed otherwise; the error code is in `errors`. */
export const STAT_FAILED = -2;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { port, ping } = workerData;
const options = { throwIfNoEntry: false };
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;
let buffer;
function hashBatch(batch) {
  const paths = batch.paths;
  const n = paths.length;
  const hashes = new Array(n);
  const sizes = new Float64Array(n);
  let errors;
  buffer ??= Buffer.allocUnsafe(1024 * 1024);
  for (let i = 0; i < n; i++) {
    let fd;
    try {
      fd = fs.openSync(paths[i], OPEN_FLAGS);
      const hash = crypto.createHash('sha256');
      let size = 0;
      for (let r = fs.readSync(fd, buffer, 0, buffer.length, null); r > 0; r = fs.readSync(fd, buffer, 0, buffer.length, null)) {
        hash.update(buffer.subarray(0, r));
        size += r;
      }
      hashes[i] = hash.digest('hex');
      sizes[i] = size;
    } catch (error) {
      hashes[i] = null;
      (errors ??= {})[i] = (error && error.code) || 'EIO';
    } finally {
      if (fd !== undefined) try { fs.closeSync(fd); } catch {}
    }
  }
  port.postMessage({ id: batch.id, op: 'hash', hashes, sizes, errors }, [sizes.buffer]);
  ping.postMessage(0);
}
port.on('message', (batch) => {
  if (batch.op === 'hash') return hashBatch(batch);
  const paths = batch.paths;
  const n = paths.length;
  const stats = new Float64Array(n * ${STAT_FIELDS});
  let errors;
  for (let i = 0; i < n; i++) {
    const o = i * ${STAT_FIELDS};
    let st;
    try {
      st = fs.lstatSync(paths[i], options);
    } catch (error) {
      const code = (error && error.code) || 'EIO';
      if (code === 'ENOTDIR') {
        stats[o] = ${STAT_GONE};
      } else {
        stats[o] = ${STAT_FAILED};
        (errors ??= {})[i] = code;
      }
      continue;
    }
    if (st === undefined) {
      stats[o] = ${STAT_GONE};
      continue;
    }
    stats[o] = st.mode;
    stats[o + 1] = st.size;
    stats[o + 2] = st.mtimeMs;
    stats[o + 3] = st.ino;
    stats[o + 4] = st.uid;
    stats[o + 5] = st.gid;
  }
  port.postMessage({ id: batch.id, op: 'lstat', stats, errors }, [stats.buffer]);
  ping.postMessage(0);
});
`;

/** The answer to one batch of `lstat` calls. */
export interface StatBatchResult<T> {
  op: 'lstat';
  /** What the caller sent along with the batch. */
  tag: T;
  /** `STAT_FIELDS` numbers per path, in the order of the batch. */
  stats: Float64Array;
  /** Error codes of the paths whose mode is `STAT_FAILED`, by index. */
  errors: Record<number, string> | undefined;
}

/** The answer to one batch of files to hash. */
export interface HashBatchResult<T> {
  op: 'hash';
  tag: T;
  /** Lower-case hex SHA-256 per path, in the order of the batch; null where the file could not be read. */
  hashes: (string | null)[];
  /** Bytes hashed per path. */
  sizes: Float64Array;
  /** Error codes (`ENOENT`, `EACCES`, ...) of the paths whose hash is null, by index. */
  errors: Record<number, string> | undefined;
}

type Reply = { id: number } & (Omit<StatBatchResult<unknown>, 'tag'> | Omit<HashBatchResult<unknown>, 'tag'>);

/**
 * One worker thread for `lstat` and hashing batches. Unreferenced: it never keeps the process alive. Call
 * `close()` when done.
 */
export class FsWorker<T> {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ping: MessagePort;
  private readonly pending = new Map<number, T>();
  private nextId = 0;
  private wake: (() => void) | undefined;
  /** True once the worker failed or exited: unanswered batches must be done elsewhere (`takeUnanswered`). */
  dead = false;

  constructor() {
    const data = new MessageChannel();
    const ping = new MessageChannel();
    this.port = data.port1;
    this.ping = ping.port1;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: data.port2, ping: ping.port2 },
      transferList: [data.port2, ping.port2],
      // Nothing of the parent's command line (loaders, test runner hooks) is needed: it only starts slower.
      execArgv: [],
    });
    this.worker.unref();
    const stop = () => {
      this.dead = true;
      this.wake?.();
    };
    this.worker.on('error', stop);
    this.worker.on('exit', stop);
    this.ping.on('message', () => this.wake?.());
    this.ping.unref();
  }

  /** Batches sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a batch of paths to `lstat`; `tag` comes back with its result. */
  send(paths: readonly (string | Buffer)[], tag: T): void {
    this.post('lstat', paths, tag);
  }

  /** Sends a batch of files to hash; `tag` comes back with its result. */
  sendHash(paths: readonly (string | Buffer)[], tag: T): void {
    this.post('hash', paths, tag);
  }

  private post(op: 'lstat' | 'hash', paths: readonly (string | Buffer)[], tag: T): void {
    const id = this.nextId++;
    this.pending.set(id, tag);
    this.port.postMessage({ id, op, paths });
  }

  /** The next result that has arrived, without waiting; `undefined` when there is none yet. */
  poll(): StatBatchResult<T> | HashBatchResult<T> | undefined {
    const received = receiveMessageOnPort(this.port);
    if (received === undefined) return undefined;
    const reply = received.message as Reply;
    const tag = this.pending.get(reply.id) as T;
    this.pending.delete(reply.id);
    return { ...reply, tag };
  }

  /** Resolves when a result may have arrived, the worker died, or after `timeoutMs`. */
  wait(timeoutMs = 1000): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.wake = done;
    });
  }

  /** The tags of the batches that were sent but not answered (once the worker is dead). */
  takeUnanswered(): T[] {
    const tags = [...this.pending.values()];
    this.pending.clear();
    return tags;
  }

  /** Stops the worker. */
  close(): void {
    this.dead = true;
    this.ping.close();
    this.port.close();
    void this.worker.terminate();
  }
}
