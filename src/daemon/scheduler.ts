import { type LongTimer, setLongTimeout } from '../util/timers.js';

/** One unit of the daemon's work. Jobs run one at a time. */
export type Job =
  /** A reconcile of some sources, or of every enabled one (`sources: null`). */
  | { kind: 'reconcile'; sources: string[] | null; reasons: string[] }
  /** A new check of URL sources (conditional GETs). */
  | { kind: 'refresh'; sources: string[] }
  /** Changed paths of one folder source. */
  | { kind: 'paths'; source: string; paths: string[] }
  /** Anything else that must not overlap an engine operation (a reload). */
  | { kind: 'task'; name: string; run: (signal: AbortSignal) => Promise<void> };

/** Options of `Scheduler`. */
export interface SchedulerOptions {
  /** Runs one job; `signal` fires when the daemon stops. */
  execute: (job: Job, signal: AbortSignal) => Promise<void>;
  /** A job (other than a task) threw. */
  onError: (job: Job, error: unknown) => void;
  /** Most paths handed to one batch. @default 1000 */
  maxBatch?: number | undefined;
  /** For the refresh jitter. @default Math.random */
  random?: (() => number) | undefined;
  /** @default Date.now */
  now?: (() => number) | undefined;
  /** Keep path batches waiting until `releasePaths()` (the daemon's first reconcile). @default false */
  holdPaths?: boolean | undefined;
}

interface Current {
  job: Job;
  controller: AbortController;
  promise: Promise<void>;
}

/**
 * Decides what the daemon does next and makes sure only one engine operation runs at a time. Work that arrives
 * meanwhile accumulates: paths per source (each once), reconcile requests per source (or for all), URL refreshes.
 * Priority: tasks (reload), then a full reconcile, then source reconciles, URL refreshes, and path batches (sources
 * taken in turn). A reconcile that starts takes over the paths already waiting for its sources: its scan sees them.
 */
export class Scheduler {
  readonly #execute: SchedulerOptions['execute'];
  readonly #onError: SchedulerOptions['onError'];
  readonly #maxBatch: number;
  readonly #random: () => number;
  readonly #now: () => number;

  #fullDue: string[] | undefined;
  readonly #sourceDue = new Map<string, string[]>();
  readonly #refreshDue = new Set<string>();
  readonly #paths = new Map<string, Set<string>>();
  readonly #tasks: { job: Extract<Job, { kind: 'task' }>; resolve: () => void; reject: (error: unknown) => void }[] = [];

  // Note: every timer is a long one: intervals and delays come from the configuration and may exceed 24.8 days.
  readonly #debounce = new Map<string, LongTimer>();
  #intervalMs: number | undefined;
  #intervalTimer: LongTimer | undefined;
  #nextFullAt: number | undefined;
  readonly #refreshTimers = new Map<string, { timer: LongTimer | undefined; at: number }>();

  #current: Current | undefined;
  #closed = false;
  #holdPaths: boolean;
  #idleWaiters: (() => void)[] = [];

  constructor(options: SchedulerOptions) {
    this.#execute = options.execute;
    this.#onError = options.onError;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#holdPaths = options.holdPaths ?? false;
  }

  /** Lets path batches run (they were held until the first reconcile). */
  releasePaths(): void {
    this.#holdPaths = false;
    this.#kick();
  }

  /** The job running now. */
  get current(): Job | undefined {
    return this.#current?.job;
  }

  /**
   * Asks for a reconcile of `source` (null: every enabled source). With `delayMs`, the request waits that long and
   * each new request for the same source starts the wait again (debounced).
   */
  requestReconcile(source: string | null, reason: string, delayMs = 0): void {
    if (this.#closed) return;
    const key = source ?? '*';
    if (delayMs > 0) {
      this.#debounce.get(key)?.clear();
      this.#debounce.set(
        key,
        setLongTimeout(() => {
          this.#debounce.delete(key);
          this.requestReconcile(source, reason, 0);
        }, delayMs),
      );
      return;
    }
    if (source === null) (this.#fullDue ??= []).push(reason);
    else {
      const reasons = this.#sourceDue.get(source) ?? [];
      // Stryker disable next-line ConditionalExpression: the job's reasons are deduplicated anyway; this keeps the list short while requests pile up
      if (!reasons.includes(reason)) reasons.push(reason);
      this.#sourceDue.set(source, reasons);
    }
    this.#kick();
  }

  /** Asks for a new check of a URL source now. */
  requestRefresh(source: string): void {
    if (this.#closed) return;
    this.#refreshDue.add(source);
    this.#kick();
  }

  /** Changed paths of a folder source, to hand to the engine in a batch. */
  addPaths(source: string, paths: Iterable<string>): void {
    if (this.#closed) return;
    let set = this.#paths.get(source);
    if (!set) this.#paths.set(source, (set = new Set()));
    for (const p of paths) set.add(p);
    if (set.size === 0) this.#paths.delete(source);
    this.#kick();
  }

  /** Runs `run` alone, before any other waiting work; resolves or rejects with it. */
  runTask(name: string, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the daemon is stopping'));
    return new Promise((resolve, reject) => {
      this.#tasks.push({ job: { kind: 'task', name, run }, resolve, reject });
      this.#kick();
    });
  }

  /** Forgets everything waiting for a source (removed from the configuration). */
  dropSource(source: string): void {
    this.#paths.delete(source);
    this.#sourceDue.delete(source);
    this.#refreshDue.delete(source);
    this.#debounce.get(source)?.clear();
    this.#debounce.delete(source);
    this.cancelRefresh(source);
  }

  /** Paths waiting for a batch, of one source or of all. */
  pendingPaths(source?: string): number {
    if (source !== undefined) return this.#paths.get(source)?.size ?? 0;
    let n = 0;
    for (const set of this.#paths.values()) n += set.size;
    return n;
  }

  /** A full reconcile every `ms` (counted from the end of the last one). */
  setReconcileInterval(ms: number): void {
    this.#intervalMs = ms;
    this.#armInterval();
  }

  /** When the next periodic full reconcile is due (epoch ms). */
  get nextReconcileAt(): number | undefined {
    return this.#nextFullAt;
  }

  /** Checks a URL source again in `ms`, give or take 10 % (so that sources and daemons spread out). */
  scheduleRefresh(source: string, ms: number): void {
    if (this.#closed) return;
    this.cancelRefresh(source);
    const delay = Math.max(0, Math.round(ms * (0.9 + 0.2 * this.#random())));
    const at = this.#now() + delay;
    const timer = setLongTimeout(() => {
      // Note: the due time stays known while the check waits and runs, until the check schedules the next one.
      this.#refreshTimers.set(source, { timer: undefined, at });
      this.requestRefresh(source);
    }, delay);
    this.#refreshTimers.set(source, { timer, at });
  }

  cancelRefresh(source: string): void {
    const entry = this.#refreshTimers.get(source);
    entry?.timer?.clear();
    this.#refreshTimers.delete(source);
  }

  /** When a URL source is checked next (epoch ms); a time in the past while that check waits or runs. */
  nextRefreshAt(source: string): number | undefined {
    return this.#refreshTimers.get(source)?.at;
  }

  /** Resolves when no job runs and none is waiting (timers aside). */
  whenIdle(): Promise<void> {
    if (!this.#current && !this.#hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops every timer and takes no new work; returns the running job's end. Waiting tasks are rejected. */
  close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#debounce.values()) timer.clear();
    this.#debounce.clear();
    this.#intervalTimer?.clear();
    this.#nextFullAt = undefined;
    for (const { timer } of this.#refreshTimers.values()) timer?.clear();
    this.#refreshTimers.clear();
    for (const task of this.#tasks.splice(0)) task.reject(new Error('the daemon is stopping'));
    this.#paths.clear();
    this.#sourceDue.clear();
    this.#refreshDue.clear();
    this.#fullDue = undefined;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    return this.#current?.promise ?? Promise.resolve();
  }

  /** Aborts the running job (its signal fires). */
  abortCurrent(reason?: unknown): void {
    this.#current?.controller.abort(reason);
  }

  #hasWork(): boolean {
    return this.#tasks.length > 0 || this.#fullDue !== undefined || this.#sourceDue.size > 0 || this.#refreshDue.size > 0 || (this.#paths.size > 0 && !this.#holdPaths);
  }

  #armInterval(): void {
    this.#intervalTimer?.clear();
    this.#intervalTimer = undefined;
    this.#nextFullAt = undefined;
    if (this.#closed || this.#intervalMs === undefined || this.#intervalMs <= 0) return;
    this.#nextFullAt = this.#now() + this.#intervalMs;
    this.#intervalTimer = setLongTimeout(() => this.requestReconcile(null, 'periodic'), this.#intervalMs);
  }

  #next(): Job | undefined {
    const task = this.#tasks[0];
    if (task) return task.job;
    if (this.#fullDue) {
      const reasons = [...new Set(this.#fullDue)];
      this.#fullDue = undefined;
      // Covered by this reconcile's scan: what waits now, and the debounced per-source requests.
      this.#sourceDue.clear();
      this.#refreshDue.clear();
      this.#paths.clear();
      for (const [key, timer] of this.#debounce) {
        if (key === '*') continue;
        timer.clear();
        this.#debounce.delete(key);
      }
      return { kind: 'reconcile', sources: null, reasons };
    }
    if (this.#sourceDue.size > 0) {
      const sources = [...this.#sourceDue.keys()];
      const reasons = [...new Set([...this.#sourceDue.values()].flat())];
      this.#sourceDue.clear();
      for (const source of sources) {
        this.#paths.delete(source);
        this.#refreshDue.delete(source);
      }
      return { kind: 'reconcile', sources, reasons };
    }
    if (this.#refreshDue.size > 0) {
      const sources = [...this.#refreshDue];
      this.#refreshDue.clear();
      return { kind: 'refresh', sources };
    }
    if (this.#holdPaths) return undefined;
    // Sources in turn: the first in the map, moved to the end when it still has paths left.
    for (const [source, set] of this.#paths) {
      const paths: string[] = [];
      for (const p of set) {
        if (paths.length >= this.#maxBatch) break;
        paths.push(p);
        set.delete(p);
      }
      this.#paths.delete(source);
      if (set.size > 0) this.#paths.set(source, set);
      return { kind: 'paths', source, paths };
    }
    return undefined;
  }

  #kick(): void {
    if (this.#closed || this.#current) return;
    const job = this.#next();
    if (!job) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
      return;
    }
    // Stryker disable next-line ConditionalExpression: tasks go first, so none waits when another kind of job starts
    const task = job.kind === 'task' ? this.#tasks.shift() : undefined;
    const controller = new AbortController();
    const promise = (async () => {
      try {
        if (job.kind === 'task') await job.run(controller.signal);
        else await this.#execute(job, controller.signal);
        task?.resolve();
      } catch (error) {
        if (task) task.reject(error);
        else this.#onError(job, error);
      }
    })();
    this.#current = { job, controller, promise };
    void promise.then(() => {
      this.#current = undefined;
      // Stryker disable next-line ConditionalExpression: only a reconcile job has sources: null
      if (job.kind === 'reconcile' && job.sources === null) this.#armInterval();
      // Let timers and I/O callbacks run between jobs.
      setImmediate(() => this.#kick());
    });
  }
}
