import { describe, expect, it } from 'vitest';
import type { ObservedItem } from '../../src/sources/types.js';
import { type DocumentRecord, newDocumentRecord } from '../../src/state/store.js';
import { decide, type DecideOptions, type Decision, UNCHANGED_BY_STAT } from '../../src/sync/decide.js';

// More rows of decide()'s table (test/sync/decide.test.ts holds the main one): the cases mutation testing found
// that no row held.

const STAT = { size: 10, mtimeMs: 1000.5, ino: 7 };
const TARGET = 'app/1/2/kb';
const OPTIONS: DecideOptions = { target: TARGET, now: 1_000_000, maxIngestAttempts: 3 };

/** A row of source `docs`: by default ingested in the knowledge base with content h1. */
function row(key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return { ...newDocumentRecord('docs', key, 'file', 1), size: STAT.size, mtimeMs: STAT.mtimeMs, inode: STAT.ino, hash: 'h1', status: 'ingested', uploadedHash: 'h1', docId: '1-1', transactionId: 5, target: TARGET, ...fields };
}

function file(key: string, fields: Partial<ObservedItem> = {}): ObservedItem {
  return { key, kind: 'file', size: STAT.size, stat: { ...STAT }, payload: { type: 'file', fsPath: `/x/${key}`, name: key, title: undefined, link: undefined }, ...fields };
}

function decideOne(item: ObservedItem, previous?: DocumentRecord): Decision {
  const decisions = decide({ scope: { kind: 'folder', dir: '' }, items: [item], complete: true }, new Map(previous ? [[previous.key, previous]] : []), OPTIONS);
  expect(decisions).toHaveLength(1);
  return decisions[0] as Decision;
}

describe('decide: edges', () => {
  const cases: { name: string; item: ObservedItem; previous?: DocumentRecord; expect: Record<string, unknown> }[] = [
    {
      name: 'a folder reported is never a repeat (it is not recorded, so nothing says it was reported before)',
      item: { key: 'locked/', kind: 'file', size: 0, isFolder: true, skip: { code: 'unreadable', reason: 'unreadable folder (EACCES)' } },
      expect: { action: 'skipped', repeated: false, record: false, previous: undefined },
    },
    {
      name: 'skipped for the reason recorded, but the row is not skipped (a failed send): not a repeat, the status must be written',
      item: file('a.md', { skip: { code: 'too-large', reason: 'too large' } }),
      previous: row('a.md', { status: 'failed', uploadedHash: null, skipReason: 'too large' }),
      expect: { action: 'skipped', repeated: false },
    },
    {
      name: 'a URL not modified is no document coming back',
      item: { key: 'https://x.test/a', kind: 'page', size: 0, notModified: true },
      previous: row('https://x.test/a', { kind: 'page' }),
      expect: { action: 'unchanged', back: false, write: false, hash: 'h1' },
    },
    {
      name: 'a page whose Last-Modified alone changed: the validator is recorded',
      item: { key: 'https://x.test/a', kind: 'page', size: 10, hash: 'h1', validators: { etag: '"v1"', lastModified: 'Tue, 01 Jul 2025 00:00:00 GMT' } },
      previous: row('https://x.test/a', { kind: 'page', etag: '"v1"', lastModified: 'Mon, 30 Jun 2025 00:00:00 GMT' }),
      expect: { action: 'unchanged', write: true },
    },
    {
      name: 'a page without validators now, which had one: recorded (cleared)',
      item: { key: 'https://x.test/a', kind: 'page', size: 10, hash: 'h1', validators: {} },
      previous: row('https://x.test/a', { kind: 'page', lastModified: 'Mon, 30 Jun 2025 00:00:00 GMT' }),
      expect: { action: 'unchanged', write: true },
    },
    {
      name: 'the content last seen was another one (skipped as too large, say); the file is back to the sent version: recorded',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { hash: 'h2' }),
      expect: { action: 'unchanged', write: true, reason: 'content unchanged' },
    },
    {
      name: 'a row recorded as deleted counts as not in the knowledge base, whatever it still records',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { status: 'deleted' }),
      expect: { action: 'new', reason: 'back in the source after its document was deleted' },
    },
    {
      name: 'held while the last version awaits its confirmation: reported, never a repeat, never recorded',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'sent', docId: null }),
      expect: { action: 'skipped', repeated: false, record: false },
    },
    {
      name: 'quarantined, without a recorded reason: reported, never a repeat',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'ingest-failed', hash: 'h2', uploadedHash: null, docId: null, ingestAttempts: 3, lastError: null }),
      expect: { action: 'skipped', repeated: false, record: false, reason: 'quarantined: the chatbot failed to ingest it 3 times (unknown reason); sent again once it changes' },
    },
    {
      name: 'failed to be ingested, its retry not due, without a recorded reason: reported, never a repeat',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'ingest-failed', hash: 'h2', uploadedHash: null, docId: null, ingestAttempts: 1, lastError: null, retryAfter: OPTIONS.now + 1 }),
      expect: { action: 'skipped', repeated: false, record: false, reason: `the chatbot failed to ingest it (unknown reason); sent again after ${new Date(OPTIONS.now + 1).toISOString()}` },
    },
    {
      name: 'failed to be ingested, its retry due now',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'ingest-failed', hash: 'h2', uploadedHash: null, docId: null, ingestAttempts: 1, lastError: 'x', retryAfter: OPTIONS.now }),
      expect: { action: 'new', reason: 'the chatbot failed to ingest it (x); sending again' },
    },
    {
      name: 'failed to be ingested without a recorded reason, nothing else in the knowledge base: sent again',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'ingest-failed', hash: 'h2', uploadedHash: null, docId: null, ingestAttempts: 1, lastError: null, retryAfter: null }),
      expect: { action: 'new', reason: 'the chatbot failed to ingest it (unknown reason); sending again' },
    },
    {
      name: 'the last version failed to be ingested without a recorded reason, the one before still in the knowledge base: sent again',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'ingest-failed', hash: 'h2', ingestAttempts: 1, lastError: null, retryAfter: null }),
      expect: { action: 'changed', reason: 'the chatbot failed to ingest the last version (unknown reason); sending again' },
    },
    {
      name: 'refused before, without a recorded answer: sent again',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'refused', hash: 'h2', uploadedHash: null, docId: null, lastError: null }),
      expect: { action: 'new', reason: 'refused by the chatbot before (unknown); sending again' },
    },
    {
      name: 'left pending by lanying-kb resend (no transaction ID): said so',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'pending', hash: 'h2', uploadedHash: null, docId: null, transactionId: null }),
      expect: { action: 'new', reason: 'to be sent again (lanying-kb resend)' },
    },
    {
      name: 'an interrupted send (its transaction ID kept): said so',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { status: 'pending', hash: 'h2', uploadedHash: null, docId: null, transactionId: 4 }),
      expect: { action: 'new', reason: 'send was interrupted' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decideOne(c.item, c.previous)).toMatchObject({ key: c.item.key, ...c.expect });
    });
  }

  it('a document with a version in the knowledge base but no transaction ID (moved in) has reached it', () => {
    const [decision] = decide({ scope: { kind: 'folder', dir: '' }, items: [], complete: true }, new Map([['a.md', row('a.md', { transactionId: null })]]), OPTIONS);
    expect(decision).toMatchObject({ action: 'removed', reachedKb: true, reason: 'no longer in the source' });
  });

  it('a document whose document was deleted from the knowledge base is not removed again', () => {
    expect(decide({ scope: { kind: 'folder', dir: '' }, items: [], complete: true }, new Map([['a.md', row('a.md', { status: 'deleted', uploadedHash: null })]]), OPTIONS)).toEqual([]);
  });

  it('says in words why a file whose stat is as recorded is unchanged', () => {
    expect(UNCHANGED_BY_STAT).toBe('size, time and inode unchanged');
    expect(decideOne(file('a.md'), row('a.md'))).toMatchObject({ reason: 'size, time and inode unchanged' });
  });
});
