import { describe, expect, it } from 'vitest';
import type { ObservedItem } from '../../src/sources/types.js';
import { type DocumentRecord, newDocumentRecord } from '../../src/state/store.js';
import type { MoveDecision } from '../../src/sync/moves.js';
import { failedRecord, pendingRecord, type RowWrite, sentRecord, vanishedWrite, writeForDecision } from '../../src/sync/transitions.js';

const NOW = 50_000;
const ctx = { now: NOW, runId: 9 };
const STAT = { size: 10, mtimeMs: 1000, ino: 7 };

/** A row of a document of `docs`, last written at time 1 in run 3, in the knowledge base with content h1. */
function row(key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return {
    ...newDocumentRecord('docs', key, 'file', 1),
    size: 10,
    mtimeMs: 1000,
    inode: 7,
    hash: 'h1',
    status: 'uploaded',
    uploadedHash: 'h1',
    msgId: '55',
    downloadUrl: 'https://dl/x',
    docId: 'd1',
    uploadedAt: 2,
    transactionId: 5,
    syncId: 's1',
    firstSeenRun: 3,
    ...fields,
  };
}

function file(key: string, fields: Partial<ObservedItem> = {}): ObservedItem {
  return { key, kind: 'file', size: STAT.size, stat: { ...STAT }, payload: { type: 'file', fsPath: `/x/${key}`, name: key, title: undefined, link: undefined }, ...fields };
}

const page = (key: string, fields: Partial<ObservedItem> = {}): ObservedItem => ({ key, kind: 'page', size: 20, ...fields });

/** The fields of the row a write puts (or what it forgets). */
function written(write: RowWrite | undefined): unknown {
  if (write === undefined) return 'no write';
  if (write.type === 'forget') return { forget: `${write.source}:${write.key}` };
  if (write.type !== 'put') return { unknownWrite: write };
  return { ...write.record, ...(write.forget ? { alsoForget: `${write.forget.source}:${write.forget.key}` } : {}) };
}

describe('writeForDecision: what each decision writes before anything is sent', () => {
  const cases: { name: string; decision: MoveDecision; expect: unknown }[] = [
    {
      name: 'new: nothing yet (the row is written when its send starts)',
      decision: { action: 'new', key: 'a.md', item: { ...file('a.md'), hash: 'h1' }, previous: undefined, reason: 'first seen' },
      expect: 'no write',
    },
    {
      name: 'changed: nothing yet',
      decision: { action: 'changed', key: 'a.md', item: { ...file('a.md'), hash: 'h2' }, previous: row('a.md'), reason: 'content changed' },
      expect: 'no write',
    },
    {
      name: 'unchanged with nothing to learn: no write',
      decision: { action: 'unchanged', key: 'a.md', item: file('a.md'), hash: 'h1', previous: row('a.md'), reason: 'x', write: false, back: false },
      expect: 'no write',
    },
    {
      name: 'touched: the new stat is recorded, status uploaded, skip reason cleared',
      decision: {
        action: 'unchanged',
        key: 'a.md',
        item: file('a.md', { size: 10, stat: { size: 10, mtimeMs: 5000, ino: 8 } }),
        hash: 'h1',
        previous: row('a.md', { skipReason: 'larger than maxFileSize' }),
        reason: 'touched, content unchanged',
        write: true,
        back: false,
      },
      expect: { ...row('a.md'), mtimeMs: 5000, inode: 8, skipReason: null, updatedAt: NOW },
    },
    {
      name: 'back in the source with the content sent: uploaded again',
      decision: { action: 'unchanged', key: 'a.md', item: file('a.md'), hash: 'h1', previous: row('a.md', { status: 'removed' }), reason: 'back', write: true, back: true },
      expect: { ...row('a.md'), status: 'uploaded', updatedAt: NOW },
    },
    {
      name: 'unchanged after a failed send of other content: the hash of the content in the knowledge base is recorded again',
      decision: { action: 'unchanged', key: 'a.md', item: file('a.md', { hash: 'h1' }), hash: 'h1', previous: row('a.md', { hash: 'h2', status: 'failed' }), reason: 'content unchanged', write: true, back: false },
      expect: { ...row('a.md'), hash: 'h1', status: 'uploaded', updatedAt: NOW },
    },
    {
      name: 'a page with new validators: they are recorded',
      decision: {
        action: 'unchanged',
        key: 'https://x.test/a',
        item: page('https://x.test/a', { hash: 'h1', validators: { etag: '"v2"', lastModified: 'Mon' } }),
        hash: 'h1',
        previous: row('https://x.test/a', { kind: 'page', etag: '"v1"', lastModified: 'Sun' }),
        reason: 'content unchanged',
        write: true,
        back: false,
      },
      expect: { ...row('https://x.test/a', { kind: 'page' }), size: 20, etag: '"v2"', lastModified: 'Mon', updatedAt: NOW },
    },
    {
      name: 'a page that lost its validators: they are cleared',
      decision: {
        action: 'unchanged',
        key: 'https://x.test/a',
        item: page('https://x.test/a', { hash: 'h1', validators: {} }),
        hash: 'h1',
        previous: row('https://x.test/a', { kind: 'page', etag: '"v1"', lastModified: 'Sun' }),
        reason: 'content unchanged',
        write: true,
        back: false,
      },
      expect: { ...row('https://x.test/a', { kind: 'page' }), size: 20, etag: null, lastModified: null, updatedAt: NOW },
    },
    {
      name: 'skipped, never sent: a skipped row with the reason (first seen in this run)',
      decision: { action: 'skipped', key: 'a.exe', item: file('a.exe', { skip: { code: 'unsupported', reason: 'unsupported type (.exe)' } }), previous: undefined, reason: 'unsupported type (.exe)', repeated: false, record: true },
      expect: { ...newDocumentRecord('docs', 'a.exe', 'file', NOW), size: 10, mtimeMs: 1000, inode: 7, status: 'skipped', skipReason: 'unsupported type (.exe)', firstSeenRun: 9 },
    },
    {
      name: 'skipped, a copy: its content hash is recorded too',
      decision: { action: 'skipped', key: 'copy.md', item: file('copy.md', { hash: 'h1' }), previous: undefined, reason: 'same content as docs:a.md, already sent', repeated: false, record: true },
      expect: { ...newDocumentRecord('docs', 'copy.md', 'file', NOW), size: 10, mtimeMs: 1000, inode: 7, hash: 'h1', status: 'skipped', skipReason: 'same content as docs:a.md, already sent', firstSeenRun: 9 },
    },
    {
      name: 'skipped, but in the knowledge base: keeps its status, records the reason',
      decision: { action: 'skipped', key: 'a.md', item: file('a.md', { size: 99, stat: { size: 99, mtimeMs: 2000, ino: 7 }, skip: { code: 'too-large', reason: 'too large' } }), previous: row('a.md'), reason: 'too large', repeated: false, record: true },
      expect: { ...row('a.md'), size: 99, mtimeMs: 2000, skipReason: 'too large', updatedAt: NOW },
    },
    {
      name: 'skipped, a failed document never sent: becomes skipped',
      decision: { action: 'skipped', key: 'a.md', item: file('a.md', { skip: { code: 'empty', reason: 'empty file' } }), previous: row('a.md', { status: 'failed', uploadedHash: null }), reason: 'empty file', repeated: false, record: true },
      expect: { ...row('a.md', { uploadedHash: null }), status: 'skipped', skipReason: 'empty file', updatedAt: NOW },
    },
    {
      name: 'skipped again for the same reason: no write',
      decision: { action: 'skipped', key: 'a.exe', item: file('a.exe'), previous: row('a.exe', { status: 'skipped' }), reason: 'x', repeated: true, record: true },
      expect: 'no write',
    },
    {
      name: 'a folder reported: never recorded',
      decision: { action: 'skipped', key: 'd/', item: { key: 'd/', kind: 'file', size: 0, isFolder: true }, previous: undefined, reason: 'folder left out', repeated: false, record: false },
      expect: 'no write',
    },
    {
      name: 'failed, never sent: a failed row with one attempt and the error',
      decision: { action: 'failed', key: 'https://x.test/a', item: page('https://x.test/a', { failure: 'HTTP 500' }), previous: undefined, reason: 'HTTP 500' },
      expect: { ...newDocumentRecord('docs', 'https://x.test/a', 'page', NOW), status: 'failed', attempts: 1, lastError: 'HTTP 500', firstSeenRun: 9 },
    },
    {
      name: 'failed again: one more attempt',
      decision: { action: 'failed', key: 'https://x.test/a', item: page('https://x.test/a', { failure: 'HTTP 502' }), previous: row('https://x.test/a', { kind: 'page', status: 'failed', uploadedHash: null, attempts: 2 }), reason: 'HTTP 502' },
      expect: { ...row('https://x.test/a', { kind: 'page', uploadedHash: null }), status: 'failed', attempts: 3, lastError: 'HTTP 502', updatedAt: NOW },
    },
    {
      name: 'failed, but in the knowledge base: keeps its status (one failed fetch removes nothing)',
      decision: { action: 'failed', key: 'https://x.test/a', item: page('https://x.test/a', { failure: 'HTTP 500' }), previous: row('https://x.test/a', { kind: 'page' }), reason: 'HTTP 500' },
      expect: { ...row('https://x.test/a', { kind: 'page' }), attempts: 1, lastError: 'HTTP 500', updatedAt: NOW },
    },
    {
      name: 'removed, never reached the knowledge base: forgotten',
      decision: { action: 'removed', key: 'a.md', previous: row('a.md', { status: 'skipped', uploadedHash: null, transactionId: null }), reason: 'gone', reachedKb: false },
      expect: { forget: 'docs:a.md' },
    },
    {
      name: 'removed after it reached the knowledge base: kept as removed',
      decision: { action: 'removed', key: 'a.md', previous: row('a.md'), reason: 'gone', reachedKb: true },
      expect: { ...row('a.md'), status: 'removed', updatedAt: NOW },
    },
    {
      name: 'moved: a new row that takes over the old one\'s version in the knowledge base; the old row is forgotten',
      decision: {
        action: 'moved',
        key: 'new.md',
        hash: 'h1',
        item: { ...file('new.md', { size: 10, stat: { size: 10, mtimeMs: 3000, ino: 70 } }), hash: 'h1' },
        from: row('old.md', { source: 'other', etag: 'e', lastModified: 'l', attempts: 2, lastError: 'x' }),
        reason: 'moved',
      },
      expect: {
        ...newDocumentRecord('docs', 'new.md', 'file', NOW),
        size: 10,
        mtimeMs: 3000,
        inode: 70,
        hash: 'h1',
        status: 'uploaded',
        uploadedHash: 'h1',
        msgId: '55',
        downloadUrl: 'https://dl/x',
        docId: 'd1',
        uploadedAt: 2,
        syncId: 's1',
        transactionId: 5,
        movedFrom: 'other:old.md',
        firstSeenRun: 9,
        alsoForget: 'other:old.md',
      },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      expect(written(writeForDecision('docs', c.decision, ctx))).toEqual(c.expect);
    });
  }

  it('keeps the run a document was first seen in; a row written outside a run has none', () => {
    const decision: MoveDecision = { action: 'failed', key: 'u', item: page('u', { failure: 'x' }), previous: undefined, reason: 'x' };
    expect(written(writeForDecision('docs', decision, { now: NOW, runId: undefined }))).toMatchObject({ firstSeenRun: null });
    const seen: MoveDecision = { ...decision, previous: row('u', { kind: 'page', firstSeenRun: null }) };
    expect(written(writeForDecision('docs', seen, ctx))).toMatchObject({ firstSeenRun: 9 });
  });

  it('never changes the previous row it was given', () => {
    const previous = row('a.md');
    const copy = structuredClone(previous);
    writeForDecision('docs', { action: 'unchanged', key: 'a.md', item: file('a.md', { stat: { ...STAT, ino: 99 } }), hash: 'h1', previous, reason: 'x', write: true, back: false }, ctx);
    writeForDecision('docs', { action: 'removed', key: 'a.md', previous, reason: 'x', reachedKb: true }, ctx);
    writeForDecision('docs', { action: 'failed', key: 'a.md', item: file('a.md'), previous, reason: 'x' }, ctx);
    expect(previous).toEqual(copy);
  });
});

describe('the send: pending, sent, failed, vanished', () => {
  const item = { ...file('a.md', { stat: { size: 12, mtimeMs: 4000, ino: 8 }, size: 12 }), hash: 'h2' };
  let next = 100;
  const send = (syncId: string) => ({ syncId, newTransactionId: () => ++next });

  const cases: { name: string; previous: DocumentRecord | undefined; syncId: string; transactionId: number | 'new' }[] = [
    { name: 'a new document gets a new transaction ID', previous: undefined, syncId: 's2', transactionId: 'new' },
    { name: 'a send made again (interrupted, same version) keeps its transaction ID', previous: row('a.md', { status: 'pending', syncId: 's2', transactionId: 42 }), syncId: 's2', transactionId: 42 },
    { name: 'a send that failed before, same version: keeps it', previous: row('a.md', { status: 'failed', syncId: 's2', transactionId: 42 }), syncId: 's2', transactionId: 42 },
    { name: 'a new version gets a new one', previous: row('a.md', { status: 'pending', syncId: 's1', transactionId: 42 }), syncId: 's2', transactionId: 'new' },
    { name: 'a document sent already gets a new one, even with the same sync ID', previous: row('a.md', { status: 'uploaded', syncId: 's2', transactionId: 42 }), syncId: 's2', transactionId: 'new' },
    { name: 'a row without a transaction ID gets one', previous: row('a.md', { status: 'failed', syncId: 's2', transactionId: null }), syncId: 's2', transactionId: 'new' },
  ];
  for (const c of cases) {
    it(`pendingRecord: ${c.name}`, () => {
      const before = next;
      const record = pendingRecord('docs', 'a.md', item, c.previous, send(c.syncId), ctx);
      expect(record.transactionId).toBe(c.transactionId === 'new' ? before + 1 : c.transactionId);
      expect(next).toBe(c.transactionId === 'new' ? before + 1 : before);
      expect(record).toMatchObject({ source: 'docs', key: 'a.md', status: 'pending', syncId: c.syncId, hash: 'h2', size: 12, mtimeMs: 4000, inode: 8, skipReason: null, updatedAt: NOW });
    });
  }

  it('pendingRecord keeps what the row knew of the version in the knowledge base', () => {
    const record = pendingRecord('docs', 'a.md', item, row('a.md', { skipReason: 'x' }), send('s9'), ctx);
    expect(record).toMatchObject({ uploadedHash: 'h1', msgId: '55', firstSeenRun: 3, skipReason: null });
  });

  it('sentRecord: uploaded, with the sent version, message and download URL; attempts and error cleared', () => {
    const pending = row('a.md', { status: 'pending', hash: 'h2', attempts: 2, lastError: 'HTTP 500', etag: 'old', lastModified: 'old' });
    expect(sentRecord(pending, { msgId: '77', downloadUrl: 'https://dl/y' }, file('a.md'), NOW)).toEqual({
      ...pending,
      status: 'uploaded',
      uploadedHash: 'h2',
      msgId: '77',
      downloadUrl: 'https://dl/y',
      uploadedAt: NOW,
      attempts: 0,
      lastError: null,
      updatedAt: NOW,
    });
    expect(sentRecord(pending, { msgId: undefined, downloadUrl: undefined }, file('a.md'), NOW)).toMatchObject({ msgId: null, downloadUrl: null });
  });

  it('sentRecord: a page records the validators it was fetched with', () => {
    const pending = row('u', { kind: 'page', etag: 'old', lastModified: 'old' });
    expect(sentRecord(pending, { msgId: '1', downloadUrl: undefined }, page('u', { validators: { etag: 'new' } }), NOW)).toMatchObject({ etag: 'new', lastModified: null });
  });

  it('failedRecord: failed, one more attempt, the message', () => {
    const pending = row('a.md', { status: 'pending', attempts: 1 });
    expect(failedRecord(pending, 'HTTP 500', NOW)).toEqual({ ...pending, status: 'failed', attempts: 2, lastError: 'HTTP 500', updatedAt: NOW });
  });

  it('vanishedWrite: forgotten when it never reached the knowledge base, else removed', () => {
    expect(vanishedWrite(row('a.md', { status: 'pending', uploadedHash: null }), NOW)).toEqual({ type: 'forget', source: 'docs', key: 'a.md' });
    const sent = row('a.md', { status: 'pending' });
    expect(vanishedWrite(sent, NOW)).toEqual({ type: 'put', record: { ...sent, status: 'removed', updatedAt: NOW } });
  });
});
