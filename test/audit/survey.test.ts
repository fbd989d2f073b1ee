import { describe, expect, it } from 'vitest';
import { surveyKnowledgeBase } from '../../src/audit/survey.js';
import { CommandTimeoutError } from '../../src/kb/channel.js';
import type { KbCommands } from '../../src/kb/commands.js';
import type { MetadataGetReply, StatusReply } from '../../src/protocol/kb-command-replies.js';

/**
 * Commands of a knowledge base of 40 documents: `metadata get` of `kb-1` times out at once, every other one answers
 * "gone" on a later turn of the event loop (or fails when its signal aborts). Counts the reads in flight.
 */
function commandsOf40() {
  const counts = { calls: 0, running: 0 };
  const status: StatusReply = { ok: true, totalDocuments: 40, documents: [{ docId: 'kb-40', filename: 'x.md', status: 'finish', progressFinished: 1, progressTotal: 1 }] };
  const commands = {
    kbName: 'kb',
    status: () => Promise.resolve(status),
    metadataGet: (docId: string, signal?: AbortSignal): Promise<MetadataGetReply> => {
      counts.calls++;
      counts.running++;
      const settled = <T>(p: Promise<T>) => p.finally(() => counts.running--);
      if (docId === 'kb-1') return settled(Promise.reject(new CommandTimeoutError(`/bluevector metadata get ${docId}`, 300)));
      return settled(
        new Promise<MetadataGetReply>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason as Error);
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          setImmediate(() => resolve({ ok: false, reason: 'doc_id_not_exist', text: '文档metadata获取失败：doc_id not exist' }));
        }),
      );
    },
  };
  return { commands: commands as unknown as KbCommands, counts };
}

describe('surveyKnowledgeBase', () => {
  it('a walk that fails stops at once: no read still in flight or still to start once it has rejected', async () => {
    const { commands, counts } = commandsOf40();
    await expect(surveyKnowledgeBase(commands, { docIds: [], walk: true })).rejects.toBeInstanceOf(CommandTimeoutError);
    expect(counts.running).toBe(0);
    expect(counts.calls).toBeLessThanOrEqual(5);
  });
});
