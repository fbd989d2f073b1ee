import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ObservationBatch, Scope } from '../../src/sources/types.js';
import { newDocumentRecord, StateStore } from '../../src/state/store.js';
import { knownFor } from '../../src/sync/plan.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const KEYS = ['a.md', 'sub/b.md', 'sub/deep/c.md', 'locked/d.md', 'locked/inner/e.md', 'lockedness/f.md', 'gone/g.md'];

/** A real state database with the documents of `KEYS` in source `docs` (and one of another source). */
function store(): StateStore {
  const s = StateStore.open(path.join(tmpDir(), '.lanying-kb'));
  onTestFinished(() => s.close());
  for (const key of KEYS) s.put({ ...newDocumentRecord('docs', key, 'file', 1), status: 'ingested' });
  s.put({ ...newDocumentRecord('other', 'a.md', 'file', 1), status: 'ingested' });
  return s;
}

const batch = (scope: Scope, itemKeys: string[] = []): ObservationBatch => ({ scope, items: itemKeys.map((key) => ({ key, kind: 'file', size: 1 })), complete: true });

describe('knownFor: what the state knows of a batch\'s scope (what a complete batch may find removed)', () => {
  const cases: { name: string; batch: ObservationBatch; known: string[] }[] = [
    { name: 'all: every document of the source', batch: batch({ kind: 'all' }), known: KEYS },
    { name: 'folder: the documents directly in it', batch: batch({ kind: 'folder', dir: 'sub' }), known: ['sub/b.md'] },
    { name: 'folder: the top folder', batch: batch({ kind: 'folder', dir: '' }), known: ['a.md'] },
    { name: 'keys: those keys and the batch\'s items, when known', batch: batch({ kind: 'keys', keys: ['a.md', 'new.md'] }, ['sub/b.md', 'a.md']), known: ['a.md', 'sub/b.md'] },
    {
      name: 'other folders: those not listed by the scan',
      batch: batch({ kind: 'other-folders', listed: new Set(['', 'sub', 'sub/deep', 'locked', 'locked/inner', 'lockedness']), incomplete: [] }),
      known: ['gone/g.md'],
    },
    {
      name: 'other folders: nothing at or below a folder that could not be read (its documents are kept)',
      batch: batch({ kind: 'other-folders', listed: new Set(['', 'sub']), incomplete: ['locked'] }),
      known: ['sub/deep/c.md', 'lockedness/f.md', 'gone/g.md'],
    },
    {
      name: 'other folders: an unreadable folder deeper down keeps only what is below it',
      batch: batch({ kind: 'other-folders', listed: new Set(['']), incomplete: ['sub/deep'] }),
      known: ['sub/b.md', 'locked/d.md', 'locked/inner/e.md', 'lockedness/f.md', 'gone/g.md'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const known = knownFor(store(), 'docs', c.batch);
      expect([...known.keys()].sort()).toEqual([...c.known].sort());
      expect([...known.values()].every((r) => r.source === 'docs')).toBe(true);
    });
  }
});
