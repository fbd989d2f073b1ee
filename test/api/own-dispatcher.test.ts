import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadUndici } from '../../src/api/lazy-modules.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/** Where undici (and the copy built into Node.js 24 and later) keep the process's global dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

describe('the API client and another global dispatcher', () => {
  it('uploads through its own undici Agent when the global dispatcher is a foreign one (as Node.js 24+ installs)', async () => {
    await loadUndici();
    const holder = globalThis as unknown as Record<symbol, unknown>;
    const saved = holder[GLOBAL_DISPATCHER];
    let used = 0;
    // A dispatcher from another undici copy, which cannot send this undici's FormData (Node.js 26 throws, 24 hangs).
    holder[GLOBAL_DISPATCHER] = {
      dispatch() {
        used++;
        throw new Error('the foreign global dispatcher was used');
      },
      close: async () => {},
      destroy: async () => {},
    };
    onTestFinished(() => {
      holder[GLOBAL_DISPATCHER] = saved;
    });
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [a, b] = await registerUsers(client, ['own_a', 'own_b']);
    const file = path.join(tmpDir(), 'doc.md');
    writeFileSync(file, '# doc\n');
    const uploaded = await client.files.uploadChatFile({ body: { path: file }, name: 'doc.md', toId: b as number }, { actAs: a as number });
    expect(uploaded.size).toBe(6);
    expect(used).toBe(0);
  });
});
