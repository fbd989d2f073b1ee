import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StateError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';
import { ProvisionedRecords } from './provisioned.js';

/**
 * Where a document stands (see `sync/transitions.ts` for how it moves):
 * - `pending`: a send started (its transaction ID recorded) and its outcome is not known (it is sent again, with the
 *   same transaction ID, so that the server drops a repeat);
 * - `sent`: `/message/send` accepted it; the chatbot's confirmation is awaited;
 * - `ingested`: the chatbot confirmed it (`docId` recorded);
 * - `unconfirmed`: no confirmation came within `sync.confirmTimeout`, or it could not be tied to this document: it
 *   may be in the knowledge base, it is never sent again blindly (`lanying-kb check` looks);
 * - `ingest-failed`: the chatbot could not ingest it (`lastError` holds the reason); sent again later, up to
 *   `sync.maxIngestAttempts` times;
 * - `refused`: the chatbot refused the message (its answer is in `lastError`); sent again by a later run;
 * - `failed`: the send failed (an API error); sent again by a later run;
 * - `skipped`: never sent (an unsupported type, a file too large, ...);
 * - `removed`: it left its source; its document is deleted from the knowledge base after `sync.deleteAfter`;
 * - `deleted`: it left its source and its document was deleted from the knowledge base.
 */
export type DocumentStatus = 'pending' | 'sent' | 'ingested' | 'unconfirmed' | 'ingest-failed' | 'refused' | 'failed' | 'skipped' | 'removed' | 'deleted';

/** The statuses of a document whose version `uploadedHash` is (or may be) in the knowledge base. */
export const IN_KNOWLEDGE_BASE: ReadonlySet<DocumentStatus> = new Set(['sent', 'ingested', 'unconfirmed']);
/** `file`: a file from a folder; `page`: an HTML page sent as a URL; `url-file`: a non-HTML URL sent as a file. */
export type DocumentKind = 'file' | 'page' | 'url-file';
export type RunOutcome = 'running' | 'ok' | 'partial' | 'failed' | 'aborted';

/** One row of the state: one document of one source. */
export interface DocumentRecord {
  source: string;
  /** Relative path for a folder source, the URL for a URL source. */
  key: string;
  kind: DocumentKind;
  size: number | null;
  mtimeMs: number | null;
  inode: number | null;
  /** sha256 of the content last seen (of the normalised text for a page). */
  hash: string | null;
  status: DocumentStatus;
  /** Failed attempts since the last success. */
  attempts: number;
  lastError: string | null;
  skipReason: string | null;
  /** The transaction ID the pending send carries; a re-send after a crash reuses it. */
  transactionId: number | null;
  syncId: string | null;
  /** sha256 of the version sent to the knowledge base of `target` (in it, or on its way: see `status`). */
  uploadedHash: string | null;
  /** The send's message ID (64-bit, decimal text). */
  msgId: string | null;
  downloadUrl: string | null;
  /** The chatbot's document ID, once known. */
  docId: string | null;
  uploadedAt: number | null;
  etag: string | null;
  lastModified: string | null;
  movedFrom: string | null;
  firstSeenRun: number | null;
  updatedAt: number;
  /**
   * The knowledge base the send columns (`uploadedHash`, `msgId`, `docId`, ...) refer to (see `targetKey`); null for
   * rows written before targets were recorded, which count as the configured one.
   */
  target: string | null;
  /** When the chatbot confirmed the version (`ingested`). */
  ingestedAt: number | null;
  /** Failed ingestions of the current content in a row. */
  ingestAttempts: number;
  /** `ingest-failed`: not sent again before this time. */
  retryAfter: number | null;
  /** `removed`: its document is not deleted from the knowledge base before this time (the grace period). */
  deleteAfter: number | null;
  /**
   * While a new version is on its way (`sent`): the version it replaces, still in the knowledge base until the new
   * one is ingested (then deleted), or back in place when the new one fails.
   */
  prevHash: string | null;
  prevDocId: string | null;
}

/** A version of a document that is in a knowledge base and is to go: replaced by a newer one, or failed. */
export interface KbVersionRecord {
  id: number;
  target: string | null;
  source: string;
  key: string;
  hash: string | null;
  syncId: string | null;
  msgId: string | null;
  /** Null when the chatbot never confirmed the version (its document cannot be named; `check` looks for it). */
  docId: string | null;
  /** `superseded`: deleted once the document's newer version is ingested; `delete`: to delete; `deleted`. */
  state: 'superseded' | 'delete' | 'deleted';
  reason: string;
  createdAt: number;
  updatedAt: number;
}

export interface RunRecord {
  id: number;
  mode: string;
  startedAt: number;
  endedAt: number | null;
  outcome: RunOutcome;
  counts: Record<string, number> | null;
  error: string | null;
}

export interface StatusCount {
  source: string;
  status: DocumentStatus;
  count: number;
}

/** The database file's name inside the state folder. */
export const STATE_DB_NAME = 'state.db';

const COLUMNS: readonly [keyof DocumentRecord, string][] = [
  ['source', 'source'],
  ['key', 'key'],
  ['kind', 'kind'],
  ['size', 'size'],
  ['mtimeMs', 'mtime_ms'],
  ['inode', 'inode'],
  ['hash', 'hash'],
  ['status', 'status'],
  ['attempts', 'attempts'],
  ['lastError', 'last_error'],
  ['skipReason', 'skip_reason'],
  ['transactionId', 'transaction_id'],
  ['syncId', 'sync_id'],
  ['uploadedHash', 'uploaded_hash'],
  ['msgId', 'msg_id'],
  ['downloadUrl', 'download_url'],
  ['docId', 'doc_id'],
  ['uploadedAt', 'uploaded_at'],
  ['etag', 'etag'],
  ['lastModified', 'last_modified'],
  ['movedFrom', 'moved_from'],
  ['firstSeenRun', 'first_seen_run'],
  ['updatedAt', 'updated_at'],
  ['target', 'target'],
  ['ingestedAt', 'ingested_at'],
  ['ingestAttempts', 'ingest_attempts'],
  ['retryAfter', 'retry_after'],
  ['deleteAfter', 'delete_after'],
  ['prevHash', 'prev_hash'],
  ['prevDocId', 'prev_doc_id'],
];

const KB_VERSION_COLUMNS =
  'id, target, source, key, hash, sync_id AS syncId, msg_id AS msgId, doc_id AS docId, state, reason, created_at AS createdAt, updated_at AS updatedAt';

const SELECT_COLUMNS = COLUMNS.map(([prop, col]) => (prop === col ? col : `${col} AS ${prop}`)).join(', ');

/** An empty record for a document seen for the first time. */
export function newDocumentRecord(source: string, key: string, kind: DocumentKind, now: number): DocumentRecord {
  return {
    source,
    key,
    kind,
    size: null,
    mtimeMs: null,
    inode: null,
    hash: null,
    status: 'pending',
    attempts: 0,
    lastError: null,
    skipReason: null,
    transactionId: null,
    syncId: null,
    uploadedHash: null,
    msgId: null,
    downloadUrl: null,
    docId: null,
    uploadedAt: null,
    etag: null,
    lastModified: null,
    movedFrom: null,
    firstSeenRun: null,
    updatedAt: now,
    target: null,
    ingestedAt: null,
    ingestAttempts: 0,
    retryAfter: null,
    deleteAfter: null,
    prevHash: null,
    prevDocId: null,
  };
}

/**
 * The durable sync state: a SQLite database (WAL, file mode 0600) in the state folder, with versioned migrations.
 * A document is recorded as `uploaded` only by the engine, after the chatbot's `/message/send` accepted it.
 */
export class StateStore {
  readonly filepath: string;
  readonly #db: Database.Database;
  readonly #put: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #bySource: Database.Statement;
  readonly #byDir: Database.Statement;
  readonly #dirs: Database.Statement;
  readonly #one: Database.Statement;
  readonly #byUploadedHash: Database.Statement;
  readonly #anyUploaded: Database.Statement;
  readonly #folderDigest: Database.Statement;
  readonly #setFolderDigest: Database.Statement;
  readonly #forgetEmptyFolders: Database.Statement;
  readonly #bySyncId: Database.Statement;
  readonly #byMsgId: Database.Statement;
  readonly #elsewhere: Database.Statement;
  readonly #addKbVersion: Database.Statement;
  readonly #setKbVersionState: Database.Statement;

  /** True when there is no state database yet and this store is an empty stand-in. */
  readonly isEmpty: boolean;
  /** What `lanying-kb apply` registered and created. */
  readonly provisioned: ProvisionedRecords;

  private constructor(filepath: string, db: Database.Database, isEmpty = false) {
    this.filepath = filepath;
    this.isEmpty = isEmpty;
    this.#db = db;
    this.provisioned = new ProvisionedRecords(db);
    const names = [...COLUMNS.map(([, col]) => col), 'dir'];
    this.#put = db.prepare(`INSERT OR REPLACE INTO documents (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`);
    this.#delete = db.prepare('DELETE FROM documents WHERE source = ? AND key = ?');
    this.#bySource = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE source = ?`);
    this.#byDir = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE source = ? AND dir = ?`);
    this.#dirs = db.prepare('SELECT DISTINCT dir FROM documents WHERE source = ?').pluck();
    this.#one = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE source = ? AND key = ?`);
    this.#byUploadedHash = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE uploaded_hash = ?`);
    this.#anyUploaded = db.prepare('SELECT 1 FROM documents WHERE uploaded_hash IS NOT NULL LIMIT 1').pluck();
    this.#folderDigest = db.prepare('SELECT digest FROM folders WHERE source = ? AND dir = ?').pluck();
    this.#setFolderDigest = db.prepare('INSERT INTO folders (source, dir, digest) VALUES (?, ?, ?) ON CONFLICT (source, dir) DO UPDATE SET digest = excluded.digest');
    this.#bySyncId = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE sync_id = ? LIMIT 1`);
    this.#byMsgId = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE msg_id = ? LIMIT 1`);
    this.#elsewhere = db.prepare('SELECT COUNT(*) FROM documents WHERE source = ? AND target IS NOT NULL AND target <> ? AND uploaded_hash IS NOT NULL').pluck();
    this.#addKbVersion = db.prepare(
      'INSERT INTO kb_versions (target, source, key, hash, sync_id, msg_id, doc_id, state, reason, created_at, updated_at) VALUES (@target, @source, @key, @hash, @syncId, @msgId, @docId, @state, @reason, @createdAt, @updatedAt)',
    );
    this.#setKbVersionState = db.prepare('UPDATE kb_versions SET state = ?, updated_at = ?, reason = COALESCE(?, reason) WHERE id = ?');
    this.#forgetEmptyFolders = db.prepare('DELETE FROM folders WHERE source = ? AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.source = folders.source AND d.dir = folders.dir)');
  }

  /**
   * Opens (creating when missing) the state database in `stateDir`. A file that is not a lanying-kb state database,
   * or one written by a newer version, is a `StateError` naming the file; it is never overwritten.
   */
  static open(stateDir: string, options: { readonly?: boolean } = {}): StateStore {
    const filepath = path.join(stateDir, STATE_DB_NAME);
    const creating = !existsSync(filepath);
    if (options.readonly && creating) {
      // Nothing recorded yet: an empty in-memory state, so that reading it (a dry run, status) writes no file.
      const memory = new Database(':memory:');
      migrate(memory, 0);
      return new StateStore(filepath, memory, true);
    }
    try {
      if (!options.readonly) mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StateError(stateDir, `cannot create the state folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    }

    // A database closed cleanly (and untouched since) is not checked again: the check reads every page.
    const cleanlyClosed = !creating && isCleanlyClosed(filepath);
    let db: Database.Database;
    try {
      db = new Database(filepath, { readonly: options.readonly ?? false, fileMustExist: !creating });
      if (!options.readonly) rmSync(cleanMarkerOf(filepath), { force: true });
    } catch (error) {
      throw new StateError(filepath, `cannot open the state database (${describeSqliteError(error)})`, { cause: error });
    }
    try {
      // Note: set the mode before WAL mode creates the -wal and -shm files; SQLite gives them the database's mode.
      if (creating) chmodSync(filepath, 0o600);
      db.pragma('busy_timeout = 5000');
      // Note: the schema is checked before WAL mode is set: setting it writes to the file.
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > MIGRATIONS.length) {
        throw new StateError(filepath, `was written by a newer lanying-kb (schema ${version}, this version knows ${MIGRATIONS.length}); upgrade lanying-kb`);
      }
      if (version === 0 && !creating) {
        if (hasForeignTables(db)) throw new StateError(filepath, 'is an SQLite database, but not a lanying-kb state database; move it away or set sync.stateDir');
        // An empty file (a failed copy, a disk that filled up) must not silently become a new state: every document
        // would be sent again.
        throw new StateError(filepath, 'exists but holds no lanying-kb state (an empty or unfinished file); restore it from a backup, or move it away to start afresh');
      }
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      if (version < MIGRATIONS.length) {
        if (options.readonly) throw new StateError(filepath, `needs a schema upgrade (schema ${version}); run lanying-kb sync once`);
        migrate(db, version);
      }
      const check = cleanlyClosed ? 'ok' : db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new StateError(filepath, `is damaged (${String(check)}); restore it from a backup or move it away to start afresh`);
    } catch (error) {
      db.close();
      if (error instanceof StateError) throw error;
      throw new StateError(filepath, `is not a usable state database (${describeSqliteError(error)}); it was left untouched`, { cause: error });
    }
    return new StateStore(filepath, db);
  }

  /** Runs `fn` in one transaction: all of its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /** Every document of `source`, keyed by `key`. */
  documentsOf(source: string): Map<string, DocumentRecord> {
    const map = new Map<string, DocumentRecord>();
    for (const row of this.#bySource.iterate(source) as IterableIterator<DocumentRecord>) map.set(row.key, row);
    return map;
  }

  /** The documents of `source` directly in the folder `dir` (the part of their key before the last "/"; '' at the top). */
  documentsInDir(source: string, dir: string): Map<string, DocumentRecord> {
    const map = new Map<string, DocumentRecord>();
    for (const row of this.#byDir.iterate(source, dir) as IterableIterator<DocumentRecord>) map.set(row.key, row);
    return map;
  }

  /** The folders (see `documentsInDir`) that hold documents of `source`. */
  dirsOf(source: string): string[] {
    return this.#dirs.all(source) as string[];
  }

  /** True when some document (of any source) has reached the knowledge base: moves and duplicates are possible. */
  hasUploaded(): boolean {
    return this.#anyUploaded.get() !== undefined;
  }

  get(source: string, key: string): DocumentRecord | undefined {
    return this.#one.get(source, key) as DocumentRecord | undefined;
  }

  /** Documents whose accepted version has this hash (in any source, any status). */
  findByUploadedHash(hash: string): DocumentRecord[] {
    return this.#byUploadedHash.all(hash) as DocumentRecord[];
  }

  /** Writes a whole record (insert or replace). */
  put(record: DocumentRecord): void {
    const params: Record<string, unknown> = {};
    for (const [prop, col] of COLUMNS) params[col] = record[prop];
    params.dir = dirOfKey(record.key);
    this.#put.run(params);
  }

  delete(source: string, key: string): void {
    this.#delete.run(source, key);
  }

  /** Documents matching a filter, for `status` and reports. */
  list(filter: { source?: string; status?: DocumentStatus[]; limit?: number } = {}): DocumentRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.source !== undefined) {
      where.push('source = ?');
      params.push(filter.source);
    }
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      params.push(...filter.status);
    }
    const sql = `SELECT ${SELECT_COLUMNS} FROM documents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY source, key ${
      filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ''
    }`;
    return this.#db.prepare(sql).all(...params) as DocumentRecord[];
  }

  /** How many documents each source has in each status. */
  statusCounts(): StatusCount[] {
    return this.#db.prepare('SELECT source, status, COUNT(*) AS count FROM documents GROUP BY source, status ORDER BY source, status').all() as StatusCount[];
  }

  startRun(mode: string, now: number = Date.now()): number {
    const info = this.#db.prepare("INSERT INTO runs (mode, started_at, outcome) VALUES (?, ?, 'running')").run(mode, now);
    return Number(info.lastInsertRowid);
  }

  finishRun(id: number, outcome: RunOutcome, counts: Record<string, number>, error?: string, now: number = Date.now()): void {
    this.#db.prepare('UPDATE runs SET ended_at = ?, outcome = ?, counts = ?, error = ? WHERE id = ?').run(now, outcome, JSON.stringify(counts), error ?? null, id);
  }

  /** Marks runs left `running` by a process that died as `aborted`. Call while holding the state lock. */
  abortStaleRuns(now: number = Date.now()): number {
    return this.#db.prepare("UPDATE runs SET outcome = 'aborted', ended_at = ?, error = 'the process ended before the run finished' WHERE outcome = 'running'").run(now).changes;
  }

  recentRuns(limit = 5): RunRecord[] {
    const rows = this.#db
      .prepare('SELECT id, mode, started_at AS startedAt, ended_at AS endedAt, outcome, counts, error FROM runs ORDER BY id DESC LIMIT ?')
      .all(limit) as (Omit<RunRecord, 'counts'> & { counts: string | null })[];
    return rows.map((r) => ({ ...r, counts: r.counts ? (JSON.parse(r.counts) as Record<string, number>) : null }));
  }

  /** The last run that ended `ok` or `partial`. */
  lastCompletedRun(): RunRecord | undefined {
    const row = this.#db
      .prepare("SELECT id, mode, started_at AS startedAt, ended_at AS endedAt, outcome, counts, error FROM runs WHERE outcome IN ('ok', 'partial') ORDER BY id DESC LIMIT 1")
      .get() as (Omit<RunRecord, 'counts'> & { counts: string | null }) | undefined;
    return row ? { ...row, counts: row.counts ? (JSON.parse(row.counts) as Record<string, number>) : null } : undefined;
  }

  /** Copies the write-ahead log into the main database file, so that the file alone holds every row. */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** The digest recorded for a folder of a source (see `setFolderDigest`), or undefined. */
  folderDigest(source: string, dir: string): string | undefined {
    return (this.#folderDigest.get(source, dir) as string | null | undefined) ?? undefined;
  }

  /**
   * Records a digest of what a source saw in one folder while every document in it is settled. Any later write to
   * a document of that folder clears it (state migration 4).
   */
  setFolderDigest(source: string, dir: string, digest: string): void {
    this.#setFolderDigest.run(source, dir, digest);
  }

  /** The document whose current version has this sync ID (see `syncIdOf`), if any. */
  findBySyncId(syncId: string): DocumentRecord | undefined {
    return this.#bySyncId.get(syncId) as DocumentRecord | undefined;
  }

  /** The document whose current version was sent as this message, if any. */
  findByMsgId(msgId: string): DocumentRecord | undefined {
    return this.#byMsgId.get(msgId) as DocumentRecord | undefined;
  }

  /**
   * Documents of a status (and target: null rows count as any), oldest send first; with `sentBefore`, only those
   * sent before that time.
   */
  withStatus(status: DocumentStatus, filter: { target?: string; sentBefore?: number; limit?: number } = {}): DocumentRecord[] {
    const where = ['status = ?'];
    const params: unknown[] = [status];
    if (filter.target !== undefined) {
      where.push('(target = ? OR target IS NULL)');
      params.push(filter.target);
    }
    if (filter.sentBefore !== undefined) {
      where.push('uploaded_at <= ?');
      params.push(filter.sentBefore);
    }
    const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : '';
    return this.#db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE ${where.join(' AND ')} ORDER BY uploaded_at, source, key${limit}`).all(...params) as DocumentRecord[];
  }

  /** How many documents of a status (and target) there are. */
  countWithStatus(statuses: readonly DocumentStatus[], target?: string): number {
    const where = [`status IN (${statuses.map(() => '?').join(', ')})`];
    const params: unknown[] = [...statuses];
    if (target !== undefined) {
      where.push('(target = ? OR target IS NULL)');
      params.push(target);
    }
    return this.#db.prepare(`SELECT COUNT(*) FROM documents WHERE ${where.join(' AND ')}`).pluck().get(...params) as number;
  }

  /** How many documents of `source` the state records as sent to another knowledge base than `target`. */
  countElsewhere(source: string, target: string): number {
    return this.#elsewhere.get(source, target) as number;
  }

  /** Records a version that is to go from the knowledge base (replaced, or failed); returns its ID. */
  addKbVersion(version: Omit<KbVersionRecord, 'id'>): number {
    const info = this.#addKbVersion.run({ ...version });
    return Number(info.lastInsertRowid);
  }

  /** Versions to go, by state (oldest first), optionally of one document. */
  kbVersions(filter: { states?: readonly KbVersionRecord['state'][]; source?: string; key?: string } = {}): KbVersionRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states?.length) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      params.push(...filter.states);
    }
    if (filter.source !== undefined) {
      where.push('source = ?');
      params.push(filter.source);
    }
    if (filter.key !== undefined) {
      where.push('key = ?');
      params.push(filter.key);
    }
    const sql = `SELECT ${KB_VERSION_COLUMNS} FROM kb_versions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return this.#db.prepare(sql).all(...params) as KbVersionRecord[];
  }

  /** Moves a version to another state. */
  setKbVersionState(id: number, state: KbVersionRecord['state'], now: number, reason?: string): void {
    this.#setKbVersionState.run(state, now, reason ?? null, id);
  }

  /** Forgets the recorded versions of one document, or of every document of `source`; how many. */
  deleteKbVersions(source: string, key?: string): number {
    if (key === undefined) return this.#db.prepare('DELETE FROM kb_versions WHERE source = ?').run(source).changes;
    return this.#db.prepare('DELETE FROM kb_versions WHERE source = ? AND key = ?').run(source, key).changes;
  }

  /** The names of the sources the state holds documents of. */
  sourceNames(): string[] {
    return this.#db.prepare('SELECT DISTINCT source FROM documents ORDER BY source').pluck().all() as string[];
  }

  /** Forgets the folder records of `source` whose folder holds no document any more. */
  forgetEmptyFolders(source: string): void {
    this.#forgetEmptyFolders.run(source);
  }

  close(): void {
    if (!this.#db.open) return;
    const writable = !this.#db.readonly && !this.isEmpty;
    this.#db.close();
    // Closing checkpointed the log into the file: record that the file is whole, so the next open skips the check.
    if (writable && !existsSync(`${this.filepath}-wal`)) markCleanlyClosed(this.filepath);
  }
}

/** The folder part of a key: everything before its last "/" ('' when there is none). */
export function dirOfKey(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

/** The file beside the database that says it was closed cleanly: its size, time and inode at that moment. */
function cleanMarkerOf(filepath: string): string {
  return `${filepath}-clean`;
}

function markCleanlyClosed(filepath: string): void {
  try {
    const st = statSync(filepath);
    writeFileSync(cleanMarkerOf(filepath), JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }), { mode: 0o600 });
  } catch {
    // Without the marker the next open checks the file: slower, never wrong.
  }
}

/** Whether the database was closed cleanly and not changed since (same size, time and inode as then). */
function isCleanlyClosed(filepath: string): boolean {
  try {
    const marker = JSON.parse(readFileSync(cleanMarkerOf(filepath), 'utf8')) as { size?: unknown; mtimeMs?: unknown; ino?: unknown };
    const st = statSync(filepath);
    return marker.size === st.size && marker.mtimeMs === st.mtimeMs && marker.ino === st.ino && !existsSync(`${filepath}-wal`);
  } catch {
    return false;
  }
}

function migrate(db: Database.Database, from: number): void {
  for (let version = from; version < MIGRATIONS.length; version++) {
    const step = MIGRATIONS[version] as (db: Database.Database) => void;
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

function hasForeignTables(db: Database.Database): boolean {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
  return tables.length > 0;
}

function describeSqliteError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB') return 'not an SQLite database';
  if (code === 'SQLITE_CORRUPT') return 'the database is corrupt';
  return code ? `${code}: ${message}` : message;
}
