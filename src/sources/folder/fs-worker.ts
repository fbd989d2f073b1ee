/**
 * A worker thread for the file work of folder sources (`lstat` and hashing, in batches), and the one loop that
 * shares such work between it and the main thread (`BatchPump`), used by the scan and by the hash alike.
 *
 * On a 100k-file tree the main thread lists folders and classifies entries while the worker makes most of the
 * `lstat` calls (the bulk of a scan's time); on a first sync both threads hash small files, and the worker takes
 * the large ones, so that a 50 MiB file never holds up the event loop. The worker runs `fs-worker-thread.js`, a real
 * module (the same functions of `fs-batch.js` the main thread runs), from `dist/` and from the sources under test alike.
 *
 * One worker serves the whole process (the scan and the hash of one run use it in turn), started on demand and
 * stopped after a few idle seconds; it is unreferenced, so it never keeps the process alive. Results are collected
 * with `receiveMessageOnPort`, synchronously, by a thread that is busy with its own work; a second port wakes a
 * caller that has nothing left to do but wait.
 */

import os from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { HashBatch, StatBatch } from './fs-batch.js';

/** What a batch asks the worker to do, and what it answers. */
export type WorkerOp = 'lstat' | 'hash';
type ReplyOf<O extends WorkerOp> = O extends 'lstat' ? StatBatch : HashBatch;

/** A batch for the worker: its paths, what to do with the answer, and how to do it here if the worker fails. */
export interface WorkerBatch<O extends WorkerOp = WorkerOp> {
  op: O;
  paths: readonly (string | Buffer)[];
  /** Takes the worker's answer (called on the thread that polls, at any time after the batch was sent). */
  done(reply: ReplyOf<O>): void;
  /** Does the batch on this thread instead (the worker died before it answered). */
  runHere(): void;
}

type Reply = { id: number; op: WorkerOp } & (StatBatch | HashBatch);

/** How long an idle worker is kept for the next batch before it is stopped. */
const IDLE_MS = 3000;

/** One worker thread, for batches of `lstat` and hashing. */
/** The worker thread's young generation (MB); see where it is started. */
const WORKER_YOUNG_GENERATION_MB = 2;

export class FsWorker {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #ping: MessagePort;
  readonly #pending = new Map<number, WorkerBatch>();
  readonly #waiters = new Set<() => void>();
  #nextId = 0;
  /** True once the worker failed or exited: batches it did not answer must be done elsewhere (`takeUnanswered`). */
  dead = false;

  constructor() {
    const data = new MessageChannel();
    const ping = new MessageChannel();
    this.#port = data.port1;
    this.#ping = ping.port1;
    this.#worker = new Worker(new URL('./fs-worker-thread.js', import.meta.url), {
      workerData: { port: data.port2, ping: ping.port2 },
      transferList: [data.port2, ping.port2],
      // Nothing of the parent's command line (loaders, test runner hooks) is needed: it only starts slower.
      execArgv: [],
      // The thread hashes and lstats: its garbage is small and short-lived. V8's default young generation (up to
      // 3 x 16 MB) is reserved for nothing here: with 2 MB a first sync of 10k files peaked at 173 MiB RSS instead of
      // 183 MiB, for the same CPU (docs/BENCHMARKS.md, "Memory").
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    this.#worker.unref();
    const stop = () => {
      this.dead = true;
      this.#wakeAll();
    };
    this.#worker.on('error', stop);
    this.#worker.on('exit', stop);
    this.#ping.on('message', () => this.#wakeAll());
    this.#ping.unref();
  }

  /** Batches sent and not answered yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Sends a batch; its `done` gets the answer when a caller polls after it arrived. */
  send(batch: WorkerBatch): void {
    const id = this.#nextId++;
    this.#pending.set(id, batch);
    this.#port.postMessage({ id, op: batch.op, paths: batch.paths });
  }

  /** Hands every answer that has arrived to its batch, without waiting; returns how many. */
  poll(): number {
    let n = 0;
    for (let received = receiveMessageOnPort(this.#port); received !== undefined; received = receiveMessageOnPort(this.#port)) {
      const reply = received.message as Reply;
      const batch = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      (batch?.done as ((reply: StatBatch | HashBatch) => void) | undefined)?.(reply);
      n++;
    }
    return n;
  }

  /** Resolves when an answer may have arrived, the worker died, or after `timeoutMs`. */
  wait(timeoutMs = 1000): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** The batches that were sent but not answered (once the worker is dead). */
  takeUnanswered(): WorkerBatch[] {
    const batches = [...this.#pending.values()];
    this.#pending.clear();
    return batches;
  }

  /** Stops the worker. */
  close(): void {
    this.dead = true;
    this.#ping.close();
    this.#port.close();
    void this.#worker.terminate();
  }
}

let shared: FsWorker | undefined;
let users = 0;
let idleTimer: NodeJS.Timeout | undefined;
/** Set once a worker could not be started: the process does without one from then on. */
let unavailable = false;

/** The process's worker (started now when there is none), or undefined when no thread can be had. */
function acquireWorker(): FsWorker | undefined {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  if (shared?.dead) {
    shared.close();
    shared = undefined;
  }
  if (shared === undefined && !unavailable) {
    try {
      shared = new FsWorker();
    } catch {
      // No thread to be had (resource limits): the main thread does it all, as on a single core.
      unavailable = true;
    }
  }
  if (shared) users++;
  return shared;
}

function releaseWorker(worker: FsWorker): void {
  if (worker !== shared) {
    worker.close();
    return;
  }
  users = Math.max(0, users - 1);
  if (users === 0) stopWhenIdle(worker);
}

function stopWhenIdle(worker: FsWorker): void {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (users > 0 || shared !== worker) return;
    // Answers to batches of pumps that were abandoned (an aborted scan) are taken and dropped.
    worker.poll();
    if (worker.inFlight > 0) return stopWhenIdle(worker);
    worker.close();
    shared = undefined;
  }, IDLE_MS);
  idleTimer.unref();
}

/** Whether the process's worker is running now (so that using it costs no start-up). */
export function workerRunning(): boolean {
  return shared !== undefined && !shared.dead;
}

/** Whether this machine has a second core for a worker to use. */
export function hasSpareCore(): boolean {
  return os.availableParallelism() > 1;
}

/** What a `BatchPump` runs: work for this thread, and batches the worker may take. */
export interface BatchWork {
  /** Does one short piece of work on this thread; false when there is none to do right now. */
  step(): boolean;
  /**
   * A batch the worker may take now, or undefined (none to spare: this thread keeps the last one, so that both
   * threads stay busy).
   */
  spare(): WorkerBatch | undefined;
}

export interface BatchPumpOptions {
  /** Stops the work: `run` then rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Asked before each step while there is no worker: whether to start one now. */
  wantWorker(): boolean;
}

/** How long the pump works before it yields to the event loop. */
const SLICE_MS = 8;
/** Batches one pump keeps in the worker at once: one being done, one waiting. */
const WORKER_DEPTH = 2;

/**
 * The one loop that shares batched file work between this thread and the worker: it keeps the worker fed (a few
 * batches at a time), does the rest here in short slices that yield to the event loop, collects the worker's
 * answers as they come, and does here what a dying worker left unanswered.
 */
export class BatchPump {
  readonly #work: BatchWork;
  readonly #options: BatchPumpOptions;
  #worker: FsWorker | undefined;
  /** This pump's batches in the worker. */
  #inFlight = 0;
  #mayStartWorker = true;

  constructor(work: BatchWork, options: BatchPumpOptions) {
    this.#work = work;
    this.#options = options;
  }

  /** Whether a worker takes batches now. */
  get hasWorker(): boolean {
    return this.#worker !== undefined && !this.#worker.dead;
  }

  /**
   * Runs until `until()` is true (then resolves true: there may be more) or there is nothing left to do here or in
   * the worker (resolves false).
   */
  async run(until: () => boolean = () => false): Promise<boolean> {
    const { signal } = this.#options;
    signal?.throwIfAborted();
    let deadline = performance.now() + SLICE_MS;
    for (;;) {
      const worker = this.#worker;
      if (worker !== undefined) {
        worker.poll();
        if (worker.dead) this.#dropWorker(worker);
      } else if (this.#mayStartWorker && this.#options.wantWorker()) {
        this.#mayStartWorker = false; // one attempt per pump
        this.#worker = acquireWorker();
      }
      if (until()) return true;
      this.#feedWorker();
      if (this.#work.step()) {
        if (performance.now() > deadline) {
          await new Promise((resolve) => setImmediate(resolve));
          signal?.throwIfAborted();
          deadline = performance.now() + SLICE_MS;
        }
        continue;
      }
      if (this.#worker !== undefined && this.#inFlight > 0) {
        await this.#worker.wait();
        signal?.throwIfAborted();
        deadline = performance.now() + SLICE_MS;
        continue;
      }
      return until();
    }
  }

  /** Gives the worker back (it stays for other pumps a while). Call once the pump is done or abandoned. */
  close(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    // Answers still on their way belong to batches nobody waits for any more.
    releaseWorker(worker);
  }

  #feedWorker(): void {
    const worker = this.#worker;
    while (worker !== undefined && !worker.dead && this.#inFlight < WORKER_DEPTH) {
      const batch = this.#work.spare();
      if (batch === undefined) return;
      this.#inFlight++;
      const done = batch.done as (reply: StatBatch | HashBatch) => void;
      worker.send({
        ...batch,
        done: (reply) => {
          this.#inFlight--;
          done(reply);
        },
        runHere: () => {
          this.#inFlight--;
          batch.runHere();
        },
      });
    }
  }

  /** The worker died: this thread does what it left, and no new one is started for this pump. */
  #dropWorker(worker: FsWorker): void {
    this.#worker = undefined;
    for (const batch of worker.takeUnanswered()) batch.runHere();
    releaseWorker(worker);
  }
}
