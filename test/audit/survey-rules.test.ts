import { describe, expect, it } from 'vitest';
import { surveyKnowledgeBase, walkIds } from '../../src/audit/survey.js';
import { CommandRefusedError, type KbCommands } from '../../src/kb/commands.js';
import type { MetadataGetReply, StatusDocument, StatusReply } from '../../src/protocol/kb-command-replies.js';

// How a survey reads the knowledge base: which document IDs a walk reads, and what each answer makes of a document.

const listed = (docId: string, status = 'finish'): StatusDocument => ({ docId, filename: `${docId}.md`, status, progressFinished: 1, progressTotal: 1 });

describe('walkIds', () => {
  it.each<[string, StatusDocument[], string[], string[]]>([
    ['the listing names the knowledge base', [listed('kb-2')], ['other-3', 'other-4'], ['kb-1', 'kb-2']],
    ['an entry of the listing that is no document ID is passed over', [listed('odd'), listed('kb-2')], [], ['kb-1', 'kb-2']],
    ['the highest sequence of the listing or the known IDs of that uuid', [listed('kb-2')], ['kb-3', 'other-9'], ['kb-1', 'kb-2', 'kb-3']],
    ['without a listing, the uuid most known IDs name', [], ['y-1', 'x-1', 'x-2'], ['x-1', 'x-2']],
    ['a tie goes to the uuid that got there first', [], ['x-1', 'y-2'], ['x-1']],
    ['a tie after a lead goes to the first to lead', [], ['y-1', 'x-1', 'x-2', 'y-2'], ['x-1', 'x-2']],
    ['a later majority wins', [], ['y-1', 'x-3', 'x-1', 'x-2'], ['x-1', 'x-2', 'x-3']],
    ['nothing names a uuid', [listed('odd')], ['not an id'], []],
  ])('%s', (_name, listing, known, expected) => {
    expect(walkIds(listing, known)).toEqual(expected);
  });
});

describe('surveyKnowledgeBase', () => {
  function commands(status: StatusReply | { ok: false; reason: 'no_permission'; text: string }, replies: Record<string, MetadataGetReply>) {
    const asked: string[] = [];
    const fake = {
      kbName: 'kb',
      status: async () => status,
      metadataGet: async (docId: string) => {
        asked.push(docId);
        return replies[docId] ?? { ok: false, reason: 'doc_id_not_exist', text: '文档metadata获取失败：doc_id not exist' };
      },
    } as unknown as KbCommands;
    return { commands: fake, asked };
  }
  const status: StatusReply = { ok: true, totalDocuments: 9, documents: [listed('kb-3', 'processing')] };
  const replies: Record<string, MetadataGetReply> = {
    'kb-1': { ok: true, metadata: { managed_by: 'lanying-kb' } },
    'kb-2': { ok: false, reason: 'document_not_found', text: '文档不存在' },
    'kb-3': { ok: true, metadata: {} },
    'kb-5': { ok: false, reason: 'round_limit', text: '您发消息速度过快，请稍后再试。' },
  };

  it('reads the known IDs (once each) and the listed ones; present, gone (either answer) or unreadable', async () => {
    const { commands: c, asked } = commands(status, replies);
    const progress: [number, number][] = [];
    const survey = await surveyKnowledgeBase(c, { docIds: ['kb-1', 'kb-2', 'kb-1', 'kb-5', 'kb-7'], walk: false, onProgress: (done, total) => progress.push([done, total]) });
    expect(asked.sort()).toEqual(['kb-1', 'kb-2', 'kb-3', 'kb-5', 'kb-7']);
    expect(Object.fromEntries(survey.documents)).toEqual({
      'kb-1': { docId: 'kb-1', state: 'present', metadata: { managed_by: 'lanying-kb' }, listedStatus: undefined },
      'kb-2': { docId: 'kb-2', state: 'gone' },
      'kb-3': { docId: 'kb-3', state: 'present', metadata: {}, listedStatus: 'processing' },
      'kb-5': { docId: 'kb-5', state: 'unreadable', reason: '您发消息速度过快，请稍后再试。' },
      'kb-7': { docId: 'kb-7', state: 'gone' },
    });
    expect({ total: survey.total, listed: survey.listed, walked: survey.walked }).toEqual({ total: 9, listed: status.documents, walked: false });
    expect(progress).toEqual([1, 2, 3, 4, 5].map((n) => [n, 5]));
  });

  it('a walk reads every ID of the sequence too', async () => {
    const { commands: c, asked } = commands(status, replies);
    const survey = await surveyKnowledgeBase(c, { docIds: ['kb-5'], walk: true });
    expect(asked.sort()).toEqual(['kb-1', 'kb-2', 'kb-3', 'kb-4', 'kb-5']);
    expect(survey.walked).toBe(true);
  });

  it('a refused status is an error naming the command', async () => {
    const { commands: c, asked } = commands({ ok: false, reason: 'no_permission', text: '知识库不存在，或者你（ID：7）没有这个知识库的权限' }, replies);
    const error = await surveyKnowledgeBase(c, { docIds: ['kb-1'], walk: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandRefusedError);
    expect((error as Error).message).toContain('/bluevector status kb');
    expect(asked).toEqual([]);
  });

  it('stops when its caller\'s signal aborts', async () => {
    const { commands: c } = commands(status, replies);
    const abort = new AbortController();
    abort.abort(new Error('stopped'));
    await expect(surveyKnowledgeBase(c, { docIds: ['kb-1'], walk: false, signal: abort.signal })).rejects.toThrow('stopped');
  });
});
