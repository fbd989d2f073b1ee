/**
 * The seam of source types, proven by one that exists only here: an in-memory source (a map of key → text) written
 * as docs/ARCHITECTURE.md says a new source type is written. The engine syncs it to the sandbox like any other:
 * new documents sent, a changed one replaced, a removed one deleted, and nothing taken for removed from an
 * observation that says it is incomplete.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openRuntime } from '../../src/runtime/open-runtime.js';
import { resolveCommon, sourceCommonShape } from '../../src/sources/common.js';
import type { HashResult, ObservedItem, ResolvedSourceBase, SourceAdapter } from '../../src/sources/types.js';
import { SyncEngine } from '../../src/sync/engine.js';
import type { ResolvedConfig } from '../../src/config/resolve.js';
import { setupSync } from '../helpers/sync.js';

interface MemorySource extends ResolvedSourceBase {
  readonly type: 'memory';
  /** key → text; `undefined` makes the observation incomplete (the store could not be read). */
  documents: Map<string, string> | undefined;
}

const schema = z.strictObject({ type: z.literal('memory'), ...sourceCommonShape });

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The whole adapter: a schema, resolve, describe, open (observe) and hash. */
const memorySource: SourceAdapter<MemorySource, typeof schema> = {
  type: 'memory',
  title: 'documents held in memory (a test source type)',
  schema,
  resolve: (input) => ({ ...resolveCommon('memory', input), documents: new Map() }),
  describe: (source) => `memory (${source.documents?.size ?? 'unreadable'} documents)`,
  async open(source, ctx) {
    const items: ObservedItem[] = [...(source.documents ?? new Map<string, string>())].map(([key, text]) => {
      // What is sent is a file the source writes where the engine tells it to (the engine removes the folder).
      const fsPath = path.join(ctx.downloadDir, `${sha256(key)}.md`);
      writeFileSync(fsPath, text);
      return { key, kind: 'file', size: Buffer.byteLength(text), hash: sha256(text), payload: { type: 'file', fsPath, name: key, title: undefined, link: undefined } };
    });
    const batch = { scope: { kind: 'all' as const }, items, complete: source.documents !== undefined };
    return {
      async *[Symbol.asyncIterator]() {
        yield batch;
      },
      close() {},
    };
  },
  // Every item carries its hash already; nothing to read.
  hash: async (_source, items): Promise<HashResult[]> => items.map((item) => ({ hash: item.hash as string, size: item.size })),
};

describe('a source type written against the SourceAdapter seam alone', () => {
  it('is synced like any other: sent, replaced when changed, deleted when removed; never deleted from an incomplete observation', async () => {
    const s = await setupSync();
    const source: MemorySource = { ...memorySource.resolve({ type: 'memory', name: 'memo' }, { baseDir: s.dir }), documents: new Map([['a.md', '# A'], ['b.md', '# B']]) };
    const config: ResolvedConfig = { ...s.config, sources: [source as unknown as ResolvedConfig['sources'][number]] };
    const run = async (prune: 'all' | 'none' = 'all') => {
      await using runtime = openRuntime(config, { command: 'test' });
      const engine = new SyncEngine({ config, client: runtime.client, store: runtime.store, adapters: [memorySource as unknown as SourceAdapter] });
      try {
        return await engine.reconcile({ prune });
      } finally {
        await engine.closeLifecycles();
        await s.sandbox.idle();
      }
    };
    const paths = () => s.sandbox.state().knowledgeBase.documents.map((d) => [d.metadata.source, d.metadata.path, d.metadata.sha256]).sort();

    expect((await run()).counts).toMatchObject({ new: 2, sent: 2, ingested: 2 });
    expect(paths()).toEqual([['memo', 'a.md', sha256('# A')], ['memo', 'b.md', sha256('# B')]]);

    source.documents?.set('a.md', '# A, revised');
    source.documents?.delete('b.md');
    expect((await run()).counts).toMatchObject({ changed: 1, removed: 1, sent: 1, ingested: 1, deleted: 2 });
    expect(paths()).toEqual([['memo', 'a.md', sha256('# A, revised')]]);

    // A store that could not be read: nothing is taken for removed, nothing deleted.
    source.documents = undefined;
    expect((await run()).counts).toMatchObject({ removed: 0, deleted: 0 });
    expect(paths()).toEqual([['memo', 'a.md', sha256('# A, revised')]]);
  });
});
