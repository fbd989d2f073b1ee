import { describe, expect, it } from 'vitest';
import type { MoveDecision } from '../../src/sync/moves.js';
import { entryOf, ReportBuilder, type ReportEntry } from '../../src/sync/report.js';

// The report as a fold, rule by rule: each decision's entry, what is counted, what is kept when collecting, and the
// outcomes of sends and confirmations. (report-stream.test.ts holds the streaming side.)

const item = (key: string, size = 10, kind = 'file') => ({ key, kind, size }) as never;
const previous = (key: string, size: number | null, kind = 'page') => ({ source: 'docs', key, kind, size }) as never;

const decisions: [string, MoveDecision, Omit<ReportEntry, 'source'>][] = [
  ['new: the observed kind and size', { action: 'new', key: 'a.md', item: item('a.md', 12), reason: 'first seen' } as never, { action: 'new', key: 'a.md', kind: 'file', bytes: 12, reason: 'first seen' }],
  ['changed', { action: 'changed', key: 'b.md', item: item('b.md', 7, 'url-file'), reason: 'content changed' } as never, { action: 'changed', key: 'b.md', kind: 'url-file', bytes: 7, reason: 'content changed' }],
  ['removed: the recorded kind and size', { action: 'removed', key: 'c.md', previous: previous('c.md', 30), reason: 'gone' } as never, { action: 'removed', key: 'c.md', kind: 'page', bytes: 30, reason: 'gone' }],
  ['removed without a recorded size: 0 bytes', { action: 'removed', key: 'd.md', previous: previous('d.md', null), reason: 'gone' } as never, { action: 'removed', key: 'd.md', kind: 'page', bytes: 0, reason: 'gone' }],
  [
    'moved: where from',
    { action: 'moved', key: 'new/e.md', item: item('new/e.md', 5), from: { source: 'old', key: 'e.md' }, hash: 'h', reason: 'same content' } as never,
    { action: 'moved', key: 'new/e.md', kind: 'file', bytes: 5, reason: 'same content', movedFrom: 'old:e.md' },
  ],
];

describe('entryOf: the report entry of each kind of decision', () => {
  it.each(decisions)('%s', (_name, decision, expected) => {
    expect(entryOf('docs', decision)).toEqual({ source: 'docs', ...expected });
  });

  it('names no movedFrom for anything but a move', () => {
    for (const [, decision] of decisions.filter(([, d]) => d.action !== 'moved')) expect(entryOf('docs', decision)).not.toHaveProperty('movedFrom');
  });
});

describe('ReportBuilder collecting (no streaming)', () => {
  const decide = (report: ReportBuilder) => {
    const entries = decisions.map(([, d]) => report.decided('docs', d));
    const unchanged = report.decided('docs', { action: 'unchanged', key: 'u.md', item: item('u.md', 99), reason: 'unchanged' } as never);
    return { entries, unchanged };
  };

  it.each([
    ['collect', { collect: true, listUnchanged: false }, 5],
    ['collect and list unchanged documents', { collect: true, listUnchanged: true }, 6],
    ['not collect', { collect: false, listUnchanged: false }, 0],
    ['not collect, even when unchanged documents are to be listed', { collect: false, listUnchanged: true }, 0],
  ])('%s: keeps %#', (_name, options, kept) => {
    const report = new ReportBuilder(options);
    expect(report.streams).toBe(false);
    decide(report);
    expect(report.entries).toHaveLength(kept);
    expect(report.counts).toMatchObject({ new: 1, changed: 1, removed: 2, moved: 1, unchanged: 1 });
    report.settledEntry({ action: 'skipped', source: 'docs', key: 'x.exe', kind: 'file', bytes: 3, reason: 'unsupported' });
    expect(report.entries).toHaveLength(options.collect ? kept + 1 : 0);
  });

  it('streams exactly when given onEntry', () => {
    expect(new ReportBuilder({ collect: true, listUnchanged: false, onEntry: () => undefined }).streams).toBe(true);
    expect(new ReportBuilder({ collect: true, listUnchanged: false, onEntry: undefined }).streams).toBe(false);
  });

  it('plans the bytes of new and changed documents only', () => {
    const report = new ReportBuilder({ collect: false, listUnchanged: false });
    decide(report);
    expect(report.counts.bytesPlanned).toBe(12 + 7);
    report.countDecision({ action: 'new', bytes: 100 });
    report.countDecision({ action: 'changed', bytes: 1000 });
    report.countDecision({ action: 'unchanged', bytes: 10_000 });
    report.countDecision({ action: 'skipped', bytes: 100_000 });
    expect(report.counts.bytesPlanned).toBe(12 + 7 + 100 + 1000);
    expect(report.counts).toMatchObject({ new: 2, changed: 2, unchanged: 2, skipped: 1 });
    report.countDecision({ action: 'new', bytes: 5 }, false);
    report.countDecision({ action: 'skipped', bytes: 6 }, true);
    expect(report.counts.bytesPlanned).toBe(12 + 7 + 100 + 1000 + 6);
  });

  it.each([
    ['sent: counted with its bytes (the uploaded size when given)', 'sent', { bytes: 8, msgId: '42' }, { sent: 1, failed: 0, bytesSent: 8 }, { outcome: 'sent', msgId: '42' }],
    ['sent without a size: the entry\'s bytes', 'sent', {}, { sent: 1, failed: 0, bytesSent: 12 }, { outcome: 'sent' }],
    ['failed: counted, with its error', 'failed', { error: 'HTTP 500' }, { sent: 0, failed: 1, bytesSent: 0 }, { outcome: 'failed', error: 'HTTP 500' }],
    ['skipped (another outcome): not counted as sent or failed', 'skipped', { error: 'changed meanwhile' }, { sent: 0, failed: 0, bytesSent: 0 }, { outcome: 'skipped', error: 'changed meanwhile' }],
  ] as const)('a send that ends %s', (_name, outcome, detail, counts, onEntry) => {
    const report = new ReportBuilder({ collect: true, listUnchanged: false });
    const entry = report.decided('docs', decisions[0]![1]);
    report.sendFinished(entry, outcome as never, detail);
    expect(report.counts).toMatchObject(counts);
    expect(entry).toMatchObject(onEntry);
    if (!('msgId' in detail)) expect(entry).not.toHaveProperty('msgId');
    if (!('error' in detail)) expect(entry).not.toHaveProperty('error');
  });

  it.each([
    ['ingested', undefined, { ingested: 1, ingestFailed: 0, refused: 0, unconfirmed: 0 }],
    ['ingest-failed', 'parse error', { ingested: 0, ingestFailed: 1, refused: 0, unconfirmed: 0 }],
    ['refused', 'round_limit', { ingested: 0, ingestFailed: 0, refused: 1, unconfirmed: 0 }],
    ['unconfirmed', undefined, { ingested: 0, ingestFailed: 0, refused: 0, unconfirmed: 1 }],
  ] as const)('the chatbot answers %s: counted, and written on the entry', (outcome, reason, counts) => {
    const report = new ReportBuilder({ collect: true, listUnchanged: false });
    const entry = report.decided('docs', decisions[0]![1]);
    report.confirmed(outcome, entry, reason);
    expect(report.counts).toMatchObject(counts);
    expect(entry.outcome).toBe(outcome);
    if (reason === undefined) expect(entry).not.toHaveProperty('error');
    else expect(entry.error).toBe(reason);
    // An answer about a document this run did not send (a late confirmation) is counted too.
    report.confirmed(outcome, undefined);
    expect(Object.values(counts as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(1);
    expect(report.counts[outcome === 'ingest-failed' ? 'ingestFailed' : outcome]).toBe(2);
  });
});
