import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StateError } from '../../src/errors.js';
import { MIGRATIONS } from '../../src/sync/state-migrations.js';
import { newDocumentRecord, StateStore } from '../../src/sync/state-store.js';
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
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('stores and reads back whole records', () => {
    const store = open(tmpDir());
    const record = { ...newDocumentRecord('docs', 'a/b.md', 'file', 1000), size: 12, mtimeMs: 1.5, inode: 77, hash: 'h1', transactionId: 2 ** 40, syncId: 's' };
    store.put(record);
    expect(store.get('docs', 'a/b.md')).toEqual(record);
    expect([...store.documentsOf('docs').keys()]).toEqual(['a/b.md']);
    store.put({ ...record, status: 'uploaded', uploadedHash: 'h1', msgId: '9' });
    expect(store.findByUploadedHash('h1')).toHaveLength(1);
    expect(store.statusCounts()).toEqual([{ source: 'docs', status: 'uploaded', count: 1 }]);
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
    store.put({ ...newDocumentRecord('docs', 'new.md', 'file', 1000), status: 'uploaded', msgId: big });
    expect(store.get('docs', 'new.md')?.msgId).toBe(big);
    expect(store.db.prepare("SELECT typeof(msg_id) AS t FROM documents WHERE key = 'new.md'").get()).toEqual({ t: 'text' });
  });

  it('gives the planner the few values that tell an unchanged file, without full records', () => {
    const store = open(tmpDir());
    expect(store.hasUploaded()).toBe(false);
    const base = { ...newDocumentRecord('docs', 'a.md', 'file', 1000), size: 5, mtimeMs: 2.5, inode: 3 };
    store.put({ ...base, hash: 'h1', status: 'uploaded', uploadedHash: 'h1' });
    store.put({ ...base, key: 'b.md', hash: 'h2', status: 'uploaded', uploadedHash: 'h1' });
    store.put({ ...base, key: 'c.md', hash: null, status: 'pending' });
    store.put({ ...base, key: 'd.md', hash: 'h4', status: 'failed' });
    store.put({ ...base, source: 'other', key: 'e.md', hash: 'h5', status: 'uploaded', uploadedHash: 'h5' });
    const known = store.knownDocumentsOf('docs');
    expect([...known.keys()].sort()).toEqual(['a.md', 'b.md', 'c.md', 'd.md']);
    expect(known.get('a.md')).toEqual(['a.md', 5, 2.5, 3, 'uploaded', 1, 1]);
    expect(known.get('b.md')?.slice(4)).toEqual(['uploaded', 1, 0]);
    expect(known.get('c.md')?.slice(4)).toEqual(['pending', 0, 0]);
    expect(known.get('d.md')?.slice(4)).toEqual(['failed', 1, 0]);
    expect(store.known('other', 'e.md')?.slice(4)).toEqual(['uploaded', 1, 1]);
    expect(store.known('other', 'missing.md')).toBeUndefined();
    expect(store.hasUploaded()).toBe(true);
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
    store.db.pragma('wal_checkpoint(TRUNCATE)');
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
});
