// A run's record of the content it sends first: exact answers from a fingerprint table and a temporary table.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/store.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const sha = (i: number) => createHash('sha256').update(String(i)).digest('hex');

describe('StateStore: a run\'s content sent first', () => {
  it('answers which document sends a content first, keeps the first, and forgets a run at its end', () => {
    const store = StateStore.open(tmpDir());
    const run = store.startRunContent();
    const other = store.startRunContent();
    expect(store.firstWithContent(run, sha(1))).toBeUndefined();
    store.recordFirstContent(run, [[sha(1), 'docs:a.md'], [sha(2), 'docs:b.md']]);
    store.recordFirstContent(run, [[sha(1), 'docs:later.md']]);
    expect(store.firstWithContent(run, sha(1))).toBe('docs:a.md');
    expect(store.firstWithContent(run, sha(2))).toBe('docs:b.md');
    expect(store.firstWithContent(other, sha(1))).toBeUndefined();
    // Many contents: the table grows, every answer stays exact.
    const many: [string, string][] = Array.from({ length: 20_000 }, (_, i) => [sha(i + 10), `docs:f${i}.md`]);
    store.recordFirstContent(run, many);
    for (let i = 0; i < 20_000; i += 997) expect(store.firstWithContent(run, sha(i + 10))).toBe(`docs:f${i}.md`);
    expect(store.firstWithContent(run, sha(-1))).toBeUndefined();
    expect(store.firstWithContent(run, 'not a hash')).toBeUndefined();
    store.endRunContent(run);
    expect(store.firstWithContent(run, sha(1))).toBeUndefined();
    store.close();
  });

  it('works on a read-only state (a dry run)', () => {
    const dir = tmpDir();
    StateStore.open(dir).close();
    const store = StateStore.open(dir, { readonly: true });
    const run = store.startRunContent();
    store.recordFirstContent(run, [[sha(1), 'docs:a.md']]);
    expect(store.firstWithContent(run, sha(1))).toBe('docs:a.md');
    store.endRunContent(run);
    store.close();
  });
});
