import { describe, expect, it } from 'vitest';
import { CommandTimeoutError } from '../../src/kb/channel.js';
import { CommandNotRunError, CommandRefusedError, type KbCommands } from '../../src/kb/commands.js';
import type { DeleteReply, MetadataGetReply } from '../../src/protocol/kb-command-replies.js';
import { type DocumentRecord, type KbVersionRecord, newDocumentRecord, StateStore } from '../../src/state/store.js';
import { type DeletionOutcome, deleteDocument, isCommandsUnavailable, maxDeleteExceeded, PERCENT_APPLIES_ABOVE, runDeletions } from '../../src/sync/cleanup.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/**
 * The rules of the dangerous verb, one by one: what `maxDelete` lets through, when a document is found to be not
 * ours (then never deleted), what counts as already gone, and what a run of deletions writes to the state.
 */

const ours = (syncId: string): MetadataGetReply => ({ ok: true, metadata: { managed_by: 'lanying-kb', sync_id: syncId } });
const metadataFailure = (reason: Extract<MetadataGetReply, { ok: false }>['reason'], text = `reply ${reason}`): MetadataGetReply => ({ ok: false, reason, text });
const DELETED: DeleteReply = { ok: true };

/** Commands that answer from a table, and say which documents they were asked to delete. */
function fakeCommands(metadata: Record<string, MetadataGetReply | Error>, deletes: Record<string, DeleteReply> = {}) {
  const deleted: string[] = [];
  const commands = {
    kbName: 'kb',
    metadataGet: async (docId: string) => {
      const reply = metadata[docId] ?? metadataFailure('doc_id_not_exist');
      if (reply instanceof Error) throw reply;
      return reply;
    },
    delete: async (docId: string) => {
      deleted.push(docId);
      return deletes[docId] ?? DELETED;
    },
  } as unknown as KbCommands;
  return { commands, deleted };
}

describe('maxDeleteExceeded', () => {
  const limit = { count: 20, percent: 50 };
  it.each([
    // [count, total, blocked reason or undefined]
    { count: 0, total: 0, reason: undefined },
    { count: 20, total: 1000, reason: undefined },
    { count: 21, total: 1000, reason: '21 documents left, more than sync.maxDelete.count (20)' },
    // The share applies above 10 deletions only: a small knowledge base may lose its last files.
    { count: 10, total: 10, reason: undefined },
    { count: 10, total: 0, reason: undefined },
    { count: 11, total: 22, reason: undefined },
    { count: 11, total: 21, reason: '11 of 21 documents left (52 %), more than sync.maxDelete.percent (50 %)' },
    { count: 11, total: 11, reason: '11 of 11 documents left (100 %), more than sync.maxDelete.percent (50 %)' },
    // A knowledge base counted smaller than the deletions (counted empty, even): blocked, without a share over 100 %.
    { count: 11, total: 0, reason: '11 documents left, more than the 0 the knowledge base was counted to hold: over sync.maxDelete.percent (50 %)' },
    { count: 12, total: 11, reason: '12 documents left, more than the 11 the knowledge base was counted to hold: over sync.maxDelete.percent (50 %)' },
  ])('$count of $total', ({ count, total, reason }) => {
    expect(maxDeleteExceeded(count, total, limit, 'left')).toBe(reason);
  });

  it('the count is checked before the share, and 0 % blocks anything above the threshold', () => {
    expect(maxDeleteExceeded(30, 30, limit, 'left')).toBe('30 documents left, more than sync.maxDelete.count (20)');
    expect(maxDeleteExceeded(PERCENT_APPLIES_ABOVE + 1, 1_000_000, { count: 1000, percent: 0 }, 'go')).toMatch(/more than sync.maxDelete.percent \(0 %\)$/);
    expect(maxDeleteExceeded(PERCENT_APPLIES_ABOVE, 1_000_000, { count: 1000, percent: 0 }, 'go')).toBeUndefined();
    expect(PERCENT_APPLIES_ABOVE).toBe(10);
  });
});

describe('deleteDocument: the metadata is read again just before', () => {
  const expected = { syncId: 's1', failedIngestion: false };
  it.each<{ name: string; metadata: MetadataGetReply; deleteReply?: DeleteReply; expected?: { syncId: string | null; failedIngestion: boolean }; result: unknown; deletes: boolean }>([
    { name: 'ours, that version', metadata: ours('s1'), result: { result: 'deleted' }, deletes: true },
    { name: 'ours, no version expected', metadata: ours('s9'), expected: { syncId: null, failedIngestion: false }, result: { result: 'deleted' }, deletes: true },
    { name: 'ours, another version', metadata: ours('s2'), result: { result: 'not-ours', reason: 'its metadata names another version (sync_id s2)' }, deletes: false },
    { name: 'not lanying-kb\'s', metadata: { ok: true, metadata: { managed_by: 'someone', sync_id: 's1' } }, result: { result: 'not-ours', reason: 'its metadata does not say managed_by: lanying-kb' }, deletes: false },
    { name: 'no metadata', metadata: { ok: true, metadata: {} }, result: { result: 'not-ours', reason: 'its metadata does not say managed_by: lanying-kb' }, deletes: false },
    { name: 'no metadata, a failed ingestion proven ours', metadata: { ok: true, metadata: {} }, expected: { syncId: 's1', failedIngestion: true }, result: { result: 'deleted' }, deletes: true },
    { name: 'no such knowledge base', metadata: metadataFailure('document_not_found'), result: { result: 'already-gone' }, deletes: false },
    { name: 'no such document', metadata: metadataFailure('doc_id_not_exist'), result: { result: 'already-gone' }, deletes: false },
    { name: 'the metadata read failed', metadata: metadataFailure('failed', 'boom'), result: { result: 'failed', reason: 'boom' }, deletes: false },
    { name: 'the read was refused', metadata: metadataFailure('no_permission', 'denied'), result: { result: 'failed', reason: 'denied' }, deletes: false },
    { name: 'gone between the read and the delete', metadata: ours('s1'), deleteReply: { ok: false, reason: 'doc_not_found', text: 'x' }, result: { result: 'already-gone' }, deletes: true },
    { name: 'the delete failed', metadata: ours('s1'), deleteReply: { ok: false, reason: 'kb_not_found', text: 'no kb' }, result: { result: 'failed', reason: 'no kb' }, deletes: true },
    { name: 'the delete was refused', metadata: ours('s1'), deleteReply: { ok: false, reason: 'round_limit', text: 'slow down' }, result: { result: 'failed', reason: 'slow down' }, deletes: true },
  ])('$name', async ({ metadata, deleteReply, expected: wanted, result, deletes }) => {
    const { commands, deleted } = fakeCommands({ 'k-1': metadata }, deleteReply ? { 'k-1': deleteReply } : {});
    expect(await deleteDocument(commands, 'k-1', wanted ?? expected, undefined)).toEqual(result);
    expect(deleted).toEqual(deletes ? ['k-1'] : []);
  });
});

describe('isCommandsUnavailable', () => {
  it.each([
    [new CommandTimeoutError('/bluevector info', 1000), true],
    [new CommandNotRunError('/bluevector info', 'hello'), true],
    [new CommandRefusedError('/bluevector info', 'no'), false],
    [new Error('x'), false],
    [undefined, false],
  ])('%s', (error, expected) => {
    expect(isCommandsUnavailable(error)).toBe(expected);
  });
});

describe('runDeletions: what the state records', () => {
  const NOW = 5000;
  const TARGET = 'app/kb';
  function setup() {
    const store = StateStore.open(tmpDir());
    const version = (fields: Partial<Omit<KbVersionRecord, 'id'>>): KbVersionRecord => {
      const v: Omit<KbVersionRecord, 'id'> = { target: TARGET, source: 'docs', key: 'v.md', hash: 'h0', syncId: 'old', msgId: null, docId: 'k-1', state: 'delete', reason: 'replaced by document k-2', createdAt: 1, updatedAt: 1, ...fields };
      return { ...v, id: store.addKbVersion(v) };
    };
    const removed = (key: string, fields: Partial<DocumentRecord> = {}): DocumentRecord => {
      const row: DocumentRecord = { ...newDocumentRecord('docs', key, 'file', 1), target: TARGET, status: 'removed', hash: 'h1', uploadedHash: 'h1', syncId: `s-${key}`, docId: `d-${key}`, deleteAfter: 2, ...fields };
      store.put(row);
      return row;
    };
    return { store, version, removed };
  }
  const run = async (store: StateStore, plan: Parameters<typeof runDeletions>[0], commands: KbCommands) => {
    const seen: DeletionOutcome[] = [];
    const outcomes = await runDeletions(plan, { store, commands, now: () => NOW, onOutcome: (o) => seen.push(o) });
    expect(seen).toEqual(outcomes);
    // Deletions run a few at once: their outcomes come in the order they end.
    return outcomes.sort((a, b) => a.docId.localeCompare(b.docId));
  };

  it('a version deleted, or already gone, is marked deleted; one not ours or failed stays to delete', async () => {
    const { store, version } = setup();
    const v = [version({ docId: 'k-1', syncId: 'a' }), version({ docId: 'k-2', syncId: 'b' }), version({ docId: 'k-3', syncId: 'c' }), version({ docId: 'k-4', syncId: 'd' })];
    const { commands, deleted } = fakeCommands({ 'k-1': ours('a'), 'k-2': metadataFailure('doc_id_not_exist'), 'k-3': ours('other'), 'k-4': metadataFailure('failed', 'busy') });
    const outcomes = await run(store, { versions: v, removed: [], blocked: undefined }, commands);
    expect(deleted).toEqual(['k-1']);
    expect(outcomes).toEqual([
      { what: 'version', source: 'docs', key: 'v.md', docId: 'k-1', result: 'deleted' },
      { what: 'version', source: 'docs', key: 'v.md', docId: 'k-2', result: 'already-gone' },
      { what: 'version', source: 'docs', key: 'v.md', docId: 'k-3', result: 'not-ours', reason: 'its metadata names another version (sync_id other)' },
      { what: 'version', source: 'docs', key: 'v.md', docId: 'k-4', result: 'failed', reason: 'busy' },
    ]);
    expect(store.kbVersions().map((r) => [r.docId, r.state, r.updatedAt])).toEqual([
      ['k-1', 'deleted', NOW],
      ['k-2', 'deleted', NOW],
      ['k-3', 'delete', 1],
      ['k-4', 'delete', 1],
    ]);
  });

  it('a version whose ingestion failed is deleted without metadata (the chatbot kept none); any other is not', async () => {
    const { store, version } = setup();
    const failed = version({ docId: 'k-1', reason: 'the chatbot failed to ingest it (exception)' });
    const replaced = version({ docId: 'k-2', reason: 'replaced by document k-9; the chatbot failed to ingest nothing' });
    const { commands, deleted } = fakeCommands({ 'k-1': { ok: true, metadata: {} }, 'k-2': { ok: true, metadata: {} } });
    const outcomes = await run(store, { versions: [failed, replaced], removed: [], blocked: undefined }, commands);
    expect(deleted).toEqual(['k-1']);
    expect(outcomes.map((o) => o.result)).toEqual(['deleted', 'not-ours']);
  });

  it('a removed document deleted, or already gone, is recorded deleted; the version it still replaced is to delete', async () => {
    const { store, removed } = setup();
    const withPrev = removed('a.md', { prevHash: 'h0', prevSyncId: 's-old', prevDocId: 'd-old' });
    const plain = removed('b.md');
    const gone = removed('c.md');
    const { commands, deleted } = fakeCommands({ 'd-a.md': ours('s-a.md'), 'd-b.md': ours('s-b.md'), 'd-c.md': metadataFailure('document_not_found') });
    const outcomes = await run(store, { versions: [], removed: [withPrev, plain, gone], blocked: undefined }, commands);
    expect(deleted).toEqual(['d-a.md', 'd-b.md']);
    expect(outcomes.map((o) => [o.what, o.key, o.docId, o.result])).toEqual([
      ['removed', 'a.md', 'd-a.md', 'deleted'],
      ['removed', 'b.md', 'd-b.md', 'deleted'],
      ['removed', 'c.md', 'd-c.md', 'already-gone'],
    ]);
    for (const key of ['a.md', 'b.md', 'c.md']) {
      expect(store.get('docs', key)).toMatchObject({ status: 'deleted', docId: null, uploadedHash: null, prevDocId: null, updatedAt: NOW });
    }
    // Only a.md still replaced a version: it goes with it, named by the version it held.
    expect(store.kbVersions()).toEqual([
      { id: expect.any(Number), target: TARGET, source: 'docs', key: 'a.md', hash: 'h0', syncId: 's-old', msgId: null, docId: 'd-old', state: 'delete', reason: 'its document left the source', createdAt: NOW, updatedAt: NOW },
    ]);
  });

  it('a removed document whose last send was never confirmed: the version it replaced is deleted (checked by its sync ID), and the row stays removed without it', async () => {
    const { store, removed } = setup();
    const unconfirmed = removed('a.md', { docId: null, prevHash: 'h0', prevSyncId: 's-old', prevDocId: 'd-old' });
    const other = removed('b.md', { docId: null, prevHash: 'h0', prevSyncId: 's-old-b', prevDocId: 'd-old-b' });
    const failing = removed('c.md', { docId: null, prevHash: 'h0', prevSyncId: 's-old-c', prevDocId: 'd-old-c' });
    const gone = removed('d.md', { docId: null, prevHash: 'h0', prevSyncId: 's-old-d', prevDocId: 'd-old-d' });
    // A version it replaced is no failed ingestion: without metadata it is not proven ours.
    const bare = removed('e.md', { docId: null, prevHash: 'h0', prevSyncId: 's-old-e', prevDocId: 'd-old-e' });
    const { commands, deleted } = fakeCommands({
      'd-old': ours('s-old'),
      'd-old-b': ours('s-newer'),
      'd-old-c': metadataFailure('failed', 'busy'),
      'd-old-d': metadataFailure('doc_id_not_exist'),
      'd-old-e': { ok: true, metadata: {} },
    });
    const outcomes = await run(store, { versions: [], removed: [unconfirmed, other, failing, gone, bare], blocked: undefined }, commands);
    expect(deleted).toEqual(['d-old']);
    expect(outcomes.map((o) => [o.what, o.key, o.docId, o.result])).toEqual([
      ['version', 'a.md', 'd-old', 'deleted'],
      ['version', 'b.md', 'd-old-b', 'not-ours'],
      ['version', 'c.md', 'd-old-c', 'failed'],
      ['version', 'd.md', 'd-old-d', 'already-gone'],
      ['version', 'e.md', 'd-old-e', 'not-ours'],
    ]);
    expect(store.get('docs', 'a.md')).toEqual({ ...unconfirmed, prevHash: null, prevDocId: null, prevSyncId: null, updatedAt: NOW });
    expect(store.get('docs', 'd.md')).toEqual({ ...gone, prevHash: null, prevDocId: null, prevSyncId: null, updatedAt: NOW });
    expect(store.get('docs', 'b.md')).toEqual(other);
    expect(store.get('docs', 'c.md')).toEqual(failing);
    expect(store.get('docs', 'e.md')).toEqual(bare);
    expect(store.kbVersions()).toEqual([]);
  });

  it('a removed document not ours (another version, or not lanying-kb\'s) or whose deletion failed stays removed', async () => {
    const { store, removed } = setup();
    const rows = [removed('a.md', { prevDocId: 'd-old', prevSyncId: 'x' }), removed('b.md'), removed('c.md')];
    const { commands, deleted } = fakeCommands(
      { 'd-a.md': ours('s-newer'), 'd-b.md': { ok: true, metadata: {} }, 'd-c.md': ours('s-c.md') },
      { 'd-c.md': { ok: false, reason: 'command_failed', text: '命令执行失败' } },
    );
    const outcomes = await run(store, { versions: [], removed: rows, blocked: undefined }, commands);
    expect(deleted).toEqual(['d-c.md']);
    expect(outcomes.map((o) => o.result)).toEqual(['not-ours', 'not-ours', 'failed']);
    for (const row of rows) expect(store.get('docs', row.key)).toEqual(row);
    expect(store.kbVersions()).toEqual([]);
  });

  it('runs without an outcome listener', async () => {
    const { store, version } = setup();
    const { commands } = fakeCommands({ 'k-1': ours('old') });
    expect(await runDeletions({ versions: [version({ docId: 'k-1' })], removed: [], blocked: undefined }, { store, commands, now: () => NOW })).toEqual([
      { what: 'version', source: 'docs', key: 'v.md', docId: 'k-1', result: 'deleted' },
    ]);
  });

  it('the first sign of a chatbot that runs no commands is thrown; the deletions in flight end first', async () => {
    const { store, version, removed } = setup();
    const { commands } = fakeCommands({ 'k-1': ours('old'), 'd-a.md': new CommandTimeoutError('/bluevector metadata get d-a.md', 1000) });
    await expect(runDeletions({ versions: [version({ docId: 'k-1' })], removed: [removed('a.md')], blocked: undefined }, { store, commands, now: () => NOW })).rejects.toBeInstanceOf(CommandTimeoutError);
    expect(store.kbVersions()[0]?.state).toBe('deleted');
    expect(store.get('docs', 'a.md')?.status).toBe('removed');
  });
});
