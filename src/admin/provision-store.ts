import type { StateStore } from '../sync/state-store.js';

/** What `apply` records: a user it registered or a group it created. */
export type ProvisionedKind = 'user' | 'group';

/** One row of the `provisioned` table (state migration 2). */
export interface ProvisionedRecord {
  kind: ProvisionedKind;
  /** The username, or the group name from `provision.groups`. */
  name: string;
  /** The user ID or group ID the server gave. */
  remoteId: number;
  createdAt: number;
}

/**
 * The `provisioned` table of the state database: the IDs of the users `apply` registered and the groups it
 * created, so that a later run finds them instead of registering or creating them again.
 */
export class ProvisionStore {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** The recorded ID of a user or group, if `apply` made it earlier. */
  get(kind: ProvisionedKind, name: string): ProvisionedRecord | undefined {
    const row = this.#store.db
      .prepare('SELECT kind, name, remote_id AS remoteId, created_at AS createdAt FROM provisioned WHERE kind = ? AND name = ?')
      .get(kind, name) as ProvisionedRecord | undefined;
    return row;
  }

  /** Records (or replaces) the ID of a user or group. */
  put(kind: ProvisionedKind, name: string, remoteId: number, now: number = Date.now()): void {
    this.#store.db.prepare('INSERT OR REPLACE INTO provisioned (kind, name, remote_id, created_at) VALUES (?, ?, ?, ?)').run(kind, name, remoteId, now);
  }

  /** Every record, users first. */
  list(): ProvisionedRecord[] {
    return this.#store.db
      .prepare('SELECT kind, name, remote_id AS remoteId, created_at AS createdAt FROM provisioned ORDER BY kind DESC, name')
      .all() as ProvisionedRecord[];
  }
}
