import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonEnv, useDaemon, waitFor } from './helpers.js';

/** The knowledge base's documents by the path their metadata names. */
function kb(env: Awaited<ReturnType<typeof daemonEnv>>): { docId: string; path: string }[] {
  return env.sandbox.state().knowledgeBase.documents.map((d) => ({ docId: d.doc_id, path: d.metadata.path ?? '' }));
}

describe('lanying-kb watch: the knowledge base follows the folder', () => {
  it('deletes an edited file\'s old version as soon as its new one is ingested (not at the next hourly upkeep), and a removed file after deleteAfter', async () => {
    const env = await daemonEnv({ sync: { deleteAfter: 0 } });
    env.write('guide.md', '# Guide\n');
    env.write('gone.md', '# Gone\n');
    // An upkeep interval no test waits for: only the confirmation can bring the deletion forward.
    const daemon = await useDaemon(env.config(), { maintainIntervalMs: 3_600_000 });
    await daemon.ready;
    await waitFor(() => env.read((s) => s.list({ status: ['ingested'] }).length) === 2, 5000, 'both documents ingested');
    const first = kb(env).find((d) => d.path === 'guide.md')?.docId;

    env.write('guide.md', '# Guide, edited\n');
    await waitFor(() => kb(env).filter((d) => d.path === 'guide.md').length === 1 && kb(env).find((d) => d.path === 'guide.md')?.docId !== first, 10_000, 'the old version deleted');
    await waitFor(() => env.read((s) => s.get('docs', 'guide.md')?.docId) !== first, 5000, 'the new version recorded');
    expect(env.read((s) => s.get('docs', 'guide.md'))).toMatchObject({ status: 'ingested', docId: kb(env).find((d) => d.path === 'guide.md')?.docId });

    rmSync(path.join(env.docs, 'gone.md'));
    // The chatbot deletes the document when it reads the command; the state records it once the answer is read.
    await waitFor(() => env.read((s) => s.get('docs', 'gone.md')?.status) === 'deleted', 10_000, 'the removed file deleted');
    expect(kb(env).some((d) => d.path === 'gone.md')).toBe(false);
    expect(kb(env).map((d) => d.path)).toEqual(['guide.md']);
  });
});
