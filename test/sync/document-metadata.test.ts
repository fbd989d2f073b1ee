import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildExt, buildMetadata, MANAGED_BY, syncIdOf, titleFromName } from '../../src/sync/document-metadata.js';

/**
 * How lanying-kb's documents are told apart in the knowledge base: `managed_by` and a sync ID per version. Every
 * deletion guard (cleanup, prune) reads these back, so a change here that the guards do not expect makes lanying-kb
 * delete nothing, or worse.
 */

describe('syncIdOf', () => {
  it('is the first 32 hex digits of sha256(source \\n key \\n hash)', () => {
    const expected = createHash('sha256').update('docs\na/b.md\nh1').digest('hex').slice(0, 32);
    expect(syncIdOf('docs', 'a/b.md', 'h1')).toBe(expected);
  });

  it('names one version of one document: any part changed, another ID', () => {
    const ids = new Set([syncIdOf('docs', 'a.md', 'h1'), syncIdOf('web', 'a.md', 'h1'), syncIdOf('docs', 'b.md', 'h1'), syncIdOf('docs', 'a.md', 'h2'), syncIdOf('docs\na.md', '', 'h1')]);
    expect(ids.size).toBe(5);
    expect(syncIdOf('docs', 'a.md', 'h1')).toBe(syncIdOf('docs', 'a.md', 'h1'));
  });
});

describe('buildMetadata', () => {
  const input = { source: 'docs', key: 'guide/a.md', hash: 'h1', title: 'A guide', link: 'https://x.test/a', extra: {} };
  const tracking = { source: 'docs', path: 'guide/a.md', sha256: 'h1', sync_id: syncIdOf('docs', 'guide/a.md', 'h1'), managed_by: 'lanying-kb' };

  it.each<{ name: string; fields: Partial<typeof input> & { extra?: Record<string, unknown> }; expected: Record<string, string> }>([
    { name: 'link, title, then the tracking keys', fields: {}, expected: { link: 'https://x.test/a', title: 'A guide', ...tracking } },
    { name: 'no link and no title: neither key', fields: { link: undefined, title: undefined }, expected: tracking },
    { name: 'an empty link or title is left out', fields: { link: '', title: '' }, expected: tracking },
    { name: 'the source\'s metadata may override link and title', fields: { extra: { title: 'Mine', link: 'l', lang: 'zh' } }, expected: { link: 'l', title: 'Mine', lang: 'zh', ...tracking } },
    { name: 'values become strings', fields: { extra: { n: 3, ok: true } }, expected: { link: 'https://x.test/a', title: 'A guide', n: '3', ok: 'true', ...tracking } },
    {
      name: 'but never the tracking keys (the guards read them back)',
      fields: { extra: { managed_by: 'someone', sync_id: 'x', source: 'y', path: 'z', sha256: 'w' } },
      // (in the order the source gave them: an object keeps a key's first place)
      expected: { link: 'https://x.test/a', title: 'A guide', managed_by: 'lanying-kb', sync_id: tracking.sync_id, source: 'docs', path: 'guide/a.md', sha256: 'h1' },
    },
    {
      name: "the send's transaction ID after the sync ID, not to be overridden either",
      fields: { transactionId: 9007199254740991, extra: { transaction_id: 'x' } } as Partial<typeof input>,
      expected: { link: 'https://x.test/a', title: 'A guide', transaction_id: '9007199254740991', source: 'docs', path: 'guide/a.md', sha256: 'h1', sync_id: tracking.sync_id, managed_by: 'lanying-kb' },
    },
  ])('$name', ({ fields, expected }) => {
    const metadata = buildMetadata({ ...input, ...fields } as Parameters<typeof buildMetadata>[0]);
    expect(metadata).toEqual(expected);
    expect(Object.keys(metadata)).toEqual(Object.keys(expected));
  });

  it('marks every document lanying-kb sends as its own', () => {
    expect(MANAGED_BY).toBe('lanying-kb');
    expect(buildExt({ a: '1' })).toEqual({ ai: { metadata: { a: '1' } } });
  });
});

describe('titleFromName', () => {
  it.each([
    ['a.md', 'a'],
    ['guide/intro.v2.md', 'intro.v2'],
    ['guide/README', 'README'],
    ['.hidden', '.hidden'],
    ['dir.d/file', 'file'],
    ['x.', 'x'],
  ])('%s → %s', (key, title) => {
    expect(titleFromName(key)).toBe(title);
  });
});
