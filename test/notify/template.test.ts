import { describe, expect, it } from 'vitest';
import { notifyTemplateProblems, notifyValues, renderTemplate, shouldNotify, templateProblems } from '../../src/notify/notify.js';
import { reportWith } from './fixtures.js';

describe('notification templates', () => {
  it('fills every placeholder from the report and leaves unknown ones as written', () => {
    const report = reportWith({ new: 3, changed: 2, failed: 1, removed: 4, moved: 5, skipped: 6, unchanged: 7, sent: 5 });
    const text = renderTemplate(
      '{kb} run {run} ({source}) in {duration}: {added} added, {updated} updated, {failed} failed, {removed} removed, {moved} moved, ' +
        '{skipped} skipped, {unchanged} unchanged, {sent} sent; {nope} {"json": true}',
      notifyValues(report, 'product-docs'),
    );
    expect(text).toBe(
      'product-docs run 7 (handbook, website) in 2.5 s: 3 added, 2 updated, 1 failed, 4 removed, 5 moved, 6 skipped, 7 unchanged, 5 sent; {nope} {"json": true}',
    );
  });

  it('does not expand a placeholder that a value brings in', () => {
    expect(renderTemplate('{kb}: {added}', { kb: '{added}', added: '1' })).toBe('{added}: 1');
    expect(notifyValues(reportWith({}, { runId: undefined })).run).toBe('-');
  });

  it('warns about unknown placeholders, with a guess when one is close', () => {
    expect(templateProblems('{added} added, {updated} updated in {kb}')).toEqual([]);
    const problems = templateProblems('{addded} and {whatever} and {addded} {"a":1}');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/unknown placeholder \{addded\}.*did you mean \{added\}/);
    expect(problems[1]).toMatch(/unknown placeholder \{whatever\}.*known: \{added\}/);
    const perKey = notifyTemplateProblems({ push: { audience: 'all', title: '{titel}', body: '{sent}' }, message: { from: 1, users: [2], groups: [], text: '{srcs}' } });
    expect(perKey.map((p) => p.path)).toEqual(['notify.push.title', 'notify.message.text']);
  });

  it('calls for a summary only when a document was sent or failed, never for a dry run', () => {
    expect(shouldNotify(reportWith({ sent: 1, new: 1 }))).toBe(true);
    expect(shouldNotify(reportWith({ failed: 1, new: 1 }))).toBe(true);
    expect(shouldNotify(reportWith({ unchanged: 10, removed: 2, moved: 1, skipped: 3 }))).toBe(false);
    expect(shouldNotify(reportWith({ sent: 1 }, { dryRun: true }))).toBe(false);
  });
});
