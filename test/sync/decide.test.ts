import { describe, expect, it } from 'vitest';
import type { ObservationBatch, ObservedItem, Scope } from '../../src/sources/types.js';
import { type DocumentRecord, newDocumentRecord } from '../../src/state/store.js';
import { contentNeeded, decide, type DecideOptions, type Decision, UNCHANGED_BY_STAT } from '../../src/sync/decide.js';

const STAT = { size: 10, mtimeMs: 1000.5, ino: 7 };
const TARGET = 'app/1/2/kb';
const NOW = 1_000_000;
const OPTIONS: DecideOptions = { target: TARGET, now: NOW, maxIngestAttempts: 3 };

/** A state row of a document of source `docs`. */
function row(key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return { ...newDocumentRecord('docs', key, 'file', 1), size: STAT.size, mtimeMs: STAT.mtimeMs, inode: STAT.ino, ...fields };
}

const uploaded = (key: string, fields: Partial<DocumentRecord> = {}) => row(key, { hash: 'h1', status: 'ingested', uploadedHash: 'h1', docId: '1-1', transactionId: 5, target: TARGET, ...fields });

/** A file as a folder source observes it. */
function file(key: string, fields: Partial<ObservedItem> = {}): ObservedItem {
  return { key, kind: 'file', size: STAT.size, stat: { ...STAT }, payload: { type: 'file', fsPath: `/x/${key}`, name: key, title: undefined, link: undefined }, ...fields };
}

function batch(items: ObservedItem[], options: { complete?: boolean; scope?: Scope } = {}): ObservationBatch {
  return { scope: options.scope ?? { kind: 'folder', dir: '' }, items, complete: options.complete ?? true };
}

function decideOne(item: ObservedItem, previous?: DocumentRecord): Decision {
  const known = new Map(previous ? [[previous.key, previous]] : []);
  const decisions = decide(batch([item]), known, OPTIONS);
  expect(decisions).toHaveLength(1);
  return decisions[0] as Decision;
}

describe('decide: one observed document against what the state knows', () => {
  const cases: { name: string; item: ObservedItem; previous?: DocumentRecord; expect: Record<string, unknown> }[] = [
    { name: 'new: never seen', item: file('a.md', { hash: 'h1' }), expect: { action: 'new', reason: 'first seen' } },
    {
      name: 'new: failed before (not sent yet, with the last error)',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { hash: 'h1', status: 'failed', lastError: 'HTTP 500' }),
      expect: { action: 'new', reason: 'not sent yet (last error: HTTP 500)' },
    },
    {
      name: 'new: failed before without a recorded error',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { hash: 'h1', status: 'failed' }),
      expect: { action: 'new', reason: 'not sent yet (last error: unknown)' },
    },
    {
      name: 'new: a send that was interrupted (pending)',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { hash: 'h1', status: 'pending', transactionId: 9 }),
      expect: { action: 'new', reason: 'send was interrupted' },
    },
    {
      name: 'new: skipped before, now sendable',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { status: 'skipped', skipReason: 'empty file' }),
      expect: { action: 'new', reason: 'first seen' },
    },
    {
      name: 'changed: the content differs from the version in the knowledge base',
      item: file('a.md', { hash: 'h2', stat: { ...STAT, mtimeMs: 2000 } }),
      previous: uploaded('a.md'),
      expect: { action: 'changed', reason: 'content changed' },
    },
    {
      name: 'changed: a send of a new version failed before',
      item: file('a.md', { hash: 'h2' }),
      previous: uploaded('a.md', { hash: 'h2', status: 'failed' }),
      expect: { action: 'changed', reason: 'content changed' },
    },
    {
      name: 'changed: the last version failed to be ingested and its retry is due',
      item: file('a.md', { hash: 'h2' }),
      previous: uploaded('a.md', { hash: 'h2', status: 'ingest-failed', lastError: 'exception', ingestAttempts: 1, retryAfter: NOW - 1 }),
      expect: { action: 'changed', reason: 'the chatbot failed to ingest the last version (exception); sending again' },
    },
    {
      name: 'new: failed to be ingested (nothing else in the knowledge base), retry due',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { hash: 'h2', status: 'ingest-failed', lastError: 'download failed', ingestAttempts: 2, retryAfter: NOW }),
      expect: { action: 'new', reason: 'the chatbot failed to ingest it (download failed); sending again' },
    },
    {
      name: 'held: failed to be ingested, the retry is not due yet',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { hash: 'h2', status: 'ingest-failed', lastError: 'exception', ingestAttempts: 1, retryAfter: NOW + 1 }),
      expect: { action: 'skipped', record: false, reason: `the chatbot failed to ingest it (exception); sent again after ${new Date(NOW + 1).toISOString()}` },
    },
    {
      name: 'quarantined: failed to be ingested maxIngestAttempts times',
      item: file('a.md', { hash: 'h2' }),
      previous: row('a.md', { hash: 'h2', status: 'ingest-failed', lastError: 'exception', ingestAttempts: 3, retryAfter: NOW - 1 }),
      expect: { action: 'skipped', record: false, reason: 'quarantined: the chatbot failed to ingest it 3 times (exception); sent again once it changes' },
    },
    {
      name: 'quarantine ends when the content changes',
      item: file('a.md', { hash: 'h3' }),
      previous: row('a.md', { hash: 'h2', status: 'ingest-failed', lastError: 'exception', ingestAttempts: 3, retryAfter: NOW + 100 }),
      expect: { action: 'new' },
    },
    {
      name: 'held: changed while the last version awaits its confirmation',
      item: file('a.md', { hash: 'h2' }),
      previous: uploaded('a.md', { status: 'sent', docId: null }),
      expect: { action: 'skipped', record: false, reason: "changed while its last version awaits the chatbot's confirmation: sent once that is known" },
    },
    {
      name: 'unchanged: the version on its way',
      item: file('a.md'),
      previous: uploaded('a.md', { status: 'sent', docId: null }),
      expect: { action: 'unchanged', write: false },
    },
    {
      name: 'unchanged: an unconfirmed version is never sent again blindly',
      item: file('a.md'),
      previous: uploaded('a.md', { status: 'unconfirmed', docId: null }),
      expect: { action: 'unchanged', write: false },
    },
    {
      name: 'changed: an unconfirmed version whose file changed',
      item: file('a.md', { hash: 'h2' }),
      previous: uploaded('a.md', { status: 'unconfirmed', docId: null }),
      expect: { action: 'changed', reason: 'content changed' },
    },
    {
      name: 'new: refused by the chatbot before',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { hash: 'h1', status: 'refused', lastError: 'service is expired' }),
      expect: { action: 'new', reason: 'refused by the chatbot before (service is expired); sending again' },
    },
    {
      name: 'unchanged: a send of another content failed, the file is back to the version in the knowledge base',
      item: file('a.md', { hash: 'h1' }),
      previous: uploaded('a.md', { hash: 'h2', status: 'failed', lastError: 'HTTP 500' }),
      expect: { action: 'unchanged', write: true },
    },
    {
      name: 'new: back in the source after its document was deleted',
      item: file('a.md', { hash: 'h1' }),
      previous: row('a.md', { hash: 'h1', status: 'deleted' }),
      expect: { action: 'new', reason: 'back in the source after its document was deleted' },
    },
    {
      name: 'new: the state recorded it in another knowledge base',
      item: file('a.md'),
      previous: uploaded('a.md', { target: 'app/9/2/other' }),
      expect: { action: 'new', reason: 'not yet in this knowledge base (the configuration points at another one than the state records)', previous: undefined },
    },
    {
      name: 'unchanged: a row written before targets were recorded counts as the configured target',
      item: file('a.md'),
      previous: uploaded('a.md', { target: null }),
      expect: { action: 'unchanged' },
    },
    {
      name: 'unchanged: stat as recorded, content not read',
      item: file('a.md'),
      previous: uploaded('a.md'),
      expect: { action: 'unchanged', reason: UNCHANGED_BY_STAT, write: false, back: false, hash: 'h1' },
    },
    {
      name: 'unchanged: read again (checksum), same content',
      item: file('a.md', { hash: 'h1' }),
      previous: uploaded('a.md'),
      expect: { action: 'unchanged', reason: 'content unchanged', write: false },
    },
    {
      name: 'touched: the stat changed, the content did not',
      item: file('a.md', { hash: 'h1', stat: { ...STAT, mtimeMs: 5000 } }),
      previous: uploaded('a.md'),
      expect: { action: 'unchanged', reason: 'touched, content unchanged', write: true, back: false },
    },
    {
      name: 'touched: a new inode (an atomic save of the same content)',
      item: file('a.md', { hash: 'h1', stat: { ...STAT, ino: 99 } }),
      previous: uploaded('a.md'),
      expect: { action: 'unchanged', reason: 'touched, content unchanged', write: true },
    },
    {
      name: 'touched: a new size cannot keep the content, so the file is read',
      item: file('a.md', { hash: 'h1', stat: { ...STAT, size: 11 } }),
      previous: uploaded('a.md'),
      expect: { action: 'unchanged', write: true },
    },
    {
      name: 'back in the source with the content already sent',
      item: file('a.md'),
      previous: uploaded('a.md', { status: 'removed' }),
      expect: { action: 'unchanged', reason: 'back in the source with the content already sent', write: true, back: true },
    },
    {
      name: 'back in the source, changed meanwhile',
      item: file('a.md', { hash: 'h2' }),
      previous: uploaded('a.md', { status: 'removed' }),
      expect: { action: 'changed' },
    },
    {
      name: 'skipped: a type the chatbot does not take',
      item: file('a.exe', { skip: { code: 'unsupported', reason: 'unsupported type (.exe)' }, payload: undefined }),
      expect: { action: 'skipped', reason: 'unsupported type (.exe)', repeated: false, record: true },
    },
    {
      name: 'skipped again for the same reason: repeated (nothing to write)',
      item: file('a.exe', { skip: { code: 'unsupported', reason: 'unsupported type (.exe)' } }),
      previous: row('a.exe', { status: 'skipped', skipReason: 'unsupported type (.exe)' }),
      expect: { action: 'skipped', repeated: true },
    },
    {
      name: 'skipped for a new reason: not repeated',
      item: file('a.md', { skip: { code: 'too-large', reason: 'larger than maxFileSize' } }),
      previous: row('a.md', { status: 'skipped', skipReason: 'empty file' }),
      expect: { action: 'skipped', repeated: false },
    },
    {
      name: 'skipped: a document already in the knowledge base keeps its status (not repeated the first time)',
      item: file('a.md', { skip: { code: 'too-large', reason: 'larger than maxFileSize' } }),
      previous: uploaded('a.md'),
      expect: { action: 'skipped', repeated: false },
    },
    {
      name: 'skipped again: a document in the knowledge base with the same reason recorded',
      item: file('a.md', { skip: { code: 'too-large', reason: 'larger than maxFileSize' } }),
      previous: uploaded('a.md', { skipReason: 'larger than maxFileSize' }),
      expect: { action: 'skipped', repeated: true },
    },
    {
      name: 'a folder reported instead of entered is reported, never recorded',
      item: { key: 'locked/', kind: 'file', size: 0, isFolder: true, skip: { code: 'unreadable', reason: 'unreadable folder (EACCES)' } },
      expect: { action: 'skipped', reason: 'unreadable folder (EACCES)', record: false },
    },
    {
      name: 'a folder reported without a reason',
      item: { key: 'link/', kind: 'file', size: 0, isFolder: true },
      expect: { action: 'skipped', reason: 'folder left out', record: false },
    },
    {
      name: 'failed: a URL that could not be fetched',
      item: { key: 'https://x.test/a', kind: 'page', size: 0, failure: 'HTTP 500' },
      previous: uploaded('https://x.test/a', { kind: 'page' }),
      expect: { action: 'failed', reason: 'HTTP 500' },
    },
    {
      name: 'unchanged: a URL not modified (conditional GET)',
      item: { key: 'https://x.test/a', kind: 'page', size: 0, notModified: true },
      previous: uploaded('https://x.test/a', { kind: 'page' }),
      expect: { action: 'unchanged', reason: 'not modified (conditional GET)', write: false },
    },
    {
      name: 'unchanged: a URL fetched again with the same text, new validators to record',
      item: { key: 'https://x.test/a', kind: 'page', size: 10, hash: 'h1', validators: { etag: '"v2"' } },
      previous: uploaded('https://x.test/a', { kind: 'page', etag: '"v1"' }),
      expect: { action: 'unchanged', reason: 'content unchanged', write: true },
    },
    {
      name: 'unchanged: a URL fetched again with the same text and validators',
      item: { key: 'https://x.test/a', kind: 'page', size: 10, hash: 'h1', validators: { etag: '"v1"' } },
      previous: uploaded('https://x.test/a', { kind: 'page', etag: '"v1"' }),
      expect: { action: 'unchanged', write: false },
    },
    {
      name: 'changed: a URL whose text changed',
      item: { key: 'https://x.test/a', kind: 'page', size: 10, hash: 'h2' },
      previous: uploaded('https://x.test/a', { kind: 'page' }),
      expect: { action: 'changed' },
    },
  ];

  it.each(cases)('$name', ({ item, previous, expect: expected }) => {
    expect(decideOne(item, previous)).toMatchObject({ key: item.key, ...expected });
  });

  it('gives a document to send the content hash it is sent with', () => {
    const decision = decideOne(file('a.md', { hash: 'h9' }));
    expect(decision).toMatchObject({ action: 'new', item: { hash: 'h9' } });
  });

  it('refuses an item whose content was not read although it had to be', () => {
    expect(() => decide(batch([file('a.md')]), new Map(), OPTIONS)).toThrow(/no content hash/);
  });
});

describe('decide: documents that left their source', () => {
  const known = (...rows: DocumentRecord[]) => new Map(rows.map((r) => [r.key, r]));

  it('a complete batch takes every known document it does not hold for removed', () => {
    const decisions = decide(batch([file('a.md')]), known(uploaded('a.md'), uploaded('gone.md'), row('never-sent.md', { status: 'skipped' })), OPTIONS);
    expect(decisions.map((d) => [d.key, d.action, d.action === 'removed' ? d.reachedKb : undefined])).toEqual([
      ['a.md', 'unchanged', undefined],
      ['gone.md', 'removed', true],
      ['never-sent.md', 'removed', false],
    ]);
    expect(decisions[1]).toMatchObject({ reason: 'no longer in the source' });
    expect(decisions[2]).toMatchObject({ reason: 'no longer in the source (never sent)' });
  });

  it('a document whose send was tried (a transaction ID) counts as having reached the knowledge base', () => {
    const [decision] = decide(batch([]), known(row('tried.md', { status: 'pending', transactionId: 3 })), OPTIONS);
    expect(decision).toMatchObject({ action: 'removed', reachedKb: true });
  });

  it('an incomplete batch (a failed sitemap, an unreadable folder) removes nothing', () => {
    expect(decide(batch([], { complete: false }), known(uploaded('gone.md')), OPTIONS)).toEqual([]);
  });

  it('a document already deleted from the knowledge base is not removed again', () => {
    expect(decide(batch([]), known(row('gone.md', { status: 'deleted' })), OPTIONS)).toEqual([]);
  });

  it('a document already recorded as removed is not removed again', () => {
    expect(decide(batch([]), known(uploaded('gone.md', { status: 'removed' })), OPTIONS)).toEqual([]);
  });

  it('a batch of watched paths removes only those of its keys that are gone', () => {
    const scope: Scope = { kind: 'keys', keys: ['a.md', 'b.md'] };
    const decisions = decide(batch([file('a.md')], { scope }), known(uploaded('a.md'), uploaded('b.md'), uploaded('c.md')), OPTIONS);
    expect(decisions.map((d) => [d.key, d.action])).toEqual([
      ['a.md', 'unchanged'],
      ['b.md', 'removed'],
    ]);
  });
});

describe('contentNeeded: which documents are read before deciding', () => {
  const cases: { name: string; item: ObservedItem; previous?: DocumentRecord; checksum?: boolean; needed: boolean }[] = [
    { name: 'a new file', item: file('a.md'), needed: true },
    { name: 'a file whose stat is as recorded', item: file('a.md'), previous: uploaded('a.md'), needed: false },
    { name: 'the same, with --checksum', item: file('a.md'), previous: uploaded('a.md'), checksum: true, needed: true },
    { name: 'a different size', item: file('a.md', { stat: { ...STAT, size: 11 } }), previous: uploaded('a.md'), needed: true },
    { name: 'a different time', item: file('a.md', { stat: { ...STAT, mtimeMs: 1 } }), previous: uploaded('a.md'), needed: true },
    { name: 'a different inode', item: file('a.md', { stat: { ...STAT, ino: 8 } }), previous: uploaded('a.md'), needed: true },
    { name: 'a known file whose content was never read', item: file('a.md'), previous: row('a.md', { hash: null }), needed: true },
    { name: 'an item that carries its hash', item: file('a.md', { hash: 'h' }), needed: false },
    { name: 'a skipped file', item: file('a.exe', { skip: { code: 'unsupported', reason: 'x' } }), needed: false },
    { name: 'a failed fetch', item: { key: 'u', kind: 'page', size: 0, failure: 'x' }, needed: false },
    { name: 'a URL not modified', item: { key: 'u', kind: 'page', size: 0, notModified: true }, previous: uploaded('u'), needed: false },
    { name: 'a folder report', item: { key: 'd/', kind: 'file', size: 0, isFolder: true }, needed: false },
    { name: 'an item without a stat', item: { key: 'u', kind: 'page', size: 0 }, previous: uploaded('u'), needed: true },
  ];
  it.each(cases)('$name: $needed', ({ item, previous, checksum, needed }) => {
    expect(contentNeeded(item, previous, { checksum: checksum ?? false })).toBe(needed);
  });
});
