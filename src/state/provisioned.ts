import type Database from 'better-sqlite3';

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
 * created, so that a later run finds them instead of registering or creating them again. Reached as
 * `StateStore.provisioned`.
 */
export class ProvisionedRecords {
  readonly #get: Database.Statement;
  readonly #put: Database.Statement;
  readonly #list: Database.Statement;

  constructor(db: Database.Database) {
    this.#get = db.prepare('SELECT kind, name, remote_id AS remoteId, created_at AS createdAt FROM provisioned WHERE kind = ? AND name = ?');
    this.#put = db.prepare('INSERT OR REPLACE INTO provisioned (kind, name, remote_id, created_at) VALUES (?, ?, ?, ?)');
    this.#list = db.prepare('SELECT kind, name, remote_id AS remoteId, created_at AS createdAt FROM provisioned ORDER BY kind DESC, name');
  }

  /** The recorded ID of a user or group, if `apply` made it earlier. */
  get(kind: ProvisionedKind, name: string): ProvisionedRecord | undefined {
    return this.#get.get(kind, name) as ProvisionedRecord | undefined;
  }

  /** Records (or replaces) the ID of a user or group. */
  put(kind: ProvisionedKind, name: string, remoteId: number, now: number = Date.now()): void {
    this.#put.run(kind, name, remoteId, now);
  }

  /** Every record, users first. */
  list(): ProvisionedRecord[] {
    return this.#list.all() as ProvisionedRecord[];
  }
}
