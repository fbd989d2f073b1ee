import { describe, expect, it } from 'vitest';
import { type ReportEntry, ReportBuilder } from '../../src/sync/report.js';
import type { MoveDecision } from '../../src/sync/moves.js';
import { setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

const item = (key: string) => ({ key, kind: 'file', size: 10 }) as never;
const decision = (key: string, action: 'new' | 'unchanged' | 'skipped'): MoveDecision => ({ action, key, item: item(key), reason: action }) as unknown as MoveDecision;

/** A builder that streams, with what it handed over (a copy of each entry as it was then). */
function streaming(listUnchanged = false) {
  const handed: ReportEntry[] = [];
  const report = new ReportBuilder({ collect: true, listUnchanged, onEntry: (e) => handed.push({ ...e }) });
  return { report, handed, keys: () => handed.map((e) => `${e.key}:${e.outcome ?? '-'}`) };
}

describe('ReportBuilder streaming its entries (onEntry)', () => {
  it('hands over decisions that send nothing when their batch is planned, in decision order; sends when they end', () => {
    const { report, keys } = streaming();
    const a = report.decided('docs', decision('a.md', 'new'));
    report.decided('docs', decision('b.md', 'unchanged'));
    report.decided('docs', decision('c.exe', 'skipped'));
    const d = report.decided('docs', decision('d.md', 'new'));
    expect(keys()).toEqual([]);
    report.batchPlanned(new Set([a, d]));
    expect(keys()).toEqual(['c.exe:-']);
    report.sendFinished(d, 'failed', { error: 'HTTP 500' });
    report.sendFinished(a, 'sent', { bytes: 10, msgId: '1' });
    expect(keys()).toEqual(['c.exe:-', 'd.md:failed', 'a.md:sent']);
    report.flush();
    expect(keys()).toHaveLength(3);
    expect(report.entries).toEqual([]);
    expect(report.counts).toMatchObject({ new: 2, unchanged: 1, skipped: 1, sent: 1, failed: 1 });
  });

  it.each([
    ['confirmed', (r: ReportBuilder, e: ReportEntry) => r.confirmed('ingested', e), ['a.md:ingested']],
    ['refused', (r: ReportBuilder, e: ReportEntry) => r.confirmed('refused', e, 'round_limit'), ['a.md:refused']],
    ['never answered: at the end', (r: ReportBuilder) => r.flush(), ['a.md:sent']],
  ] as const)('a sent entry whose answer is awaited waits for it: %s', (_name, then, expected) => {
    const { report, keys } = streaming();
    const a = report.decided('docs', decision('a.md', 'new'));
    report.batchPlanned(new Set([a]));
    report.awaitConfirmation(a);
    report.sendFinished(a, 'sent', { bytes: 10, msgId: '1' });
    expect(keys()).toEqual([]);
    then(report, a);
    expect(keys()).toEqual(expected);
    report.flush();
    expect(keys()).toEqual(expected);
  });

  it('lists unchanged documents only when asked; settled entries (problems, skips) at once; a run cut short hands over the rest', () => {
    const quiet = streaming();
    quiet.report.decided('docs', decision('u.md', 'unchanged'));
    quiet.report.batchPlanned(new Set());
    expect(quiet.keys()).toEqual([]);
    const listed = streaming(true);
    listed.report.decided('docs', decision('u.md', 'unchanged'));
    listed.report.settledEntry({ action: 'skipped', source: 'docs', key: 'x/', kind: 'page', bytes: 0, reason: 'unreadable' });
    expect(listed.keys()).toEqual(['x/:-']);
    listed.report.flush();
    expect(listed.keys()).toEqual(['x/:-', 'u.md:-']);
  });

  it('collects in decision order when not streaming', () => {
    const report = new ReportBuilder({ collect: true, listUnchanged: false });
    const a = report.decided('docs', decision('a.md', 'new'));
    report.decided('docs', decision('b.md', 'unchanged'));
    report.settledEntry({ action: 'skipped', source: 'docs', key: 'c.exe', kind: 'file', bytes: 1, reason: 'unsupported' });
    report.sendFinished(a, 'sent', { bytes: 10, msgId: '1' });
    expect(report.entries.map((e) => `${e.key}:${e.outcome ?? '-'}`)).toEqual(['a.md:sent', 'c.exe:-']);
  });
});

describe('a sync streaming its report (syncOnce with onEntry)', () => {
  it('hands over each entry once, settled (sent documents once ingested), and keeps none', async () => {
    const s = await setupSync({ sandbox: { faults: [{ chatbot: 'delay', match: 'slow.md', delayMs: 400 }] } });
    writeFile(s.root, 'slow.md', '# Slow\n');
    writeFile(s.root, 'quick.md', '# Quick\n');
    writeFile(s.root, 'tool.exe', 'binary');
    const handed: ReportEntry[] = [];
    const report = await s.sync({ onEntry: (e) => handed.push(structuredClone(e)) });
    expect(report.entries).toEqual([]);
    expect(report.counts).toMatchObject({ new: 2, sent: 2, ingested: 2, skipped: 1 });
    expect(handed.map((e) => `${e.key}:${e.action}:${e.outcome ?? '-'}`)).toEqual(['tool.exe:skipped:-', 'quick.md:new:ingested', 'slow.md:new:ingested']);
    // The same entries as a collected report's, whatever the order.
    writeFile(s.root, 'slow.md', '# Slow, edited\n');
    const collected = await s.sync({ dryRun: true });
    const streamed: ReportEntry[] = [];
    await s.sync({ dryRun: true, onEntry: (e) => streamed.push(e) });
    expect(streamed).toEqual(collected.entries);
    expect(streamed.map((e) => `${e.key}:${e.action}`)).toEqual(['slow.md:changed', 'tool.exe:skipped']);
  });
});
