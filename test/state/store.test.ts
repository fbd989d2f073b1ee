import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StateError } from '../../src/errors.js';
import { MIGRATIONS } from '../../src/state/migrations.js';
import { COUNT_ELSEWHERE_SQL, DOCUMENTS_IN_DIR_RANGE_SQL, DOCUMENTS_IN_DIR_SQL, newDocumentRecord, StateStore } from '../../src/state/store.js';
import { tmpDir } from '../helpers/tmp-dir.js';

function open(dir: string, options?: { readonly?: boolean }): StateStore {
  const store = StateStore.open(dir, options);
  onTestFinished(() => store.close());
  return store;
}

describe('StateStore', () => {
  it('creates the database with mode 0600, in WAL mode, at the latest schema', () => {
    const dir = path.join(tmpDir(), 'state');
    const store = open(dir);
    expect(statSync(store.filepath).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const db = new Database(store.filepath, { readonly: true });
    onTestFinished(() => void db.close());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('stores and reads back whole records', () => {
    const store = open(tmpDir());
    const record = { ...newDocumentRecord('docs', 'a/b.md', 'file', 1000), size: 12, mtimeMs: 1.5, inode: 77, hash: 'h1', transactionId: 2 ** 40, syncId: 's' };
    store.put(record);
    expect(store.get('docs', 'a/b.md')).toEqual(record);
    expect([...store.documentsOf('docs').keys()]).toEqual(['a/b.md']);
    store.put({ ...record, status: 'ingested', uploadedHash: 'h1', msgId: '9' });
    expect(store.findByUploadedHash('h1')).toHaveLength(1);
    expect(store.statusCounts()).toEqual([{ source: 'docs', status: 'ingested', count: 1 }]);
    store.delete('docs', 'a/b.md');
    expect(store.get('docs', 'a/b.md')).toBeUndefined();
  });

  it('keeps a 64-bit message ID exactly, also in a database made before migration 3 (msg_id was INTEGER)', () => {
    const dir = path.join(tmpDir(), 'state');
    // A schema-2 database with a row, as an older lanying-kb left it.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const old = new Database(path.join(dir, 'state.db'));
    for (const step of MIGRATIONS.slice(0, 2)) step(old);
    old.pragma('user_version = 2');
    old.prepare("INSERT INTO documents (source, key, kind, status, msg_id, updated_at) VALUES ('docs', 'old.md', 'file', 'uploaded', 5102128600001, 1)").run();
    old.close();
    const store = open(dir);
    expect(store.get('docs', 'old.md')?.msgId).toBe('5102128600001');
    const big = '1152921504606846977';
    store.put({ ...newDocumentRecord('docs', 'new.md', 'file', 1000), status: 'sent', msgId: big });
    expect(store.get('docs', 'new.md')?.msgId).toBe(big);
    store.close();
    const raw = new Database(path.join(dir, 'state.db'), { readonly: true });
    onTestFinished(() => void raw.close());
    expect(raw.prepare("SELECT typeof(msg_id) AS t FROM documents WHERE key = 'new.md'").get()).toEqual({ t: 'text' });
  });

  it('reads the documents of one folder, the folders of a source, and whether anything was uploaded', () => {
    const store = open(tmpDir());
    expect(store.hasUploaded()).toBe(false);
    const base = { ...newDocumentRecord('docs', 'a.md', 'file', 1000), size: 5, mtimeMs: 2.5, inode: 3 };
    store.put({ ...base, hash: 'h1', status: 'ingested', uploadedHash: 'h1' });
    store.put({ ...base, key: 'sub/b.md', hash: 'h2', status: 'pending' });
    store.put({ ...base, key: 'sub/deeper/c.md', hash: 'h3', status: 'failed' });
    store.put({ ...base, source: 'other', key: 'sub/e.md', hash: 'h5', status: 'ingested', uploadedHash: 'h5' });
    expect([...store.documentsInDir('docs', '').keys()]).toEqual(['a.md']);
    expect([...store.documentsInDir('docs', 'sub').keys()]).toEqual(['sub/b.md']);
    expect(store.documentsInDir('docs', 'sub').get('sub/b.md')).toEqual({ ...base, key: 'sub/b.md', hash: 'h2', status: 'pending' });
    expect(store.dirsOf('docs').sort()).toEqual(['', 'sub', 'sub/deeper']);
    expect(store.dirsOf('other')).toEqual(['sub']);
    expect(store.hasUploaded()).toBe(true);
  });

  it.each([
    ['a folder', DOCUMENTS_IN_DIR_SQL, { source: 'docs', dir: 'a' }],
    ['a part of a folder', DOCUMENTS_IN_DIR_RANGE_SQL, { source: 'docs', dir: 'a', from: 'a/b', to: 'a/c' }],
  ])('reads %s through the folder index, not every document of the source (SQLite picks the primary key otherwise)', (_, sql, params) => {
    const store = open(tmpDir());
    const db = new Database(store.filepath, { readonly: true });
    onTestFinished(() => void db.close());
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((row) => row.detail);
    expect(plan).toEqual([expect.stringMatching(/^SEARCH documents USING INDEX documents_by_dir \(source=\? AND dir=\?/)]);
  });

  it('counts the documents sent to another knowledge base from two ranges of the target index, not by reading the source', () => {
    const store = open(tmpDir());
    const base = { ...newDocumentRecord('docs', 'a.md', 'file', 1000), status: 'ingested' as const, uploadedHash: 'h' };
    for (const [key, target, uploadedHash] of [['a.md', 'kb-1', 'h'], ['b.md', 'kb-0', 'h'], ['c.md', 'kb-2', 'h'], ['d.md', 'kb-2', null], ['e.md', null, 'h']] as const) {
      store.put({ ...base, key, target, uploadedHash });
    }
    store.put({ ...base, source: 'other', target: 'kb-2' });
    expect(store.countElsewhere('docs', 'kb-1')).toBe(2);
    expect(store.countElsewhere('docs', 'kb-2')).toBe(2);
    expect(store.countElsewhere('other', 'kb-2')).toBe(0);
    const db = new Database(store.filepath, { readonly: true });
    onTestFinished(() => void db.close());
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${COUNT_ELSEWHERE_SQL}`).all({ source: 'docs', target: 'kb-1' }) as { detail: string }[]).map((row) => row.detail);
    expect(plan.filter((d) => d.startsWith('SEARCH'))).toEqual([
      'SEARCH documents USING INDEX documents_by_target (source=? AND target<?)',
      'SEARCH documents USING INDEX documents_by_target (source=? AND target>?)',
    ]);
  });

  it('records runs, and marks runs left running by a dead process as aborted', () => {
    const store = open(tmpDir());
    const first = store.startRun('sync', 10);
    store.finishRun(first, 'ok', { sent: 2 }, undefined, 20);
    const second = store.startRun('sync', 30);
    expect(store.abortStaleRuns(40)).toBe(1);
    const runs = store.recentRuns();
    expect(runs.map((r) => [r.id, r.outcome])).toEqual([
      [second, 'aborted'],
      [first, 'ok'],
    ]);
    expect(runs[1]?.counts).toEqual({ sent: 2 });
    expect(store.lastCompletedRun()?.id).toBe(first);
  });

  it('opens an existing database without migrating it again, and keeps its rows', () => {
    const dir = tmpDir();
    const store = StateStore.open(dir);
    store.put(newDocumentRecord('docs', 'x.md', 'file', 1));
    store.close();
    const again = open(dir);
    expect(again.get('docs', 'x.md')?.key).toBe('x.md');
  });

  it('reads without creating anything when there is no state yet (readonly)', () => {
    const dir = tmpDir();
    const store = open(path.join(dir, 'none'), { readonly: true });
    expect(store.isEmpty).toBe(true);
    expect(store.statusCounts()).toEqual([]);
    expect(() => statSync(path.join(dir, 'none'))).toThrow();
  });

  it('refuses a file that is not a database, naming it and leaving it untouched', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'state.db');
    const garbage = Buffer.from('this is not sqlite at all, but it is someone\'s file\n'.repeat(200));
    writeFileSync(file, garbage);
    const error = (() => {
      try {
        StateStore.open(dir);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toMatch(new RegExp(`^${file}: .*not an SQLite database`));
    expect(readFileSync(file).equals(garbage)).toBe(true);
  });

  it('refuses a truncated database page without overwriting it', () => {
    const dir = tmpDir();
    const store = StateStore.open(dir);
    for (let i = 0; i < 500; i++) store.put(newDocumentRecord('docs', `file-${i}.md`, 'file', i));
    store.checkpoint();
    store.close();
    const file = path.join(dir, 'state.db');
    const bytes = readFileSync(file);
    const damaged = Buffer.from(bytes);
    damaged.fill(0x5a, 4096, 4096 * 3);
    writeFileSync(file, damaged);
    expect(() => StateStore.open(dir)).toThrow(StateError);
    expect(readFileSync(file).equals(damaged)).toBe(true);
  });

  it('refuses another application\'s SQLite database and a newer schema', () => {
    const foreignDir = tmpDir();
    const foreign = new Database(path.join(foreignDir, 'state.db'));
    foreign.exec('CREATE TABLE notes (id INTEGER)');
    foreign.close();
    expect(() => StateStore.open(foreignDir)).toThrow(/not a lanying-kb state database/);

    const newerDir = tmpDir();
    const newer = new Database(path.join(newerDir, 'state.db'));
    newer.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    newer.close();
    expect(() => StateStore.open(newerDir)).toThrow(/written by a newer lanying-kb/);
  });

  it('refuses a state file that exists but holds no schema (0 bytes): it never starts over silently', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'state.db');
    writeFileSync(file, '');
    const error = (() => {
      try {
        StateStore.open(dir);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toBe(`${file}: exists but holds no lanying-kb state (an empty or unfinished file); restore it from a backup, or move it away to start afresh`);
    expect(statSync(file).size).toBe(0);
    expect(() => StateStore.open(dir, { readonly: true })).toThrow(StateError);
  });

  it('records a clean close beside the file; an open that finds the file changed since checks it again', () => {
    const dir = tmpDir();
    const store = StateStore.open(dir);
    store.put(newDocumentRecord('docs', 'a.md', 'file', 1));
    store.close();
    const marker = path.join(dir, 'state.db-clean');
    const st = statSync(path.join(dir, 'state.db'));
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    // While a writer has it open, the marker is gone: a crash leaves no marker behind.
    const again = StateStore.open(dir);
    expect(existsSync(marker)).toBe(false);
    again.close();
    expect(existsSync(marker)).toBe(true);
    // A read-only open leaves the marker as it is.
    StateStore.open(dir, { readonly: true }).close();
    expect(existsSync(marker)).toBe(true);
  });

  it('clears a folder\'s digest whenever a document of that folder is written or deleted', () => {
    const store = open(tmpDir());
    store.put({ ...newDocumentRecord('docs', 'a/x.md', 'file', 1), status: 'ingested' });
    store.put({ ...newDocumentRecord('docs', 'b/y.md', 'file', 1), status: 'ingested' });
    const reset = () => {
      store.setFolderDigest('docs', 'a', 'da');
      store.setFolderDigest('docs', 'b', 'db');
    };
    reset();
    expect([store.folderDigest('docs', 'a'), store.folderDigest('docs', 'b')]).toEqual(['da', 'db']);
    store.put({ ...newDocumentRecord('docs', 'a/x.md', 'file', 2), status: 'failed' });
    expect([store.folderDigest('docs', 'a'), store.folderDigest('docs', 'b')]).toEqual([undefined, 'db']);
    store.put({ ...newDocumentRecord('docs', 'a/x.md', 'file', 2), status: 'sent' });
    reset();
    store.put({ ...newDocumentRecord('docs', 'a/new.md', 'file', 3), status: 'sent' });
    expect([store.folderDigest('docs', 'a'), store.folderDigest('docs', 'b')]).toEqual([undefined, 'db']);
    reset();
    store.delete('docs', 'b/y.md');
    expect([store.folderDigest('docs', 'a'), store.folderDigest('docs', 'b')]).toEqual(['da', undefined]);
    expect(store.folderDigest('other', 'a')).toBeUndefined();
    expect(store.documentsInDir('docs', 'a').size).toBe(2);
    expect(store.dirsOf('docs')).toEqual(['a']);
  });

  it.each([
    ['ingested', true],
    ['sent', true],
    ['unconfirmed', true],
    ['skipped', true],
    ['removed', true],
    ['deleted', true],
    ['pending', false],
    ['failed', false],
    ['refused', false],
    ['ingest-failed', false],
  ] as const)('records a folder digest over a document that is %s: %s (an unsettled one is acted on while its file looks the same)', (status, recorded) => {
    const store = open(tmpDir());
    store.put({ ...newDocumentRecord('docs', 'a/settled.md', 'file', 1), status: 'ingested' });
    store.put({ ...newDocumentRecord('docs', 'a/x.md', 'file', 1), status });
    // A confirmation written before the digest (a failure notice tied while the folder's last send was on its way).
    expect(store.setFolderDigest('docs', 'a', 'da')).toBe(recorded);
    expect(store.folderDigest('docs', 'a')).toBe(recorded ? 'da' : undefined);
    // Other folders are not concerned.
    expect(store.setFolderDigest('docs', 'b', 'db')).toBe(true);
    // Its file skipped now (too large: the status of a document in the knowledge base is kept), it is left alone.
    store.put({ ...newDocumentRecord('docs', 'a/x.md', 'file', 2), status, skipReason: 'larger than maxFileSize' });
    expect(store.setFolderDigest('docs', 'a', 'da2')).toBe(true);
    store.close();
  });

  it('upgrades a state of schema 2: every document gets its folder, so folders can be read on their own', () => {
    const dir = tmpDir();
    const old = new Database(path.join(dir, 'state.db'));
    for (const step of MIGRATIONS.slice(0, 2)) step(old);
    old.pragma('user_version = 2');
    const insert = old.prepare("INSERT INTO documents (source, key, kind, status, updated_at) VALUES ('docs', ?, 'file', 'uploaded', 1)");
    for (const key of ['top.md', 'a/b.md', 'a/b/c.md', 'https://example.org/x/y']) insert.run(key);
    old.close();
    const store = open(dir);
    expect([...store.documentsInDir('docs', '').keys()]).toEqual(['top.md']);
    expect([...store.documentsInDir('docs', 'a').keys()]).toEqual(['a/b.md']);
    expect([...store.documentsInDir('docs', 'a/b').keys()]).toEqual(['a/b/c.md']);
    expect(store.dirsOf('docs').sort()).toEqual(['', 'a', 'a/b', 'https://example.org/x']);
  });
});
