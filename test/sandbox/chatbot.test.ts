import { afterEach, describe, expect, it } from 'vitest';
import {
  buildUnsupportedFormatReply,
  isAckReply,
  KB_DELETE_OK_REPLY,
  KB_DOC_NOT_FOUND_REPLY,
  KB_FILE_REFUSED_REPLY,
  parseCompletionReply,
  parseStatusReply,
} from '../../src/api/knowledge-base.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { api, buildZip, registerUser, sendMessage, sendText, uploadFile, uploadSlot, waitFor } from '../helpers/sandbox-http.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function start(options: SandboxOptions = {}) {
  sb = await startSandbox({ ingestionDelayMs: 5, ...options });
  return { s: sb, admin: sb.knowledgeBase.adminUserIds[0] as number, bot: sb.knowledgeBase.chatbotUserId };
}

/** The chatbot's replies to `user`, oldest first. */
function replies(s: Sandbox, user: number) {
  return s.state().messages.filter((m) => m.from_user_id === s.knowledgeBase.chatbotUserId && m.to_id === user);
}

function completions(s: Sandbox, user: number) {
  return replies(s, user)
    .map((m) => parseCompletionReply(m.content))
    .filter((c) => c !== undefined);
}

const ext = (metadata: Record<string, unknown>) => JSON.stringify({ ai: { metadata } });

describe('URL documents', () => {
  it('acks at once with request_msg_id, fetches the page, then sends a parseable completion', async () => {
    const { s, admin, bot } = await start();
    s.setPage('docs/intro.html', { body: '<h1>Intro</h1>' });
    const url = `${s.url}/_sandbox/site/docs/intro.html`;
    const sent = await sendText(s, admin, bot, url, { ext: ext({ title: 'Intro', n: 3, ok: true, none: null, deep: { a: 1 } }) });
    const msgId = sent.body.msg_ids[0] as number;
    const [ack] = replies(s, admin);
    expect(ack).toMatchObject({ type: 1, content_type: 0, content: '添加到知识库(sandbox-kb)成功，请等待系统处理。' });
    expect(isAckReply(ack!.content, 'sandbox-kb')).toBe(true);
    expect(JSON.parse(ack!.ext)).toEqual({ ai: { role: 'ai', request_msg_id: msgId, result: 'error' } });
    expect(ack!.msg_id).toBeGreaterThan(msgId);

    const done = await waitFor(() => replies(s, admin)[1], 2000, 'completion');
    expect(JSON.parse(done.ext)).toEqual({ ai: { role: 'ai' } });
    const parsed = parseCompletionReply(done.content);
    const doc = s.state().knowledgeBase.documents[0]!;
    expect(parsed).toEqual({ docId: doc.doc_id, kbName: 'sandbox-kb', ok: true });
    expect(done.content).toBe(`文章（ID：${doc.doc_id}）已加入知识库 sandbox-kb，请等待处理完成。`);
    expect(doc.doc_id).toMatch(/^\d+-\d+$/);
    expect(doc).toMatchObject({
      type: 'url',
      filename: url,
      source: url,
      status: 'finish',
      msg_id: msgId,
      from_user_id: admin,
      metadata: { title: 'Intro', n: '3', ok: 'True', none: 'None', deep: '{"a":1}' },
    });
    // The fetch went through the site like any client, with no API token.
    expect(s.state().requests.find((r) => r.path === '/_sandbox/site/docs/intro.html')).toMatchObject({ status: 200, token: 'absent' });
  });

  it('makes one document per URL token, one ack, one completion each; wait -> processing -> finish', async () => {
    const { s, admin, bot } = await start({ ingestionDelayMs: 150 });
    s.setPage('a.html', { body: 'a' });
    s.setPage('b.html', { body: 'b' });
    await sendText(s, admin, bot, `${s.url}/_sandbox/site/a.html please also\n${s.url}/_sandbox/site/b.html`);
    const early = s.state().knowledgeBase.documents;
    expect(early.map((d) => d.status)).toEqual(['processing', 'wait']);
    await waitFor(() => completions(s, admin).length === 2, 3000, 'two completions');
    expect(replies(s, admin).filter((m) => isAckReply(m.content))).toHaveLength(1);
    expect(s.state().knowledgeBase.documents.map((d) => [d.filename.slice(-6), d.status])).toEqual([
      ['a.html', 'finish'],
      ['b.html', 'finish'],
    ]);
  });

  it('makes an error document (download_failed) for a page that answers 404', async () => {
    const { s, admin, bot } = await start();
    await sendText(s, admin, bot, `${s.url}/_sandbox/site/missing.html`);
    const [completion] = await waitFor(() => completions(s, admin).length > 0 && completions(s, admin), 2000, 'completion');
    const doc = s.state().knowledgeBase.documents[0]!;
    expect(completion).toEqual({ docId: doc.doc_id, kbName: 'sandbox-kb', ok: false, reason: 'download failed' });
    expect(doc).toMatchObject({ status: 'error', reason: 'download_failed' });
  });

  it('fails a page over the size limit (with or without Content-Length), a redirect loop and a slow page', async () => {
    const { s, admin, bot } = await start({ ingestionMaxBytes: 1000, urlFetchTimeoutMs: 200 });
    s.setPage('big.html', { bodyBytes: 1001 });
    s.setPage('big-chunked.html', { bodyBytes: 5000, chunked: true });
    s.setPage('fits.html', { bodyBytes: 1000, chunked: true });
    s.setPage('loop-a.html', { redirectTo: 'loop-b.html' });
    s.setPage('loop-b.html', { redirectTo: 'loop-a.html' });
    s.setPage('slow.html', { body: 'x', delayMs: 1000 });
    const site = `${s.url}/_sandbox/site`;
    await sendText(s, admin, bot, ['big.html', 'big-chunked.html', 'fits.html', 'loop-a.html', 'slow.html'].map((p) => `${site}/${p}`).join(' '));
    await waitFor(() => completions(s, admin).length === 5, 4000, 'five completions');
    expect(s.state().knowledgeBase.documents.map((d) => [d.filename.replace(`${site}/`, ''), d.status, d.reason])).toEqual([
      ['big.html', 'error', 'download_failed'],
      ['big-chunked.html', 'error', 'download_failed'],
      ['fits.html', 'finish', undefined],
      ['loop-a.html', 'error', 'download_failed'],
      ['slow.html', 'error', 'download_failed'],
    ]);
  });

  it('answers text that does not start with the scheme, or comes from a non-admin, like a chat (no document)', async () => {
    const { s, admin, bot } = await start();
    const stranger = await registerUser(s, 'stranger');
    await sendText(s, admin, bot, ` ${s.url}/_sandbox/site/a.html`);
    await sendText(s, stranger, bot, `${s.url}/_sandbox/site/a.html`);
    await new Promise((r) => setTimeout(r, 30));
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
    for (const user of [admin, stranger]) {
      const [reply] = replies(s, user);
      expect(isAckReply(reply!.content)).toBe(false);
      expect(JSON.parse(reply!.ext).ai.role).toBe('ai');
    }
  });

  it('deduplicates nothing: the same URL twice is two documents', async () => {
    const { s, admin, bot } = await start();
    s.setPage('same.html', { body: 'same' });
    const url = `${s.url}/_sandbox/site/same.html`;
    await sendText(s, admin, bot, url);
    await sendText(s, admin, bot, url);
    await waitFor(() => completions(s, admin).length === 2, 2000, 'two completions');
    const docs = s.state().knowledgeBase.documents;
    expect(docs).toHaveLength(2);
    expect(docs[0]!.doc_id).not.toBe(docs[1]!.doc_id);
    expect(docs[0]!.sha256).toBe(docs[1]!.sha256);
  });

  it('ignores messages whose ext says role ai, group messages, and its own messages', async () => {
    const { s, admin, bot } = await start();
    await sendText(s, admin, bot, `${s.url}/_sandbox/site/a.html`, { ext: JSON.stringify({ ai: { role: 'ai' } }) });
    await sendText(s, bot, admin, `${s.url}/_sandbox/site/a.html`);
    const created = await api(s, 'POST', '/group/create', { userId: admin, body: { name: 'kb group', user_list: [bot] } });
    const groupId = created.body.data.group_id as number;
    await sendMessage(s, { targets: [groupId], type: 2, content_type: 0, content: `${s.url}/_sandbox/site/a.html`, from_user_id: admin });
    await new Promise((r) => setTimeout(r, 30));
    expect(s.state().messages).toHaveLength(3);
    expect(replies(s, admin)).toHaveLength(1); // only the bot's own message to the admin
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
  });
});

describe('file documents', () => {
  function fileMessage(s: Sandbox, from: number, url: string, dName: string, extText = '') {
    return sendMessage(s, {
      targets: [s.knowledgeBase.chatbotUserId],
      type: 1,
      content_type: 4,
      content: '',
      attachment: JSON.stringify({ dName, url, fLen: 1 }),
      ext: extText,
      from_user_id: from,
    });
  }

  it('ingests an uploaded file with its metadata as strings, size and sha256', async () => {
    const { s, admin, bot } = await start();
    const content = Buffer.from('# Guide\n\nhello\n');
    const url = await uploadFile(s, admin, bot, content, 'guide.md');
    const sent = await fileMessage(s, admin, url, 'Guide.MD', ext({ source: 'docs/guide.md', version: 2 }));
    expect(isAckReply(replies(s, admin)[0]!.content)).toBe(true);
    await waitFor(() => completions(s, admin).length === 1, 2000, 'completion');
    expect(completions(s, admin)[0]).toMatchObject({ ok: true });
    expect(s.state().knowledgeBase.documents[0]).toMatchObject({
      type: 'file',
      filename: 'Guide.MD',
      source: url,
      status: 'finish',
      file_size: content.length,
      sha256: s.state().objects[0]!.sha256,
      metadata: { source: 'docs/guide.md', version: '2' },
      msg_id: sent.body.msg_ids[0],
    });
  });

  it('refuses an unsupported extension and a file from a non-admin, without a document', async () => {
    const { s, admin, bot } = await start();
    const stranger = await registerUser(s, 'stranger');
    const url = await uploadFile(s, admin, bot, Buffer.from('{}'));
    await fileMessage(s, admin, url, 'data.json');
    await fileMessage(s, stranger, url, 'notes.txt');
    expect(replies(s, admin)[0]!.content).toBe(buildUnsupportedFormatReply());
    expect(buildUnsupportedFormatReply()).toContain("'.pptx'");
    expect(replies(s, stranger)[0]!.content).toBe(KB_FILE_REFUSED_REPLY);
    expect(JSON.parse(replies(s, stranger)[0]!.ext)).toMatchObject({ ai: { role: 'ai', result: 'error' } });
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
  });

  it('fails (download_failed) an object never uploaded, or a slot asked by someone else', async () => {
    const { s, admin, bot } = await start({ knowledgeBase: { adminUsernames: ['kb_admin', 'kb_admin2'] } });
    const admin2 = s.knowledgeBase.adminUserIds[1] as number;
    const slot = await uploadSlot(s, admin, bot);
    await fileMessage(s, admin, slot.download_url, 'never.txt');
    const other = await uploadFile(s, admin2, bot, Buffer.from('x'));
    await fileMessage(s, admin, other, 'borrowed.txt');
    await waitFor(() => completions(s, admin).length === 2, 2000, 'two completions');
    expect(completions(s, admin).map((c) => c.ok)).toEqual([false, false]);
    expect(s.state().knowledgeBase.documents.map((d) => d.reason)).toEqual(['download_failed', 'download_failed']);
  });

  it('expands a zip into one document per member: skips __MACOSX/.DS_Store, bad_ext, no metadata, one completion', async () => {
    const { s, admin, bot } = await start();
    const zip = buildZip([
      { name: 'docs/a.md', content: '# A' },
      { name: 'docs/b.PDF', content: '%PDF' },
      { name: 'docs/', content: '' },
      { name: 'image.png', content: 'png' },
      { name: '__MACOSX/docs/._a.md', content: 'x' },
      { name: 'docs/.DS_Store', content: 'x' },
      { name: '中文.txt', content: '你好' },
    ]);
    const url = await uploadFile(s, admin, bot, zip, 'bundle.zip');
    await fileMessage(s, admin, url, 'bundle.zip', ext({ ignored: 'yes' }));
    await waitFor(() => completions(s, admin).length === 1, 2000, 'completion');
    await new Promise((r) => setTimeout(r, 30));
    expect(completions(s, admin)).toHaveLength(1);
    const docs = s.state().knowledgeBase.documents;
    expect(docs.map((d) => [d.filename, d.status, d.reason])).toEqual([
      ['docs/a.md', 'finish', undefined],
      ['docs/b.PDF', 'finish', undefined],
      ['image.png', 'error', 'bad_ext'],
      ['中文.txt', 'finish', undefined],
    ]);
    expect(docs.every((d) => Object.keys(d.metadata).length === 0 && d.archive === 'bundle.zip')).toBe(true);
    expect(completions(s, admin)[0]).toEqual({ docId: docs[0]!.doc_id, kbName: 'sandbox-kb', ok: true });
  });

  it('fails an archive that is not a zip', async () => {
    const { s, admin, bot } = await start();
    const url = await uploadFile(s, admin, bot, Buffer.from('not a zip at all, just text that is long enough'), 'fake.zip');
    await fileMessage(s, admin, url, 'fake.zip');
    await waitFor(() => completions(s, admin).length === 1, 2000, 'completion');
    expect(s.state().knowledgeBase.documents[0]).toMatchObject({ filename: 'fake.zip', status: 'error', reason: 'exception' });
  });
});

describe('/bluevector commands', () => {
  it('status lists the count and recent documents; delete removes one; metadata get shows it', async () => {
    const { s, admin, bot } = await start();
    s.setPage('p.html', { body: 'p' });
    for (let i = 0; i < 3; i++) await sendText(s, admin, bot, `${s.url}/_sandbox/site/p.html`, { ext: ext({ i }) });
    await waitFor(() => completions(s, admin).length === 3, 2000, 'completions');
    const docs = s.state().knowledgeBase.documents;

    await sendText(s, admin, bot, '/bluevector status sandbox-kb');
    const status = parseStatusReply(replies(s, admin).at(-1)!.content);
    expect(status).toMatchObject({ kbName: 'sandbox-kb', totalDocuments: 3 });
    expect(status!.documents.map((d) => [d.docId, d.status])).toEqual(docs.map((d) => [d.doc_id, 'finish']).reverse());
    expect(JSON.parse(replies(s, admin).at(-1)!.ext).ai.request_msg_id).toBeGreaterThan(0);

    await sendText(s, admin, bot, `/bluevector metadata get ${docs[1]!.doc_id}`);
    expect(JSON.parse(replies(s, admin).at(-1)!.content)).toEqual({ i: '1' });

    await sendText(s, admin, bot, `/bluevector delete sandbox-kb ${docs[0]!.doc_id}`);
    expect(replies(s, admin).at(-1)!.content).toBe(KB_DELETE_OK_REPLY);
    expect(s.state().knowledgeBase.documents.map((d) => d.doc_id)).toEqual([docs[1]!.doc_id, docs[2]!.doc_id]);

    await sendText(s, admin, bot, `/bluevector delete sandbox-kb ${docs[0]!.doc_id}`);
    expect(replies(s, admin).at(-1)!.content).toBe(KB_DOC_NOT_FOUND_REPLY);
    await sendText(s, admin, bot, `/bluevector delete other-kb ${docs[1]!.doc_id}`);
    expect(replies(s, admin).at(-1)!.content).toBe(`知识库不存在，或者你（ID：${admin}）没有这个知识库的权限`);
    expect(s.state().knowledgeBase.documents).toHaveLength(2);
  });

  it('refuses commands from a non-admin', async () => {
    const { s, bot } = await start();
    const stranger = await registerUser(s, 'stranger');
    await sendText(s, stranger, bot, '/bluevector status sandbox-kb');
    expect(replies(s, stranger)[0]!.content).toBe(`知识库不存在，或者你（ID：${stranger}）没有这个知识库的权限`);
  });

  it('status lists at most 20 documents, newest first', async () => {
    const { s, admin, bot } = await start({ ingestionDelayMs: 0 });
    s.setPage('p.html', { body: 'p' });
    const urls = Array.from({ length: 22 }, () => `${s.url}/_sandbox/site/p.html`).join('\n');
    await sendText(s, admin, bot, urls);
    await waitFor(() => completions(s, admin).length === 22, 4000, '22 completions');
    await sendText(s, admin, bot, '/bluevector status sandbox-kb');
    const status = parseStatusReply(replies(s, admin).at(-1)!.content)!;
    expect(status.totalDocuments).toBe(22);
    expect(status.documents).toHaveLength(20);
    expect(status.documents[0]!.docId).toBe(s.state().knowledgeBase.documents.at(-1)!.doc_id);
  });
});

describe('knowledge-base reply texts', () => {
  it('parses completions, failures and acks, and rejects other texts', () => {
    expect(parseCompletionReply('文章（ID：123-4）已加入知识库 my kb，请等待处理完成。')).toEqual({ docId: '123-4', kbName: 'my kb', ok: true });
    expect(parseCompletionReply('文章（ID：123-5）加入知识库 kb失败：storage limit')).toEqual({ docId: '123-5', kbName: 'kb', ok: false, reason: 'storage limit' });
    expect(parseCompletionReply('文章(ID:9-1)已加入知识库 kb')).toEqual({ docId: '9-1', kbName: 'kb', ok: true });
    expect(parseCompletionReply('添加到知识库(kb)成功，请等待系统处理。')).toBeUndefined();
    expect(isAckReply('添加到知识库(kb)成功，请等待系统处理。', 'kb')).toBe(true);
    expect(isAckReply('添加到知识库(kb)成功，请等待系统处理。', 'other')).toBe(false);
    expect(isAckReply('文章（ID：1-1）已加入知识库 kb')).toBe(false);
  });
});
