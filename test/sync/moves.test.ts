import { describe, expect, it } from 'vitest';
import type { ObservedItem } from '../../src/sources/types.js';
import { type DocumentRecord, newDocumentRecord } from '../../src/state/store.js';
import type { Decision } from '../../src/sync/decide.js';
import { type MoveDecision, type MoveLookups, resolveMoves } from '../../src/sync/moves.js';

const STAT = { size: 10, mtimeMs: 1000, ino: 7 };

/** A state row: by default a file of source `docs` in the knowledge base (ingested) with content `h1`. */
function row(key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return { ...newDocumentRecord('docs', key, 'file', 1), hash: 'h1', status: 'ingested', uploadedHash: 'h1', msgId: '55', docId: '1-1', transactionId: 5, ...fields };
}

function file(key: string, hash = 'h1'): ObservedItem & { hash: string } {
  return { key, kind: 'file', size: STAT.size, stat: { ...STAT }, hash, payload: { type: 'file', fsPath: `/x/${key}`, name: key, title: undefined, link: undefined } };
}

const added = (key: string, hash = 'h1', previous?: DocumentRecord): Decision => ({ action: 'new', key, item: file(key, hash), previous, reason: 'first seen' });
const gone = (key: string, previous: DocumentRecord = row(key)): Decision => ({ action: 'removed', key, previous, reason: 'no longer in the source', reachedKb: true });

/**
 * Lookups over a fixed state: `rows` are the documents of any source (found by the content of their version in the
 * knowledge base), `present` the `source:key` of those whose file is still there, `firstInRun` what this run sends.
 */
function lookups(rows: DocumentRecord[], present: string[] = [], firstInRun: Record<string, string> = {}) {
  const registered: [string, string][] = [];
  const run = new Map(Object.entries(firstInRun));
  const asked: string[] = [];
  const fake: MoveLookups = {
    sameContent: (hash) => rows.filter((r) => r.uploadedHash === hash),
    exists: (record) => {
      asked.push(`${record.source}:${record.key}`);
      return present.includes(`${record.source}:${record.key}`);
    },
    firstInRun: (hash) => run.get(hash),
    registerFirst: (hash, sourceKey) => {
      registered.push([hash, sourceKey]);
      run.set(hash, sourceKey);
    },
  };
  return { fake, registered, asked };
}

/** A decision in one line: `moved new.md from docs:old.md`, `skipped b.md (same content as …)`, `new a.md`. */
function show(d: MoveDecision): string {
  if (d.action === 'moved') return `moved ${d.key} from ${d.from.source}:${d.from.key}`;
  if (d.action === 'skipped') return `skipped ${d.key} (${d.reason})`;
  return `${d.action} ${d.key}`;
}

describe('resolveMoves: a new file whose content the knowledge base holds', () => {
  const cases: { name: string; decisions: Decision[]; rows: DocumentRecord[]; present?: string[]; firstInRun?: Record<string, string>; source?: string; expect: string[] }[] = [
    {
      name: 'a rename seen whole (old path gone, new path new): a move',
      decisions: [added('new.md'), gone('old.md')],
      rows: [row('old.md')],
      expect: ['moved new.md from docs:old.md'],
    },
    {
      name: 'a rename whose new path is handled first (old still recorded in the knowledge base, its file gone): a move',
      decisions: [added('new.md')],
      rows: [row('old.md')],
      expect: ['moved new.md from docs:old.md'],
    },
    {
      name: 'the old path still there: a copy, skipped, nothing sent',
      decisions: [added('copy.md')],
      rows: [row('old.md')],
      present: ['docs:old.md'],
      expect: ['skipped copy.md (same content as docs:old.md, already sent)'],
    },
    {
      name: 'a document recorded as removed earlier: a move, whether or not its file is there',
      decisions: [added('back.md')],
      rows: [row('old.md', { status: 'removed' })],
      present: ['docs:old.md'],
      expect: ['moved back.md from docs:old.md'],
    },
    {
      name: 'a move across sources',
      decisions: [added('b.md')],
      rows: [row('a.md', { source: 'other' })],
      expect: ['moved b.md from other:a.md'],
    },
    {
      name: 'a copy of a document of another source that is still there',
      decisions: [added('b.md')],
      rows: [row('a.md', { source: 'other' })],
      present: ['other:a.md'],
      expect: ['skipped b.md (same content as other:a.md, already sent)'],
    },
    {
      name: 'two new files with one old one\'s content: one move, then a copy of the moved document',
      decisions: [added('one.md'), added('two.md'), gone('old.md')],
      rows: [row('old.md')],
      expect: ['moved one.md from docs:old.md', 'skipped two.md (same content as docs:old.md, already sent)'],
    },
    {
      name: 'two new files, two old ones gone with that content: two moves, one from each',
      decisions: [added('one.md'), added('two.md')],
      rows: [row('old1.md'), row('old2.md')],
      expect: ['moved one.md from docs:old1.md', 'moved two.md from docs:old2.md'],
    },
    {
      name: 'a removal in the batch of a document that was not taken over stays a removal',
      decisions: [added('new.md', 'h2'), gone('old.md')],
      rows: [row('old.md')],
      expect: ['new new.md', 'removed old.md'],
    },
    {
      name: 'a removal of a document of the same key in another source stays a removal',
      decisions: [added('new.md'), gone('old.md')],
      rows: [row('old.md', { source: 'other' })],
      expect: ['moved new.md from other:old.md', 'removed old.md'],
    },
    {
      name: 'only a removal of a taken-over document is dropped: that path now skipped is still reported',
      decisions: [added('new.md'), { action: 'skipped', key: 'old.md', item: { ...file('old.md'), skip: { code: 'too-large', reason: 'too large' } }, previous: row('old.md', { status: 'removed' }), reason: 'too large', repeated: false, record: true }],
      rows: [row('old.md', { status: 'removed' })],
      expect: ['moved new.md from docs:old.md', 'skipped old.md (too large)'],
    },
    {
      name: 'content the knowledge base does not hold: new, and registered as the first in the run',
      decisions: [added('a.md', 'h9')],
      rows: [row('old.md')],
      expect: ['new a.md'],
    },
    {
      name: 'content sent earlier in this run: a copy of that document',
      decisions: [added('b.md', 'h9')],
      rows: [],
      firstInRun: { h9: 'docs:a.md' },
      expect: ['skipped b.md (same content as docs:a.md, already sent)'],
    },
    {
      name: 'two new files with the same new content in one batch: the second is a copy of the first',
      decisions: [added('a.md', 'h9'), added('b.md', 'h9')],
      rows: [],
      expect: ['new a.md', 'skipped b.md (same content as docs:a.md, already sent)'],
    },
    {
      name: 'the run\'s first copy is named before one in the knowledge base',
      decisions: [added('b.md')],
      rows: [row('kept.md')],
      present: ['docs:kept.md'],
      firstInRun: { h1: 'docs:a.md' },
      expect: ['skipped b.md (same content as docs:a.md, already sent)'],
    },
    {
      name: 'a version on its way (sent) counts as in the knowledge base: moved when its file is gone',
      decisions: [added('b.md')],
      rows: [row('a.md', { status: 'sent', docId: null })],
      expect: ['moved b.md from docs:a.md'],
    },
    {
      name: 'an unconfirmed version counts as in the knowledge base: a copy while its file is there',
      decisions: [added('b.md')],
      rows: [row('a.md', { status: 'unconfirmed', docId: null })],
      present: ['docs:a.md'],
      expect: ['skipped b.md (same content as docs:a.md, already sent)'],
    },
    {
      name: 'a document whose version is not in the knowledge base (failed, pending, refused, failed to be ingested) is neither moved from nor copied',
      decisions: [added('b.md')],
      rows: [row('failed.md', { status: 'failed' }), row('pending.md', { status: 'pending' }), row('refused.md', { status: 'refused' }), row('bad.md', { status: 'ingest-failed' })],
      expect: ['new b.md'],
    },
    {
      name: 'a skipped document with that content is neither moved from nor copied',
      decisions: [added('b.md')],
      rows: [row('skipped.md', { status: 'skipped' })],
      expect: ['new b.md'],
    },
    {
      name: 'a page with that content: never a move (a page is its URL)',
      decisions: [added('b.md')],
      rows: [row('https://x.test/a', { kind: 'page' })],
      expect: ['new b.md'],
    },
    {
      name: 'its own row (a document recorded as removed that came back) is no twin',
      decisions: [added('a.md')],
      rows: [row('a.md', { status: 'removed' })],
      expect: ['new a.md'],
    },
    {
      name: 'its own key in another source is another document',
      decisions: [added('a.md')],
      rows: [row('a.md', { source: 'other', status: 'removed' })],
      expect: ['moved a.md from other:a.md'],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const { fake } = lookups(c.rows, c.present, c.firstInRun);
      expect(resolveMoves(c.source ?? 'docs', c.decisions, fake).map(show)).toEqual(c.expect);
    });
  }

  it('a move carries the new key, the content hash, the item and the old record, and a reason naming the old document', () => {
    const old = row('old.md');
    const [decision] = resolveMoves('docs', [added('new.md')], lookups([old]).fake);
    expect(decision).toEqual({
      action: 'moved',
      key: 'new.md',
      hash: 'h1',
      item: file('new.md'),
      from: old,
      reason: 'same content as docs:old.md, which left its source: recorded as a move, nothing sent',
    });
  });

  it('a copy keeps the item and its previous row, is recorded, and is no repeat', () => {
    const previous = row('copy.md', { status: 'failed', uploadedHash: null, docId: null });
    const [decision] = resolveMoves('docs', [added('copy.md', 'h1', previous)], lookups([row('old.md')], ['docs:old.md']).fake);
    expect(decision).toEqual({ action: 'skipped', key: 'copy.md', item: file('copy.md'), previous, reason: 'same content as docs:old.md, already sent', repeated: false, record: true });
  });

  it('registers only what is sent, as source:key', () => {
    const { fake, registered } = lookups([row('old.md')], ['docs:old.md']);
    resolveMoves('web', [added('a.md', 'h7'), added('b.md'), added('c.md', 'h7')], fake);
    expect(registered).toEqual([['h7', 'web:a.md']]);
  });

  it('leaves every other decision as it is, in order', () => {
    const unchanged: Decision = { action: 'unchanged', key: 'u.md', item: file('u.md'), hash: 'h1', previous: row('u.md'), reason: 'x', write: false, back: false };
    const changed: Decision = { action: 'changed', key: 'c.md', item: file('c.md'), previous: row('c.md', { uploadedHash: 'h0' }), reason: 'content changed' };
    const page: Decision = { action: 'new', key: 'https://x.test/p', item: { ...file('p'), key: 'https://x.test/p', kind: 'page' }, previous: undefined, reason: 'first seen' };
    const failed: Decision = { action: 'failed', key: 'f', item: { key: 'f', kind: 'page', size: 0, failure: 'HTTP 500' }, previous: undefined, reason: 'HTTP 500' };
    const decisions = [unchanged, changed, page, failed, gone('r.md')];
    const { fake, asked } = lookups([row('r.md', { status: 'removed' })]);
    expect(resolveMoves('docs', decisions, fake)).toEqual(decisions);
    // Nothing was looked up for them: only new files are candidates.
    expect(asked).toEqual([]);
  });

  it('asks whether a file is there only for documents in the knowledge base', () => {
    const { fake, asked } = lookups([row('removed.md', { status: 'removed' }), row('up.md'), row('failed.md', { status: 'failed' })], ['docs:up.md']);
    resolveMoves('docs', [added('new.md')], fake);
    expect(asked).not.toContain('docs:removed.md');
    expect(asked).not.toContain('docs:failed.md');
  });
});
