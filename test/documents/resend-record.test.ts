import { describe, expect, it } from 'vitest';
import { resendRecord, resendRefusal } from '../../src/documents/resend.js';
import { type DocumentRecord, type DocumentStatus, newDocumentRecord } from '../../src/state/store.js';
import { syncIdOf } from '../../src/sync/document-metadata.js';

const ingested: DocumentRecord = {
  ...newDocumentRecord('docs', 'a.md', 'file', 0),
  status: 'ingested',
  hash: 'h1',
  uploadedHash: 'h1',
  syncId: 's1',
  msgId: '900',
  docId: 'kb-3',
  transactionId: 77,
  uploadedAt: 10,
  ingestedAt: 20,
  ingestAttempts: 0,
  etag: '"e"',
  lastModified: 'Mon',
  target: 'app/1/2/kb',
};

describe('resendRecord', () => {
  it('clears the send columns (a new transaction ID, no conditional request) and keeps what was observed', () => {
    const { record } = resendRecord(ingested, { replace: true, now: 99 });
    expect(record).toEqual({
      ...ingested,
      status: 'pending',
      transactionId: null,
      uploadedHash: null,
      msgId: null,
      docId: null,
      uploadedAt: null,
      ingestedAt: null,
      etag: null,
      lastModified: null,
      updatedAt: 99,
    });
    expect(record).toMatchObject({ hash: 'h1', syncId: 's1', target: 'app/1/2/kb' });
  });

  it('retires the copy in the knowledge base as superseded (deleted once the new copy is ingested) with replace', () => {
    expect(resendRecord(ingested, { replace: true, now: 99 }).retire).toEqual([
      {
        target: 'app/1/2/kb',
        source: 'docs',
        key: 'a.md',
        hash: 'h1',
        syncId: 's1',
        msgId: '900',
        docId: 'kb-3',
        state: 'superseded',
        reason: 'sent again (lanying-kb resend)',
        createdAt: 99,
        updatedAt: 99,
      },
    ]);
    expect(resendRecord(ingested, { replace: false, now: 99 }).retire).toEqual([]);
    expect(resendRecord({ ...ingested, docId: null, status: 'unconfirmed' }, { replace: true, now: 99 }).retire).toEqual([]);
  });

  it('retires the version an unconfirmed one replaced too: nothing else would delete it once the row forgets it', () => {
    const unconfirmed = { ...ingested, status: 'unconfirmed' as const, docId: null, uploadedHash: 'h2', syncId: 's2', prevHash: 'h1', prevDocId: 'kb-3' };
    expect(resendRecord(unconfirmed, { replace: true, now: 99 }).retire).toEqual([
      { target: 'app/1/2/kb', source: 'docs', key: 'a.md', hash: 'h1', syncId: syncIdOf('docs', 'a.md', 'h1'), msgId: null, docId: 'kb-3', state: 'superseded', reason: 'sent again (lanying-kb resend)', createdAt: 99, updatedAt: 99 },
    ]);
    expect(resendRecord(unconfirmed, { replace: true, now: 99 }).record).toMatchObject({ prevHash: null, prevDocId: null });
    expect(resendRecord(unconfirmed, { replace: false, now: 99 }).retire).toEqual([]);
  });

  it('names the replaced version of a document moved since by the sync ID it was sent under, not one computed from its new path', () => {
    const moved = { ...ingested, key: 'moved/a.md', status: 'unconfirmed' as const, docId: null, uploadedHash: 'h2', syncId: 's2', prevHash: 'h1', prevDocId: 'kb-3', prevSyncId: syncIdOf('docs', 'a.md', 'h1') };
    expect(resendRecord(moved, { replace: true, now: 99 }).retire).toEqual([
      expect.objectContaining({ key: 'moved/a.md', hash: 'h1', syncId: syncIdOf('docs', 'a.md', 'h1'), docId: 'kb-3' }),
    ]);
  });

  it('gives a quarantined document a fresh count of attempts', () => {
    const quarantined = { ...ingested, status: 'ingest-failed' as const, docId: null, ingestAttempts: 3, retryAfter: 500, lastError: 'exception', attempts: 2 };
    expect(resendRecord(quarantined, { replace: true, now: 99 }).record).toMatchObject({ ingestAttempts: 0, retryAfter: null, lastError: null, attempts: 0 });
  });
});

describe('resendRefusal', () => {
  const configured = new Set(['docs']);
  it.each<[string, Partial<DocumentRecord>, string | undefined]>([
    ['ingested', {}, undefined],
    ['unconfirmed', { status: 'unconfirmed', docId: null }, undefined],
    ['ingest-failed', { status: 'ingest-failed' }, undefined],
    ['refused', { status: 'refused' }, undefined],
    ['failed', { status: 'failed' }, undefined],
    ['pending after resend', { status: 'pending', transactionId: null }, undefined],
    ['an interrupted send', { status: 'pending', transactionId: 5 }, 'its send was interrupted: the next sync sends it (with the same transaction ID)'],
    ['sent', { status: 'sent' }, "its last version awaits the chatbot's confirmation"],
    ['skipped', { status: 'skipped', skipReason: 'too big' }, 'skipped: too big'],
    ['removed', { status: 'removed' }, 'it left its source'],
    ['deleted', { status: 'deleted' }, 'it left its source'],
    ['of a source not configured', { source: 'old' }, 'its source "old" is not an enabled source of the configuration'],
  ])('%s', (_name, fields, expected) => {
    expect(resendRefusal({ ...ingested, ...fields, status: (fields.status ?? 'ingested') as DocumentStatus }, configured)).toBe(expected);
  });
});
