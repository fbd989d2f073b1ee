import type { Database } from 'better-sqlite3';

/**
 * Versioned schema migrations of the state database. The database's `user_version` is the number of migrations
 * applied. Never edit a migration that has shipped: add a new one.
 */
export const MIGRATIONS: readonly ((db: Database) => void)[] = [
  // 1: documents and runs.
  (db) => {
    db.exec(`
      CREATE TABLE documents (
        source          TEXT    NOT NULL,
        key             TEXT    NOT NULL,
        kind            TEXT    NOT NULL,          -- file | page | url-file
        size            INTEGER,
        mtime_ms        REAL,
        inode           INTEGER,
        hash            TEXT,                      -- sha256 of the content last seen (normalised text for pages)
        status          TEXT    NOT NULL,          -- pending | uploaded | failed | skipped | removed
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        skip_reason     TEXT,
        transaction_id  INTEGER,                   -- carried by the pending send; reused by a re-send after a crash
        sync_id         TEXT,                      -- identifies one version of one document
        uploaded_hash   TEXT,                      -- hash of the version the chatbot accepted
        msg_id          INTEGER,
        download_url    TEXT,
        doc_id          TEXT,                      -- the chatbot's document ID (filled by a later capability)
        uploaded_at     INTEGER,
        etag            TEXT,
        last_modified   TEXT,
        moved_from      TEXT,
        first_seen_run  INTEGER,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (source, key)
      ) WITHOUT ROWID;
      CREATE INDEX documents_by_uploaded_hash ON documents (uploaded_hash);
      CREATE INDEX documents_by_status ON documents (status);
      CREATE TABLE runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        mode        TEXT    NOT NULL,              -- sync | dry-run | reconcile | watch
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER,
        outcome     TEXT    NOT NULL,              -- running | ok | partial | failed | aborted
        counts      TEXT,                          -- JSON
        error       TEXT
      );
    `);
  },
  // 2: what `lanying-kb apply` created (users it registered, groups it created), so a later run finds them.
  (db) => {
    db.exec(`
      CREATE TABLE provisioned (
        kind        TEXT    NOT NULL,              -- user | group
        name        TEXT    NOT NULL,              -- the username, or the group name from provision.groups
        remote_id   INTEGER NOT NULL,              -- the user ID or group ID the server gave
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (kind, name)
      ) WITHOUT ROWID;
    `);
  },
  // 3: documents.msg_id as TEXT. Message IDs are 64-bit; an INTEGER column would turn the decimal text back into a
  // number that JavaScript reads rounded above 2^53. SQLite cannot change a column's type: the table is rebuilt.
  (db) => {
    const columns = (db.prepare('SELECT name FROM pragma_table_info(?)').all('documents') as { name: string }[]).map((c) => c.name);
    const select = columns.map((c) => (c === 'msg_id' ? 'CAST(msg_id AS TEXT)' : c)).join(', ');
    const definition = (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'documents'").get() as { sql: string }).sql;
    const rebuilt = definition.replace(/^CREATE TABLE documents\b/, 'CREATE TABLE documents_v3').replace(/\bmsg_id(\s+)INTEGER\b/, 'msg_id$1TEXT   ');
    if (rebuilt === definition || !/\bmsg_id\s+TEXT\b/.test(rebuilt)) throw new Error('migration 3: unexpected documents table definition');
    db.exec(rebuilt);
    db.exec(`INSERT INTO documents_v3 (${columns.join(', ')}) SELECT ${select} FROM documents`);
    db.exec('DROP TABLE documents');
    db.exec('ALTER TABLE documents_v3 RENAME TO documents');
    db.exec('CREATE INDEX documents_by_uploaded_hash ON documents (uploaded_hash)');
    db.exec('CREATE INDEX documents_by_status ON documents (status)');
  },
  // 4: the folder of each document (everything before the key's last "/"), so that a folder's documents are read
  // without reading the whole source.
  (db) => {
    db.exec(`
      ALTER TABLE documents ADD COLUMN dir TEXT NOT NULL DEFAULT '';
      UPDATE documents SET dir = rtrim(key, replace(key, '/', '')) WHERE instr(key, '/') > 0;
      UPDATE documents SET dir = substr(dir, 1, length(dir) - 1) WHERE dir <> '';
      CREATE INDEX documents_by_dir ON documents (source, dir);
    `);
  },
  // 5: folder digests: a digest of what a folder source saw in one folder when every document in it was settled, so
  // that an unchanged folder is not read from the state again. Any write to a document of the folder clears its
  // digest (the triggers), so a digest never outlives the rows it vouches for.
  (db) => {
    db.exec(`
      CREATE TABLE folders (
        source      TEXT    NOT NULL,
        dir         TEXT    NOT NULL,
        digest      TEXT,
        PRIMARY KEY (source, dir)
      ) WITHOUT ROWID;
      CREATE TRIGGER documents_insert_clears_digest AFTER INSERT ON documents BEGIN
        UPDATE folders SET digest = NULL WHERE source = NEW.source AND dir = NEW.dir AND digest IS NOT NULL;
      END;
      CREATE TRIGGER documents_update_clears_digest AFTER UPDATE ON documents BEGIN
        UPDATE folders SET digest = NULL WHERE source = OLD.source AND dir = OLD.dir AND digest IS NOT NULL;
        UPDATE folders SET digest = NULL WHERE source = NEW.source AND dir = NEW.dir AND digest IS NOT NULL;
      END;
      CREATE TRIGGER documents_delete_clears_digest AFTER DELETE ON documents BEGIN
        UPDATE folders SET digest = NULL WHERE source = OLD.source AND dir = OLD.dir AND digest IS NOT NULL;
      END;
    `);
  },
  // 6: the knowledge-base lifecycle: which knowledge base a document's send columns refer to, its confirmation and
  // deletion times, the version a new one replaces while it is on its way, and the old versions still to delete.
  // Rows sent before confirmations existed become `unconfirmed` (`lanying-kb check --adopt` finds their documents).
  (db) => {
    db.exec(`
      ALTER TABLE documents ADD COLUMN target TEXT;
      ALTER TABLE documents ADD COLUMN ingested_at INTEGER;
      ALTER TABLE documents ADD COLUMN ingest_attempts INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE documents ADD COLUMN retry_after INTEGER;
      ALTER TABLE documents ADD COLUMN delete_after INTEGER;
      ALTER TABLE documents ADD COLUMN prev_hash TEXT;
      ALTER TABLE documents ADD COLUMN prev_doc_id TEXT;
      UPDATE documents SET status = 'unconfirmed' WHERE status = 'uploaded';
      CREATE TABLE kb_versions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        target      TEXT,
        source      TEXT    NOT NULL,
        key         TEXT    NOT NULL,
        hash        TEXT,
        sync_id     TEXT,
        msg_id      TEXT,
        doc_id      TEXT,                          -- null: never confirmed (check looks for it)
        state       TEXT    NOT NULL,              -- superseded | delete | deleted
        reason      TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE INDEX documents_by_sync_id ON documents (sync_id);
      CREATE INDEX documents_by_msg_id ON documents (msg_id);
      CREATE INDEX kb_versions_by_document ON kb_versions (source, key);
      CREATE INDEX kb_versions_by_state ON kb_versions (state);
    `);
  },
  // 7: the send history: per clock hour (hours since the epoch, UTC), the documents sent and failed, for the status
  // page's 24-hour chart. One row per hour with any activity; rows older than a month are dropped as new hours start.
  (db) => {
    db.exec(`
      CREATE TABLE send_hours (
        hour        INTEGER NOT NULL PRIMARY KEY,  -- floor(ms since the epoch / 3600000)
        sent        INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `);
  },
  // 8: the sync ID of the version a new one replaces (with prev_hash and prev_doc_id): a document that moved keeps
  // the sync ID of the path it was sent from, so it cannot be computed from the current path.
  (db) => {
    db.exec('ALTER TABLE documents ADD COLUMN prev_sync_id TEXT;');
  },
  // 9: since when a moved document's metadata still names its old place (every run sets it again until it follows).
  (db) => {
    db.exec('ALTER TABLE documents ADD COLUMN metadata_pending_since INTEGER;');
  },
  // 10: small facts a source keeps between runs, by name (a folder source's root: its device and whether it was a
  // mount point when last seen, so that an unmounted folder is never read as "every document removed").
  (db) => {
    db.exec(`
      CREATE TABLE source_memos (
        source      TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        value       TEXT    NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (source, name)
      ) WITHOUT ROWID;
    `);
  },
  // 11: the knowledge base each document was sent to, by source: every run asks whether a source has documents in
  // another one (`countElsewhere`), which read every row of the source (45 ms at 100k documents; now 0.1 ms).
  (db) => {
    db.exec('CREATE INDEX documents_by_target ON documents (source, target);');
  },
];
