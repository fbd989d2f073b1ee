import { describe, expect, it } from 'vitest';
import { StateError } from '../../src/errors.js';
import { openRuntime } from '../../src/runtime/open-runtime.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { caught } from '../helpers/errors.js';
import { setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

describe('a send the server took whose outcome the state could not record', () => {
  it('(the disk filled up) stays pending with its transaction ID: the next run is dropped by the server as a repeat, never a second copy', async () => {
    const s = await setupSync({ sync: { concurrency: 1 } });
    writeFile(s.root, 'a.md', 'a');
    const runtime = openRuntime(s.config, { command: 'sync' });
    const { store } = runtime;
    // The write of the `sent` row fails once, as one on a full disk does; later writes go through (space came back).
    const put = store.put.bind(store);
    let full = true;
    store.put = (record) => {
      if (record.status === 'sent' && full) {
        full = false;
        throw new StateError(store.filepath, 'cannot be written: the disk is full (SQLITE_FULL)');
      }
      put(record);
    };
    const engine = new SyncEngine({ config: s.config, client: runtime.client, store });
    try {
      expect(await caught(engine.reconcile({ wait: false }))).toBeInstanceOf(StateError);
    } finally {
      await engine.closeLifecycles();
      runtime.close();
    }
    const state = s.state();
    expect(state.get('docs', 'a.md')).toMatchObject({ status: 'pending', transactionId: expect.any(Number) });
    state.close();
    expect(s.sends()).toHaveLength(1);

    const report = await s.sync();
    await s.sandbox.idle();
    expect(report.outcome).toBe('ok');
    expect(s.sends()).toHaveLength(1);
    expect(s.sandbox.state().knowledgeBase.documents.map((d) => d.metadata.path)).toEqual(['a.md']);
  });
});
