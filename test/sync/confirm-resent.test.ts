/**
 * The confirmer and a document that `resend` marked: a notice proven to be of its version, read while no version is
 * recorded on the row. Driven directly (a real state database; the conversation and the chatbot's commands stood in
 * for), so that what one notice writes is seen before a sync would act on it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KbChannel, ChatbotMessage } from '../../src/kb/channel.js';
import type { KbCommands } from '../../src/kb/commands.js';
import { type DocumentRecord, newDocumentRecord, StateStore } from '../../src/state/store.js';
import { KB_ROUND_LIMIT_TEXT } from '../../src/protocol/kb-send-replies.js';
import { Confirmer } from '../../src/sync/confirm.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const TARGET = 'app/1/2/kb';
const KB = 'kb';
const success = (docId: string): string => `文章（ID：${docId}）已加入知识库 ${KB}，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ`;

/** A conversation whose messages are delivered when the confirmer catches up; commands answered from `metadata`. */
function harness(store: StateStore, metadata: Record<string, Record<string, string>>) {
  const listeners: ((m: ChatbotMessage) => void)[] = [];
  const queued: ChatbotMessage[] = [];
  const channel = {
    onMessage: (listener: (m: ChatbotMessage) => void) => {
      listeners.push(listener);
      return () => undefined;
    },
    startAfter: () => undefined,
    newestRead: () => undefined,
    watch: () => () => undefined,
    caughtUp: async () => {
      for (const m of queued.splice(0)) for (const l of listeners) l(m);
    },
  } as unknown as KbChannel;
  const commands = {
    metadataGet: async (docId: string) => (metadata[docId] ? { ok: true, metadata: metadata[docId] } : { ok: false, reason: 'doc_id_not_exist', text: 'x' }),
    status: async () => ({ ok: false, reason: 'failed', text: 'x' }),
  } as unknown as KbCommands;
  const confirmer = new Confirmer({ store, channel, commands, target: TARGET, kbName: KB, confirmTimeoutMs: 1000, ingestRetryDelayMs: 1000, replace: true, now: () => 5_000 });
  return {
    confirmer,
    say: (msgId: string, content: string, requestMsgId?: string) => queued.push({ msgId, content, ext: undefined, requestMsgId, timestamp: 0 }),
  };
}

const stores: StateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function openStore(): StateStore {
  const store = StateStore.open(tmpDir());
  stores.push(store);
  return store;
}

/** A row that `resend` marked (as lanying-kb did before it recorded the send it replaced): no version on the row. */
function marked(fields: Partial<DocumentRecord> = {}): DocumentRecord {
  return { ...newDocumentRecord('docs', 'a.md', 'file', 1), hash: 'h1', syncId: 's1', target: TARGET, status: 'pending', ...fields };
}

describe('a late notice of a document that resend marked', () => {
  it.each(['pending', 'failed'] as const)('%s, no replaced send recorded: the copy is not recorded as its document (no version names it)', async (status) => {
    const store = openStore();
    const row = marked({ status, transactionId: null, uploadedAt: 4_000 });
    store.put(row);
    // Another document's late notice is looked for, so the conversation is read.
    store.put({ ...newDocumentRecord('docs', 'b.md', 'file', 1), status: 'unconfirmed', hash: 'hb', uploadedHash: 'hb', syncId: 'sb', msgId: '10', target: TARGET, uploadedAt: 4_000 });
    const { confirmer, say } = harness(store, { 'kb-1': { sync_id: 's1', transaction_id: '77' } });
    say('20', success('kb-1'));
    await confirmer.catchUp();
    expect(store.get('docs', 'a.md')).toEqual(row);
    await confirmer.close();
  });

  it('pending, its replaced send recorded: the copy is its document, as the version that send carried', async () => {
    const store = openStore();
    store.put(marked({ uploadedAt: null }));
    store.addKbVersion({ target: TARGET, source: 'docs', key: 'a.md', hash: 'h1', syncId: 's1', msgId: '10', docId: null, state: 'superseded', reason: 'sent again', createdAt: 4_000, updatedAt: 4_000 });
    const { confirmer, say } = harness(store, { 'kb-1': { sync_id: 's1', transaction_id: '77' } });
    say('20', success('kb-1'));
    await confirmer.catchUp();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingested', docId: 'kb-1', uploadedHash: 'h1', syncId: 's1', msgId: '10' });
    expect(store.kbVersions()).toEqual([]);
    await confirmer.close();
  });

  it('a refusal of the replaced send: nothing is looked for any more', async () => {
    const store = openStore();
    store.put(marked());
    store.addKbVersion({ target: TARGET, source: 'docs', key: 'a.md', hash: 'h1', syncId: 's1', msgId: '10', docId: null, state: 'superseded', reason: 'sent again', createdAt: 4_000, updatedAt: 4_000 });
    const { confirmer, say } = harness(store, {});
    expect(confirmer.lateCandidates()).toEqual([expect.objectContaining({ msgId: '10' })]);
    say('11', 'not a refusal', '10');
    await confirmer.catchUp();
    expect(confirmer.lateCandidates()).toHaveLength(1);
    say('12', KB_ROUND_LIMIT_TEXT, '10');
    await confirmer.catchUp();
    expect(confirmer.lateCandidates()).toEqual([]);
    expect(store.kbVersions()).toEqual([]);
    await confirmer.close();
  });
});
