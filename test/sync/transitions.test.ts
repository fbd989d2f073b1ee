import { describe, expect, it } from 'vitest';
import type { ObservedItem } from '../../src/sources/types.js';
import { type DocumentRecord, newDocumentRecord } from '../../src/state/store.js';
import { syncIdOf } from '../../src/sync/document-metadata.js';
import type { MoveDecision } from '../../src/sync/moves.js';
import {
  deletedRecord,
  failedRecord,
  ingestedRecord,
  ingestFailedRecord,
  pendingRecord,
  refusedRecord,
  type RowWrite,
  sentRecord,
  settledStatus,
  unconfirmedRecord,
  vanishedWrite,
  writeForDecision,
} from '../../src/sync/transitions.js';

const NOW = 50_000;
const TARGET = 'app/1/2/kb';
const GRACE = 7_000;
const ctx = { now: NOW, runId: 9, target: TARGET, deleteAfterMs: GRACE };
const STAT = { size: 10, mtimeMs: 1000, ino: 7 };

/** A row of a document of `docs`, last written at time 1 in run 3, ingested in the knowledge base with content h1. */
function row(key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return {
    ...newDocumentRecord('docs', key, 'file', 1),
    size: 10,
    mtimeMs: 1000,
    inode: 7,
    hash: 'h1',
    status: 'ingested',
    uploadedHash: 'h1',
    msgId: '55',
    downloadUrl: 'https://dl/x',
    docId: 'd1',
    uploadedAt: 2,
    ingestedAt: 3,
    transactionId: 5,
    syncId: 's1',
    firstSeenRun: 3,
    target: TARGET,
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

describe('settledStatus: a version in the knowledge base that is not on its way', () => {
  it('is ingested when the chatbot named its document, unconfirmed otherwise', () => {
    expect(settledStatus({ docId: 'd1' })).toBe('ingested');
    expect(settledStatus({ docId: null })).toBe('unconfirmed');
  });
});

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
      name: 'touched: the new stat is recorded, skip reason cleared, status kept',
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
      name: 'unchanged while its version is on its way: stays sent',
      decision: { action: 'unchanged', key: 'a.md', item: file('a.md', { stat: { ...STAT, ino: 8 } }), hash: 'h1', previous: row('a.md', { status: 'sent', docId: null }), reason: 'x', write: true, back: false },
      expect: { ...row('a.md', { status: 'sent', docId: null }), inode: 8, updatedAt: NOW },
    },
    {
      name: 'back in the source with the content sent: ingested again, its deletion called off',
      decision: { action: 'unchanged', key: 'a.md', item: file('a.md'), hash: 'h1', previous: row('a.md', { status: 'removed', deleteAfter: 60_000 }), reason: 'back', write: true, back: true },
      expect: { ...row('a.md'), status: 'ingested', deleteAfter: null, updatedAt: NOW },
    },
    {
      name: 'back in the source, never confirmed: unconfirmed again',
      decision: { action: 'unchanged', key: 'a.md', item: file('a.md'), hash: 'h1', previous: row('a.md', { status: 'removed', docId: null }), reason: 'back', write: true, back: true },
      expect: { ...row('a.md', { docId: null }), status: 'unconfirmed', updatedAt: NOW },
    },
    {
      name: 'unchanged after a failed send of other content: the content in the knowledge base is recorded again',
      decision: { action: 'unchanged', key: 'a.md', item: file('a.md', { hash: 'h1' }), hash: 'h1', previous: row('a.md', { hash: 'h2', status: 'failed' }), reason: 'content unchanged', write: true, back: false },
      expect: { ...row('a.md'), hash: 'h1', status: 'ingested', updatedAt: NOW },
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
      name: 'held or reported only (a folder, a change waiting for a confirmation): no write',
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
      name: 'removed after it reached the knowledge base: kept as removed, to be deleted after the grace period',
      decision: { action: 'removed', key: 'a.md', previous: row('a.md'), reason: 'gone', reachedKb: true },
      expect: { ...row('a.md'), status: 'removed', deleteAfter: NOW + GRACE, updatedAt: NOW },
    },
    {
      name: 'moved: a new row that takes over the old one\'s version in the knowledge base; the old row is forgotten',
      decision: {
        action: 'moved',
        key: 'new.md',
        hash: 'h1',
        item: { ...file('new.md', { size: 10, stat: { size: 10, mtimeMs: 3000, ino: 70 } }), hash: 'h1' },
        from: row('old.md', { source: 'other', status: 'removed', etag: 'e', lastModified: 'l', attempts: 2, lastError: 'x', deleteAfter: 99, prevHash: 'h0', prevDocId: 'd0' }),
        reason: 'moved',
      },
      expect: {
        ...newDocumentRecord('docs', 'new.md', 'file', NOW),
        size: 10,
        mtimeMs: 3000,
        inode: 70,
        hash: 'h1',
        status: 'ingested',
        uploadedHash: 'h1',
        msgId: '55',
        downloadUrl: 'https://dl/x',
        docId: 'd1',
        uploadedAt: 2,
        ingestedAt: 3,
        syncId: 's1',
        transactionId: 5,
        target: TARGET,
        prevHash: 'h0',
        prevDocId: 'd0',
        movedFrom: 'other:old.md',
        // Its path and link metadata still name the old place until a run sets them.
        metadataPendingSince: NOW,
        firstSeenRun: 9,
        alsoForget: 'other:old.md',
      },
    },
    {
      name: 'moved while its version is on its way: stays sent',
      decision: { action: 'moved', key: 'new.md', hash: 'h1', item: { ...file('new.md'), hash: 'h1' }, from: row('old.md', { status: 'sent', docId: null }), reason: 'moved' },
      expect: expect.objectContaining({ status: 'sent', docId: null, movedFrom: 'docs:old.md' }),
    },
    {
      name: 'moved from a version never confirmed: unconfirmed',
      decision: { action: 'moved', key: 'new.md', hash: 'h1', item: { ...file('new.md'), hash: 'h1' }, from: row('old.md', { status: 'removed', docId: null }), reason: 'moved' },
      expect: expect.objectContaining({ status: 'unconfirmed' }),
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      expect(written(writeForDecision('docs', c.decision, ctx))).toEqual(c.expect);
    });
  }

  it('keeps the run a document was first seen in; a row written outside a run has none', () => {
    const decision: MoveDecision = { action: 'failed', key: 'u', item: page('u', { failure: 'x' }), previous: undefined, reason: 'x' };
    expect(written(writeForDecision('docs', decision, { ...ctx, runId: undefined }))).toMatchObject({ firstSeenRun: null });
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

describe('pendingRecord: the row of a document whose send starts', () => {
  const item = { ...file('a.md', { stat: { size: 12, mtimeMs: 4000, ino: 8 }, size: 12 }), hash: 'h2' };
  let next = 100;
  const send = (syncId: string) => ({ syncId, newTransactionId: () => ++next });

  const cases: { name: string; previous: DocumentRecord | undefined; syncId: string; transactionId: number | 'new' }[] = [
    { name: 'a new document gets a new transaction ID', previous: undefined, syncId: 's2', transactionId: 'new' },
    { name: 'a send made again (interrupted, same version) keeps its transaction ID', previous: row('a.md', { status: 'pending', hash: 'h2', syncId: 's2', transactionId: 42 }), syncId: 's2', transactionId: 42 },
    { name: 'a send that failed with its outcome unknown (its ID kept) carries its ID again', previous: row('a.md', { status: 'failed', hash: 'h2', syncId: 's2', transactionId: 42 }), syncId: 's2', transactionId: 42 },
    { name: 'a send that failed for sure (its ID cleared) gets a new one', previous: row('a.md', { status: 'failed', hash: 'h2', syncId: 's2', transactionId: null }), syncId: 's2', transactionId: 'new' },
    { name: 'a failed send of an older version gets a new one', previous: row('a.md', { status: 'failed', hash: 'h1', syncId: 's1', transactionId: 42 }), syncId: 's2', transactionId: 'new' },
    { name: 'a new version gets a new one', previous: row('a.md', { status: 'pending', syncId: 's1', transactionId: 42 }), syncId: 's2', transactionId: 'new' },
    { name: 'a document sent already gets a new one, even with the same sync ID', previous: row('a.md', { status: 'ingested', hash: 'h2', syncId: 's2', transactionId: 42 }), syncId: 's2', transactionId: 'new' },
    { name: 'a pending row without a transaction ID gets one', previous: row('a.md', { status: 'pending', hash: 'h2', syncId: 's2', transactionId: null }), syncId: 's2', transactionId: 'new' },
    { name: 'a pending row of another knowledge base gets a new one', previous: row('a.md', { status: 'pending', syncId: 's2', transactionId: 42, target: 'other/kb' }), syncId: 's2', transactionId: 'new' },
    { name: 'a pending row written before targets were recorded keeps its own', previous: row('a.md', { status: 'pending', hash: 'h2', syncId: 's2', transactionId: 42, target: null }), syncId: 's2', transactionId: 42 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = next;
      const record = pendingRecord('docs', 'a.md', item, c.previous, send(c.syncId), ctx);
      expect(record.transactionId).toBe(c.transactionId === 'new' ? before + 1 : c.transactionId);
      expect(next).toBe(c.transactionId === 'new' ? before + 1 : before);
      // The sync ID still names the version in the knowledge base (the new one's is recorded once it is sent).
      expect(record).toMatchObject({ source: 'docs', key: 'a.md', status: 'pending', syncId: c.previous && (c.previous.target === null || c.previous.target === TARGET) ? c.previous.syncId : null, hash: 'h2', size: 12, mtimeMs: 4000, inode: 8, skipReason: null, target: TARGET, updatedAt: NOW });
    });
  }

  it('keeps what the row knew of the version in the knowledge base', () => {
    const record = pendingRecord('docs', 'a.md', item, row('a.md', { skipReason: 'x' }), send('s9'), ctx);
    expect(record).toMatchObject({ uploadedHash: 'h1', msgId: '55', docId: 'd1', firstSeenRun: 3, skipReason: null });
  });

  it('counts failed ingestions of one content only: a new content starts again from 0', () => {
    expect(pendingRecord('docs', 'a.md', item, row('a.md', { status: 'ingest-failed', hash: 'h2', ingestAttempts: 2 }), send('s2'), ctx).ingestAttempts).toBe(2);
    expect(pendingRecord('docs', 'a.md', item, row('a.md', { status: 'ingest-failed', hash: 'h1', ingestAttempts: 2 }), send('s2'), ctx).ingestAttempts).toBe(0);
  });

  it('a row of another knowledge base starts afresh: none of its send columns apply', () => {
    const foreign = row('a.md', { target: 'other/kb', status: 'removed', ingestAttempts: 2, retryAfter: 5, deleteAfter: 6, prevHash: 'h0', prevDocId: 'd0', attempts: 1 });
    const record = pendingRecord('docs', 'a.md', item, foreign, send('s2'), ctx);
    expect(record).toEqual({
      ...foreign,
      size: 12,
      mtimeMs: 4000,
      inode: 8,
      hash: 'h2',
      status: 'pending',
      syncId: null,
      transactionId: next,
      uploadedHash: null,
      msgId: null,
      downloadUrl: null,
      docId: null,
      uploadedAt: null,
      ingestedAt: null,
      prevHash: null,
      prevDocId: null,
      ingestAttempts: 0,
      retryAfter: null,
      deleteAfter: null,
      skipReason: null,
      target: TARGET,
      updatedAt: NOW,
    });
  });
});

describe('sentRecord: the row once /message/send accepted the version', () => {
  const retiredVersion = (hash: string, docId: string | null, state: string, reason: string) => ({
    target: TARGET,
    source: 'docs',
    key: 'a.md',
    hash,
    syncId: syncIdOf('docs', 'a.md', hash),
    msgId: null,
    docId,
    state,
    reason,
    createdAt: NOW,
    updatedAt: NOW,
  });

  it('sent, with the version, message and download URL; attempts, error and waits cleared; the version it replaces kept as prev', () => {
    const pending = row('a.md', { status: 'pending', hash: 'h2', attempts: 2, lastError: 'HTTP 500', retryAfter: 9, deleteAfter: 9, etag: 'old', lastModified: 'old' });
    const { record, retire } = sentRecord(pending, { msgId: '77', downloadUrl: 'https://dl/y', syncId: 'new-sync-id' }, file('a.md'), NOW, { replace: true });
    expect(record).toEqual({
      ...pending,
      status: 'sent',
      uploadedHash: 'h2',
      msgId: '77',
      downloadUrl: 'https://dl/y',
      docId: null,
      uploadedAt: NOW,
      ingestedAt: null,
      attempts: 0,
      lastError: null,
      retryAfter: null,
      deleteAfter: null,
      prevHash: 'h1',
      prevDocId: 'd1',
      prevSyncId: 's1',
      syncId: 'new-sync-id',
      updatedAt: NOW,
    });
    expect(retire).toEqual([]);
  });

  it('a version replacing one that was itself replacing another: the oldest is to go once this one is ingested', () => {
    const pending = row('a.md', { status: 'pending', hash: 'h3', uploadedHash: 'h2', docId: null, prevHash: 'h1', prevDocId: 'd1' });
    const { record, retire } = sentRecord(pending, { msgId: '78', downloadUrl: undefined, syncId: 'new-sync-id' }, file('a.md'), NOW, { replace: true });
    expect(record).toMatchObject({ uploadedHash: 'h3', prevHash: 'h2', prevDocId: null, msgId: '78', downloadUrl: null });
    expect(retire).toEqual([retiredVersion('h1', 'd1', 'superseded', 'replaced by a newer version')]);
  });

  it('the same version sent again (after a refusal, say) replaces nothing', () => {
    const pending = row('a.md', { status: 'pending', hash: 'h1' });
    const { record, retire } = sentRecord(pending, { msgId: '1', downloadUrl: undefined, syncId: 'new-sync-id' }, file('a.md'), NOW, { replace: true });
    expect(record).toMatchObject({ prevHash: null, prevDocId: null });
    expect(retire).toEqual([]);
  });

  it('a first version replaces nothing', () => {
    const pending = row('a.md', { status: 'pending', hash: 'h1', uploadedHash: null, docId: null });
    expect(sentRecord(pending, { msgId: '1', downloadUrl: undefined, syncId: 'new-sync-id' }, file('a.md'), NOW, { replace: true })).toMatchObject({ record: { prevHash: null }, retire: [] });
  });

  it('with onChange: append, older versions stay in the knowledge base: nothing is retired or kept as prev', () => {
    const pending = row('a.md', { status: 'pending', hash: 'h3', uploadedHash: 'h2', prevHash: 'h1', prevDocId: 'd1' });
    const { record, retire } = sentRecord(pending, { msgId: '1', downloadUrl: undefined, syncId: 'new-sync-id' }, file('a.md'), NOW, { replace: false });
    expect(record).toMatchObject({ prevHash: null, prevDocId: null });
    expect(retire).toEqual([]);
  });

  it('a page records the validators it was fetched with; a file keeps those it had', () => {
    const pending = row('u', { kind: 'page', etag: 'old', lastModified: 'old' });
    expect(sentRecord(pending, { msgId: '1', downloadUrl: undefined, syncId: 'new-sync-id' }, page('u', { validators: { etag: 'new' } }), NOW, { replace: true }).record).toMatchObject({ etag: 'new', lastModified: null });
    expect(sentRecord(pending, { msgId: '1', downloadUrl: undefined, syncId: 'new-sync-id' }, file('u'), NOW, { replace: true }).record).toMatchObject({ etag: 'old', lastModified: 'old' });
  });
});

describe('after the send: failed, vanished, confirmed, failed to ingest, refused, unconfirmed, deleted', () => {
  it.each([
    ['the server may have taken it: the transaction ID is kept', true, 42],
    ['it surely did not: the ID is cleared (the next send gets a new one)', false, null],
  ])('failedRecord: failed, one more attempt, the message; %s', (_name, mayHaveReached, transactionId) => {
    const pending = row('a.md', { status: 'pending', attempts: 1, transactionId: 42 });
    expect(failedRecord(pending, 'HTTP 500', NOW, mayHaveReached)).toEqual({ ...pending, status: 'failed', attempts: 2, lastError: 'HTTP 500', updatedAt: NOW, transactionId });
  });

  it('vanishedWrite: forgotten when it never reached the knowledge base, else back as it was (the next observation says whether it left)', () => {
    expect(vanishedWrite(row('a.md', { status: 'pending', uploadedHash: null }), undefined)).toEqual({ type: 'forget', source: 'docs', key: 'a.md' });
    const before = row('a.md', { status: 'ingested', hash: 'h1', uploadedHash: 'h1', docId: 'd1' });
    const pending = row('a.md', { status: 'pending', hash: 'h2', uploadedHash: 'h1', docId: 'd1', transactionId: 7 });
    expect(vanishedWrite(pending, before)).toEqual({ type: 'put', record: before });
  });

  it('vanishedWrite: a version never in the knowledge base is forgotten even with a row before it; without a row to go back to, forgotten', () => {
    const failedBefore = row('a.md', { status: 'failed', hash: 'h1', uploadedHash: null, docId: null });
    expect(vanishedWrite(row('a.md', { status: 'pending', hash: 'h2', uploadedHash: null, docId: null }), failedBefore)).toEqual({ type: 'forget', source: 'docs', key: 'a.md' });
    expect(vanishedWrite(row('a.md', { status: 'pending', hash: 'h2', uploadedHash: 'h1', docId: 'd1' }), undefined)).toEqual({ type: 'forget', source: 'docs', key: 'a.md' });
  });

  it('ingestedRecord: ingested with its document; the version it replaced is to go', () => {
    const sent = row('a.md', { status: 'sent', hash: 'h2', uploadedHash: 'h2', docId: null, ingestedAt: null, ingestAttempts: 1, retryAfter: 5, lastError: 'x', prevHash: 'h1', prevDocId: 'd1' });
    const { record, retire } = ingestedRecord(sent, 'd2', NOW);
    expect(record).toEqual({ ...sent, status: 'ingested', docId: 'd2', ingestedAt: NOW, ingestAttempts: 0, retryAfter: null, lastError: null, prevHash: null, prevDocId: null, updatedAt: NOW });
    expect(retire).toEqual([{ target: TARGET, source: 'docs', key: 'a.md', hash: 'h1', syncId: syncIdOf('docs', 'a.md', 'h1'), msgId: null, docId: 'd1', state: 'delete', reason: 'replaced by document d2', createdAt: NOW, updatedAt: NOW }]);
  });

  it('ingestedRecord: a first version retires nothing; a document that left its source keeps that status', () => {
    expect(ingestedRecord(row('a.md', { status: 'sent', docId: null }), 'd2', NOW)).toMatchObject({ record: { status: 'ingested' }, retire: [] });
    expect(ingestedRecord(row('a.md', { status: 'removed', docId: null }), 'd2', NOW).record).toMatchObject({ status: 'removed', docId: 'd2' });
    // It keeps the version it replaced: its removal deletes both (as sync.onRemove says), whatever sync.onChange says.
    const removed = row('a.md', { status: 'removed', docId: null, prevHash: 'h1', prevDocId: 'd1', prevSyncId: 's1' });
    expect(ingestedRecord(removed, 'd2', NOW)).toEqual({ record: { ...removed, docId: 'd2', ingestedAt: NOW, ingestAttempts: 0, retryAfter: null, lastError: null, updatedAt: NOW }, retire: [] });
    expect(ingestedRecord(row('a.md', { status: 'deleted', docId: null }), 'd2', NOW).record).toMatchObject({ status: 'deleted', docId: 'd2' });
  });

  it('ingestFailedRecord: the version it replaced back in place, its failed document to go, the next try later (doubling)', () => {
    const sent = row('a.md', { status: 'sent', hash: 'h2', uploadedHash: 'h2', msgId: '77', docId: null, prevHash: 'h1', prevDocId: 'd1', prevSyncId: 's0', ingestAttempts: 0 });
    const { record, retire } = ingestFailedRecord(sent, { reason: 'download failed', docId: 'bad' }, NOW, 1000);
    expect(record).toEqual({ ...sent, status: 'ingest-failed', lastError: 'download failed', ingestAttempts: 1, retryAfter: NOW + 1000, uploadedHash: 'h1', docId: 'd1', syncId: 's0', prevHash: null, prevDocId: null, prevSyncId: null, updatedAt: NOW });
    // The failed version is to go under the sync ID it was sent with; the replaced one is back with its own.
    expect(retire).toEqual([{ target: TARGET, source: 'docs', key: 'a.md', hash: 'h2', syncId: 's1', msgId: '77', docId: 'bad', state: 'delete', reason: 'the chatbot failed to ingest it: download failed', createdAt: NOW, updatedAt: NOW }]);
    const again = ingestFailedRecord({ ...record, status: 'sent', uploadedHash: 'h2' }, { reason: 'x', docId: undefined }, NOW, 1000);
    expect(again.record).toMatchObject({ ingestAttempts: 2, retryAfter: NOW + 2000 });
    expect(again.retire).toEqual([]);
  });

  it('ingestFailedRecord: the wait stops doubling after 10 failures', () => {
    const { record } = ingestFailedRecord(row('a.md', { status: 'sent', ingestAttempts: 20 }), { reason: 'x', docId: undefined }, NOW, 1);
    expect(record.retryAfter).toBe(NOW + 2 ** 10);
    expect(ingestFailedRecord(row('a.md', { status: 'sent', ingestAttempts: 10 }), { reason: 'x', docId: undefined }, NOW, 1).record.retryAfter).toBe(NOW + 2 ** 10);
    expect(ingestFailedRecord(row('a.md', { status: 'sent', ingestAttempts: 9 }), { reason: 'x', docId: undefined }, NOW, 1).record.retryAfter).toBe(NOW + 2 ** 9);
  });

  it('ingestFailedRecord: a failed document of a first version (nothing sent before) is to go too', () => {
    const { record, retire } = ingestFailedRecord(row('a.md', { status: 'sent', uploadedHash: 'h1', docId: null, prevHash: null }), { reason: 'x', docId: 'bad' }, NOW, 1);
    expect(record).toMatchObject({ uploadedHash: null, docId: null });
    expect(retire).toHaveLength(1);
    expect(ingestFailedRecord(row('a.md', { status: 'sent', uploadedHash: null }), { reason: 'x', docId: 'bad' }, NOW, 1).retire).toEqual([]);
  });

  it('refusedRecord: refused, the version it replaced back in place', () => {
    const sent = row('a.md', { status: 'sent', uploadedHash: 'h2', docId: null, prevHash: 'h1', prevDocId: 'd1' });
    expect(refusedRecord(sent, 'service expired', NOW)).toEqual({ ...sent, status: 'refused', lastError: 'service expired', uploadedHash: 'h1', docId: 'd1', syncId: syncIdOf('docs', 'a.md', 'h1'), prevHash: null, prevDocId: null, updatedAt: NOW });
    // A replaced version sent from another path (it moved since) keeps the sync ID it was sent with.
    expect(refusedRecord({ ...sent, prevSyncId: 's-old' }, 'x', NOW)).toMatchObject({ syncId: 's-old', prevSyncId: null });
    // A new document refused: no version is in place, so no sync ID names one.
    expect(refusedRecord({ ...sent, prevHash: null, prevDocId: null, prevSyncId: null }, 'x', NOW)).toMatchObject({ uploadedHash: null, docId: null, syncId: null });
  });

  it('unconfirmedRecord: unconfirmed, with why', () => {
    const sent = row('a.md', { status: 'sent', docId: null });
    expect(unconfirmedRecord(sent, 'no confirmation within 10m', NOW)).toEqual({ ...sent, status: 'unconfirmed', lastError: 'no confirmation within 10m', updatedAt: NOW });
  });

  it('deletedRecord: deleted, nothing of it left in the knowledge base', () => {
    const removed = row('a.md', { status: 'removed', deleteAfter: 5, prevHash: 'h0', prevDocId: 'd0' });
    expect(deletedRecord(removed, NOW)).toEqual({ ...removed, status: 'deleted', uploadedHash: null, docId: null, msgId: null, deleteAfter: null, prevHash: null, prevDocId: null, updatedAt: NOW });
  });
});
