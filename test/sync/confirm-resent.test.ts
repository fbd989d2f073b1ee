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

/** A send that resend replaced before it was confirmed (version h1, sync ID s1, message `msgId`, no document). */
function replacedSend(store: StateStore, msgId: string): void {
  store.addKbVersion({ target: TARGET, source: 'docs', key: 'a.md', hash: 'h1', syncId: 's1', msgId, docId: null, state: 'superseded', reason: 'sent again', createdAt: 4_000, updatedAt: 4_000 });
}

describe('review: a late notice of a replaced send never deletes the document the row holds', () => {
  it('two resends in a row (two replaced sends of one version), the first copy adopted and its notice repeated: the copy stays', async () => {
    const store = openStore();
    // Its third send was refused: no copy of its own.
    store.put(marked({ status: 'refused', syncId: null, msgId: '30', transactionId: 3, uploadedAt: 4_500 }));
    replacedSend(store, '10');
    replacedSend(store, '20');
    const { confirmer, say } = harness(store, { 'kb-1': { sync_id: 's1', transaction_id: '1' } });
    say('40', success('kb-1'));
    await confirmer.catchUp();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingested', docId: 'kb-1' });
    // The same notice again (duplicate_notice), proven once the first was recorded (a proof is a round trip).
    say('41', success('kb-1'));
    await confirmer.catchUp();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingested', docId: 'kb-1' });
    // Nothing is to delete the row's own document.
    expect(store.kbVersions().filter((v) => v.docId === 'kb-1')).toEqual([]);
    await confirmer.close();
  });

  it.each([
    ['its new send not made (failed, nothing taken)', { transactionId: null, msgId: null }],
    ['its new send failed, maybe taken', { transactionId: 3, msgId: null }],
  ])('check --adopt recorded the copy of the replaced send (%s), then its notice is read: the copy stays', async (_name, fields) => {
    const store = openStore();
    store.put(marked({ status: 'ingested', uploadedHash: 'h1', docId: 'kb-1', uploadedAt: 4_000, ingestedAt: 4_600, ...fields }));
    replacedSend(store, '10');
    const { confirmer, say } = harness(store, { 'kb-1': { sync_id: 's1', transaction_id: '1' } });
    say('40', success('kb-1'));
    await confirmer.catchUp();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingested', docId: 'kb-1' });
    expect(store.kbVersions().filter((v) => v.docId === 'kb-1')).toEqual([]);
    await confirmer.close();
  });

  it('the file left its source after its new send was refused: the copy is its document, deleted as sync.onRemove says (not at once)', async () => {
    const store = openStore();
    // removed: its new send was refused (no version recorded, the transaction ID kept), then the file was deleted.
    store.put(marked({ status: 'removed', syncId: null, msgId: '30', transactionId: 3, uploadedAt: 4_500, deleteAfter: 90_000 }));
    replacedSend(store, '10');
    const { confirmer, say } = harness(store, { 'kb-1': { sync_id: 's1', transaction_id: '1' } });
    say('40', success('kb-1'));
    await confirmer.catchUp();
    // With onRemove: keep the copy must stay; with delete, it goes after the grace period, with the row.
    expect(store.kbVersions().filter((v) => v.docId === 'kb-1' && v.state === 'delete')).toEqual([]);
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'removed', docId: 'kb-1', uploadedHash: 'h1', syncId: 's1', deleteAfter: 90_000 });
    await confirmer.close();
  });
});
