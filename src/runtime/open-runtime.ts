import type { Dispatcher } from 'undici';
import type { CallEvent, LanyingClient } from '../api/client.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { acquireStateLock, type StateLock } from '../state/lock.js';
import { StateStore } from '../state/store.js';
import { createClient } from './create-client.js';

/** Options of `openRuntime`. */
export interface OpenRuntimeOptions {
  /** Named in the lock file, so that another process can say who holds the state folder. */
  command: string;
  /** Take no lock and open the state read-only (a missing state reads as empty): dry runs and reports. @default false */
  readonly?: boolean | undefined;
  /** The API client to use. @default one made from the configuration (see `createClient`) */
  client?: LanyingClient | undefined;
  /** For the client made from the configuration. */
  dispatcher?: Dispatcher | undefined;
  /** For the client made from the configuration. */
  onCall?: ((event: CallEvent) => void) | undefined;
}

/**
 * What a sync, a daemon or `apply` works with: the state folder's lock, the state database and the API client.
 * Dispose of it (`await using`, or `close()`) to close the database and release the lock.
 */
export interface Runtime extends AsyncDisposable {
  readonly store: StateStore;
  readonly client: LanyingClient;
  /** Absent for a read-only runtime. */
  readonly lock: StateLock | undefined;
  /** Runs that a process which died left `running`, now marked `aborted` (0 for a read-only runtime). */
  readonly staleRuns: number;
  close(): void;
}

/**
 * Takes the state folder's lock (a `LockError` when another sync or watch holds it), opens the state database
 * (a `StateError` when it is unusable), marks runs a dead process left open as aborted, and makes the client.
 *
 * ```ts
 * await using runtime = openRuntime(config, { command: 'sync' });
 * ```
 */
export function openRuntime(config: Pick<ResolvedConfig, 'api' | 'sync'>, options: OpenRuntimeOptions): Runtime {
  const readonly = options.readonly ?? false;
  const lock = readonly ? undefined : acquireStateLock(config.sync.stateDir, options.command);
  let store: StateStore;
  try {
    store = StateStore.open(config.sync.stateDir, { readonly });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const staleRuns = readonly ? 0 : store.abortStaleRuns();
  const client = options.client ?? createClient(config, { dispatcher: options.dispatcher, onCall: options.onCall });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      store.close();
    } finally {
      lock?.release();
    }
  };
  return { store, client, lock, staleRuns, close, [Symbol.asyncDispose]: async () => close() };
}
