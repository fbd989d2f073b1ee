import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StateError } from '../errors.js';
import { describeFsError, guardDiskErrors, isDiskError, stateDiskError } from './disk-errors.js';
import { MIGRATIONS } from './migrations.js';
import { ProvisionedRecords } from './provisioned.js';
import { SendHistory } from './send-history.js';

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
  /**
   * The sync ID (`ext.ai.metadata.sync_id`) of the version in `uploadedHash`: the one in the knowledge base or on its
   * way, never one whose send has not succeeded (a `pending` or `failed` row keeps the one before).
   */
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
  /** The sync ID the replaced version was sent with (a moved document keeps the one of its first path). */
  prevSyncId: string | null;
  /** Since when the document's metadata (`path`, `link`) names the place it moved from; null once it follows. */
  metadataPendingSince: number | null;
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
  ['prevSyncId', 'prev_sync_id'],
  ['metadataPendingSince', 'metadata_pending_since'],
];

const KB_VERSION_COLUMNS =
  'id, target, source, key, hash, sync_id AS syncId, msg_id AS msgId, doc_id AS docId, state, reason, created_at AS createdAt, updated_at AS updatedAt';

const SELECT_COLUMNS = COLUMNS.map(([prop, col]) => (prop === col ? col : `${col} AS ${prop}`)).join(', ');

/**
 * The statuses of a document that a run acts on even when its file looks the same (sent again, retried): a folder
 * holding one is never skipped as unchanged, unless its file is skipped now (`skip_reason`: too large, left out),
 * which keeps the status of a document in the knowledge base and leaves it alone until the file changes.
 */
export const UNSETTLED_STATUSES: readonly DocumentStatus[] = ['pending', 'failed', 'refused', 'ingest-failed'];
/**
 * Records a folder's digest, unless a document of the folder is unsettled: a confirmation written between the
 * folder's sends (a failure notice tied while the folder's last send was on its way) came before the digest, so the
 * write's clearing of the digest (migration 4) cannot stand for it.
 */
const SET_FOLDER_DIGEST_SQL = `INSERT INTO folders (source, dir, digest) SELECT @source, @dir, @digest
  WHERE NOT EXISTS (SELECT 1 FROM documents INDEXED BY documents_by_dir WHERE source = @source AND dir = @dir AND status IN (${UNSETTLED_STATUSES.map((s) => `'${s}'`).join(', ')}) AND skip_reason IS NULL)
  ON CONFLICT (source, dir) DO UPDATE SET digest = excluded.digest`;

/**
 * The documents of one folder (`documentsInDir`), read through the folder index. Left to choose, SQLite takes the
 * primary key (source, key) for `source = ?` and reads every document of the source for each folder: 42 ms instead of
 * 0.9 ms a folder at 100k documents, and a first re-sync of 100k files in 3,400 folders took 140 s instead of 2.
 * (A `WITHOUT ROWID` table's secondary index holds the primary key's columns: this one is (source, dir, key).)
 */
export const DOCUMENTS_IN_DIR_SQL = `SELECT ${SELECT_COLUMNS} FROM documents INDEXED BY documents_by_dir WHERE source = @source AND dir = @dir`;
/** `DOCUMENTS_IN_DIR_SQL` for the keys in [`from`, `to`) (an absent bound is open). */
export const DOCUMENTS_IN_DIR_RANGE_SQL = `${DOCUMENTS_IN_DIR_SQL} AND (@from IS NULL OR key >= @from) AND (@to IS NULL OR key < @to)`;
/**
 * How many documents of a source went to another knowledge base than `target` (`countElsewhere`): two ranges of the
 * target index, so that a state whose documents all went to `target` (the usual case) is answered without reading them.
 */
export const COUNT_ELSEWHERE_SQL =
  'SELECT COUNT(*) FROM documents INDEXED BY documents_by_target WHERE source = @source AND (target < @target OR target > @target) AND uploaded_hash IS NOT NULL';

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
    prevSyncId: null,
    metadataPendingSince: null,
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
  readonly #byDirRange: Database.Statement;
  readonly #dirs: Database.Statement;
  readonly #one: Database.Statement;
  readonly #byUploadedHash: Database.Statement;
  readonly #anyUploaded: Database.Statement;
  readonly #folderDigest: Database.Statement;
  readonly #setFolderDigest: Database.Statement;
  readonly #forgetEmptyFolders: Database.Statement;
  /** The temporary table of `startRunContent`, made on first use. */
  #runContent: { get: Database.Statement; put: Database.Statement; end: Database.Statement; tables: Map<number, FingerprintTable>; next: number } | undefined;
  readonly #bySyncId: Database.Statement;
  readonly #byMsgId: Database.Statement;
  readonly #elsewhere: Database.Statement;
  readonly #addKbVersion: Database.Statement;
  readonly #setKbVersionState: Database.Statement;

  /** True when there is no state database yet and this store is an empty stand-in. */
  readonly isEmpty: boolean;
  /** What `lanying-kb apply` registered and created. */
  readonly provisioned: ProvisionedRecords;
  /** Documents sent and failed per hour (the status page's chart). */
  readonly sendHistory: SendHistory;

  private constructor(filepath: string, db: Database.Database, isEmpty = false) {
    this.filepath = filepath;
    this.isEmpty = isEmpty;
    // A full disk or a file made read-only surfaces as a StateError naming the file, wherever it is hit.
    db = guardDiskErrors(db, filepath);
    this.#db = db;
    this.provisioned = new ProvisionedRecords(db);
    this.sendHistory = new SendHistory(db);
    const names = [...COLUMNS.map(([, col]) => col), 'dir'];
    this.#put = db.prepare(`INSERT OR REPLACE INTO documents (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`);
    this.#delete = db.prepare('DELETE FROM documents WHERE source = ? AND key = ?');
    this.#bySource = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE source = ?`);
    this.#byDir = db.prepare(DOCUMENTS_IN_DIR_SQL);
    this.#byDirRange = db.prepare(DOCUMENTS_IN_DIR_RANGE_SQL);
    // The distinct folders of a source, one index seek each (`documents_by_dir`): `SELECT DISTINCT dir` read every
    // row's index entry, 20 ms at 100k documents in 2,500 folders against 5 ms (a loose index scan; `dir` is NOT NULL).
    this.#dirs = db
      .prepare(
        `WITH RECURSIVE dirs(dir) AS (
           SELECT (SELECT min(dir) FROM documents WHERE source = @source)
           UNION ALL
           SELECT (SELECT min(dir) FROM documents WHERE source = @source AND dir > dirs.dir) FROM dirs WHERE dirs.dir IS NOT NULL
         ) SELECT dir FROM dirs WHERE dir IS NOT NULL`,
      )
      .pluck();
    this.#one = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE source = ? AND key = ?`);
    this.#byUploadedHash = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE uploaded_hash = ?`);
    this.#anyUploaded = db.prepare('SELECT 1 FROM documents WHERE uploaded_hash IS NOT NULL LIMIT 1').pluck();
    this.#folderDigest = db.prepare('SELECT digest FROM folders WHERE source = ? AND dir = ?').pluck();
    this.#setFolderDigest = db.prepare(SET_FOLDER_DIGEST_SQL);
    this.#bySyncId = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE sync_id = ? LIMIT 1`);
    this.#byMsgId = db.prepare(`SELECT ${SELECT_COLUMNS} FROM documents WHERE msg_id = ? LIMIT 1`);
    this.#elsewhere = db.prepare(COUNT_ELSEWHERE_SQL).pluck();
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
    let creating = !existsSync(filepath);
    if (options.readonly && creating) {
      // Nothing recorded yet: an empty in-memory state, so that reading it (a dry run, status) writes no file.
      const memory = new Database(':memory:');
      migrate(memory, 0);
      return new StateStore(filepath, memory, true);
    }
    try {
      if (!options.readonly) mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StateError(stateDir, `cannot create the state folder (${describeFsError(error)})`, { cause: error });
    }
    if (!options.readonly) assertWritable(stateDir, filepath, creating);
    if (creating) {
      createState(filepath);
      creating = false;
    }

    // A database closed cleanly (and untouched since) is not checked again: the check reads every page.
    const cleanlyClosed = !creating && isCleanlyClosed(filepath);
    let db: Database.Database;
    try {
      db = new Database(filepath, { readonly: options.readonly ?? false, fileMustExist: !creating });
      if (!options.readonly) rmSync(cleanMarkerOf(filepath), { force: true });
    } catch (error) {
      if (isDiskError(error) && !/CORRUPT|NOTADB/.test(String((error as { code?: unknown }).code))) throw stateDiskError(filepath, error);
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
      if (isDiskError(error) && !/CORRUPT|NOTADB/.test(String((error as { code?: unknown }).code))) throw stateDiskError(filepath, error);
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

  /**
   * The documents of `source` directly in the folder `dir` (the part of their key before the last "/"; '' at the top);
   * with `range`, only those whose keys lie in [`from`, `to`) (SQLite's text order: UTF-8 bytes; an absent bound is open).
   */
  documentsInDir(source: string, dir: string, range?: { from?: string | undefined; to?: string | undefined }): Map<string, DocumentRecord> {
    const map = new Map<string, DocumentRecord>();
    const rows = range
      ? this.#byDirRange.iterate({ source, dir, from: range.from ?? null, to: range.to ?? null })
      : this.#byDir.iterate({ source, dir });
    for (const row of rows as IterableIterator<DocumentRecord>) map.set(row.key, row);
    return map;
  }

  /** The folders (see `documentsInDir`) that hold documents of `source`. */
  dirsOf(source: string): string[] {
    return this.#dirs.all({ source }) as string[];
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

  /**
   * Records the end of a run, then checkpoints (`checkpoint`): after every run the database file alone holds every
   * row, so a lost `-wal` file or a plain file copy loses nothing of it.
   */
  finishRun(id: number, outcome: RunOutcome, counts: Record<string, number>, error?: string, now: number = Date.now()): void {
    this.#db.prepare('UPDATE runs SET ended_at = ?, outcome = ?, counts = ?, error = ? WHERE id = ?').run(now, outcome, JSON.stringify(counts), error ?? null, id);
    this.checkpoint();
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

  /**
   * Copies the write-ahead log into the main database file, so that the file alone holds every row. `truncate` (the
   * default) also empties the log, waiting (up to the busy timeout) for readers in the middle of a read; `passive`
   * never waits and copies what no reader still needs. A no-op for a read-only store.
   */
  checkpoint(mode: 'truncate' | 'passive' = 'truncate'): void {
    if (this.#db.readonly || this.isEmpty) return;
    this.#db.pragma(mode === 'passive' ? 'wal_checkpoint(PASSIVE)' : 'wal_checkpoint(TRUNCATE)');
  }

  /**
   * Writes a consistent copy of the state database to `destination` with SQLite's online backup, safe while another
   * process (a running daemon) writes the state: the copy is one snapshot, made in one step (a backup made in pieces
   * starts over whenever another process writes meanwhile). The copy is a single file (rollback journal, mode 0600),
   * checked before it is moved into place; an existing `destination` is replaced only with `overwrite`.
   * Resolves with the copy's size in bytes.
   */
  async backup(destination: string, options: { overwrite?: boolean } = {}): Promise<{ bytes: number; documents: number }> {
    if (this.isEmpty) throw new StateError(this.filepath, 'does not exist yet: there is nothing to back up (run lanying-kb sync first)');
    const target = path.resolve(destination);
    if (target === path.resolve(this.filepath)) throw new StateError(target, 'is the state database itself; back it up to another file');
    if (!options.overwrite && existsSync(target)) throw new StateError(target, 'exists already; choose another file, or pass --force to replace it');
    const temp = `${target}.${process.pid}.tmp`;
    try {
      rmSync(temp, { force: true });
      // A transfer of every page in one step: one read snapshot (see above).
      await this.#db.backup(temp, { progress: () => 0x7fffffff });
      chmodSync(temp, 0o600);
      const copy = new Database(temp);
      let documents: number;
      try {
        copy.pragma('journal_mode = DELETE');
        const check = copy.pragma('quick_check', { simple: true });
        if (check !== 'ok') throw new StateError(target, `the copy failed its check (${String(check)}); nothing was written`);
        documents = copy.prepare('SELECT COUNT(*) FROM documents').pluck().get() as number;
      } finally {
        copy.close();
      }
      renameSync(temp, target);
      return { bytes: statSync(target).size, documents };
    } catch (error) {
      rmSync(temp, { force: true });
      rmSync(`${temp}-journal`, { force: true });
      if (error instanceof StateError) throw error;
      if (error instanceof TypeError && /directory does not exist/.test(error.message)) throw new StateError(target, 'its folder does not exist', { cause: error });
      const code = String((error as { code?: unknown }).code ?? '');
      if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) throw stateDiskError(this.filepath, error);
      throw new StateError(target, `cannot write the backup (${describeFsError(error)})`, { cause: error });
    }
  }

  /** The digest recorded for a folder of a source (see `setFolderDigest`), or undefined. */
  folderDigest(source: string, dir: string): string | undefined {
    return (this.#folderDigest.get(source, dir) as string | null | undefined) ?? undefined;
  }

  /**
   * Records a digest of what a source saw in one folder while every document in it is settled, and says whether it
   * did: not while a document of the folder is unsettled (`UNSETTLED_STATUSES`). Any later write to a document of
   * that folder clears it (state migration 4).
   */
  setFolderDigest(source: string, dir: string, digest: string): boolean {
    return this.#setFolderDigest.run({ source, dir, digest }).changes > 0;
  }

  /** A fact `source` keeps between runs (`SourceMemo`), or undefined. */
  sourceMemo(source: string, name: string): string | undefined {
    return (this.#db.prepare('SELECT value FROM source_memos WHERE source = ? AND name = ?').pluck().get(source, name) as string | undefined) ?? undefined;
  }

  setSourceMemo(source: string, name: string, value: string, now: number = Date.now()): void {
    this.#db
      .prepare('INSERT INTO source_memos (source, name, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (source, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(source, name, value, now);
  }

  /** Forgets the facts `source` keeps (all of them, or the one named); resolves with how many were forgotten. */
  forgetSourceMemos(source: string, name?: string): number {
    if (name === undefined) return this.#db.prepare('DELETE FROM source_memos WHERE source = ?').run(source).changes;
    return this.#db.prepare('DELETE FROM source_memos WHERE source = ? AND name = ?').run(source, name).changes;
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
   * Documents of a status (and target: null rows count as any), oldest send first; with `sentBefore` (`sentAfter`),
   * only those sent before (after) that time.
   */
  withStatus(status: DocumentStatus, filter: { target?: string; sentBefore?: number; sentAfter?: number; limit?: number } = {}): DocumentRecord[] {
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
    if (filter.sentAfter !== undefined) {
      where.push('uploaded_at >= ?');
      params.push(filter.sentAfter);
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

  /**
   * How many sends of `target` (or of no target yet) the server may have taken without their answer: interrupted ones
   * (`pending` with a transaction ID) and failed ones that kept their transaction ID.
   */
  countUnanswered(target: string): number {
    return this.#db
      .prepare("SELECT COUNT(*) FROM documents WHERE transaction_id IS NOT NULL AND status IN ('pending', 'failed') AND (target = ? OR target IS NULL)")
      .pluck()
      .get(target) as number;
  }

  /** How many documents of `source` the state records as sent to another knowledge base than `target`. */
  countElsewhere(source: string, target: string): number {
    return this.#elsewhere.get({ source, target }) as number;
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

  /**
   * Starts one run's record of the content it sends first (see `firstWithContent`) and returns its token. Memory stays
   * small however many documents the run sends: in the heap only a table of 64-bit fingerprints (12 bytes a slot,
   * about 24 MB for a million contents); the documents' names go to an append-only temporary table of this
   * connection (spilled to a temporary file by SQLite). `endRunContent` drops both.
   */
  startRunContent(): number {
    if (this.#runContent === undefined) {
      this.#db.exec('CREATE TEMP TABLE IF NOT EXISTS run_content (id INTEGER PRIMARY KEY, run INTEGER NOT NULL, hash TEXT NOT NULL, first TEXT NOT NULL)');
      // Rows are appended and read back only for a content seen twice: a small page cache is enough (default 16 MB).
      this.#db.pragma('temp.cache_size = -2000');
      this.#runContent = {
        get: this.#db.prepare('SELECT hash, first FROM temp.run_content WHERE id = ?'),
        put: this.#db.prepare('INSERT INTO temp.run_content (run, hash, first) VALUES (?, ?, ?)'),
        end: this.#db.prepare('DELETE FROM temp.run_content WHERE run = ?'),
        tables: new Map(),
        next: 0,
      };
    }
    const run = ++this.#runContent.next;
    this.#runContent.tables.set(run, new FingerprintTable());
    return run;
  }

  /** The document (`source:key`) that run `run` sends first with this content, if `recordFirstContent` recorded one. */
  firstWithContent(run: number, hash: string): string | undefined {
    const runContent = this.#runContent;
    const id = runContent?.tables.get(run)?.get(hash);
    if (runContent === undefined || id === undefined) return undefined;
    const row = runContent.get.get(id) as { hash: string; first: string } | undefined;
    // A fingerprint shared by two contents (odds of 1 in 2^64 a pair) is no match.
    return row?.hash === hash ? row.first : undefined;
  }

  /** Records, for run `run`, which document sends each content first (one transaction; the first record of a hash stays). */
  recordFirstContent(run: number, firsts: Iterable<[hash: string, first: string]>): void {
    const runContent = this.#runContent;
    const table = runContent?.tables.get(run);
    if (!runContent || !table) throw new Error('recordFirstContent before startRunContent');
    this.#db.transaction(() => {
      for (const [hash, first] of firsts) {
        if (table.get(hash) !== undefined) continue;
        table.set(hash, Number(runContent.put.run(run, hash, first).lastInsertRowid));
      }
    })();
  }

  /** Forgets run `run`'s record of content. */
  endRunContent(run: number): void {
    this.#runContent?.tables.delete(run);
    if (this.#db.open) this.#runContent?.end.run(run);
  }

  close(): void {
    if (!this.#db.open) return;
    const writable = !this.#db.readonly && !this.isEmpty;
    if (writable) {
      try {
        // Closing checkpoints only when no other connection (a `status`, a backup) has the file open: do it anyway.
        this.checkpoint();
      } catch {
        // The log keeps the rows; the next open or run checkpoints.
      }
    }
    this.#db.close();
    // Closing checkpointed the log into the file: record that the file is whole, so the next open skips the check.
    if (writable && !existsSync(`${this.filepath}-wal`)) markCleanlyClosed(this.filepath);
  }
}

/**
 * An open-addressing table from a string's 64-bit fingerprint (two FNV-1a hashes) to a positive number, in typed
 * arrays: 12 bytes a slot, at most half full.
 */
class FingerprintTable {
  #hi = new Uint32Array(1024);
  #lo = new Uint32Array(1024);
  #value = new Uint32Array(1024);
  #size = 0;

  get(text: string): number | undefined {
    const [hi, lo] = fingerprint(text);
    const mask = this.#value.length - 1;
    for (let i = (hi ^ lo) & mask; ; i = (i + 1) & mask) {
      const value = this.#value[i] as number;
      if (value === 0) return undefined;
      if (this.#hi[i] === hi && this.#lo[i] === lo) return value;
    }
  }

  /** `value` must be at least 1. */
  set(text: string, value: number): void {
    if ((this.#size + 1) * 2 > this.#value.length) this.#grow();
    const [hi, lo] = fingerprint(text);
    this.#put(hi, lo, value);
  }

  #put(hi: number, lo: number, value: number): void {
    const mask = this.#value.length - 1;
    for (let i = (hi ^ lo) & mask; ; i = (i + 1) & mask) {
      if (this.#value[i] === 0) {
        this.#hi[i] = hi;
        this.#lo[i] = lo;
        this.#value[i] = value;
        this.#size++;
        return;
      }
      if (this.#hi[i] === hi && this.#lo[i] === lo) return;
    }
  }

  #grow(): void {
    const [hi, lo, value] = [this.#hi, this.#lo, this.#value];
    this.#hi = new Uint32Array(hi.length * 2);
    this.#lo = new Uint32Array(hi.length * 2);
    this.#value = new Uint32Array(hi.length * 2);
    this.#size = 0;
    for (let i = 0; i < value.length; i++) if (value[i] !== 0) this.#put(hi[i] as number, lo[i] as number, value[i] as number);
  }
}

/** Two 32-bit FNV-1a hashes of a string (different offsets), as its 64-bit fingerprint. */
function fingerprint(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [a >>> 0, b >>> 0];
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

/**
 * Makes a new state database whole or not at all: the schema is built in a file beside it, which is then renamed to
 * `state.db`. A process killed while it made the state leaves no `state.db` without a schema (which the next run
 * would have to refuse, as it refuses any file that holds no state), only the side file, which the next creation
 * replaces. The caller holds the state lock.
 */
function createState(filepath: string): void {
  const temp = `${filepath}.new`;
  try {
    for (const leftover of [temp, `${temp}-journal`, `${temp}-wal`, `${temp}-shm`]) rmSync(leftover, { force: true });
    const db = new Database(temp);
    try {
      chmodSync(temp, 0o600);
      migrate(db, 0);
    } finally {
      db.close();
    }
    renameSync(temp, filepath);
  } catch (error) {
    rmSync(temp, { force: true });
    if (isDiskError(error)) throw stateDiskError(filepath, error);
    throw new StateError(filepath, `cannot create the state database (${describeSqliteError(error)})`, { cause: error });
  }
}

/**
 * Refuses, before anything is opened, a state that could be read but not written: a read-only `state.db` (its mode,
 * its owner) or a folder on a read-only file system. SQLite would open it read-only without a word and fail at the
 * first write, midway through a run.
 */
function assertWritable(stateDir: string, filepath: string, creating: boolean): void {
  for (const target of creating ? [stateDir] : [filepath, stateDir]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const where = target === stateDir ? ` (its folder ${stateDir})` : '';
      throw new StateError(
        filepath,
        `cannot be written${where}: ${describeFsError(error)}; lanying-kb must be able to write its state folder: check the owner and mode of the folder and its files, and that the file system is mounted read-write`,
        { cause: error },
      );
    }
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
