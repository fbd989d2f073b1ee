/**
 * The sandbox's chatbot, against the vendor's texts and behaviour. Every expected text here is written out from the
 * vendor's sources (blockmessage/lanying-connector, branch `lanying`; file:line beside it), not taken from the
 * sandbox's own constants: a wrong constant must fail here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type MessageState, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
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

/** The chatbot's text messages to `user` (read receipts left out), oldest first. */
function replies(s: Sandbox, user: number): MessageState[] {
  return s.state().messages.filter((m) => m.from_user_id === s.knowledgeBase.chatbotUserId && m.to_id === user && m.content_type === 0);
}

const last = (s: Sandbox, user: number) => replies(s, user).at(-1)?.content;

/** Completion notices (services/openai_service.py:103,105). */
function notices(s: Sandbox, user: number): string[] {
  return replies(s, user)
    .map((m) => m.content)
    .filter((t) => t.startsWith('文章（ID：'));
}

const ok = (docId: string, kb = 'sandbox-kb') => `文章（ID：${docId}）已加入知识库 ${kb}，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ`;
const failed = (docId: string, reason: string, kb = 'sandbox-kb') => `文章（ID：${docId}）加入知识库 ${kb}失败：${reason}`;
const ACK = '添加到知识库(sandbox-kb)成功，请等待系统处理。';
const ext = (metadata: Record<string, unknown>) => JSON.stringify({ ai: { metadata } });
/** The reply ext, exactly as Python's json.dumps writes it (openai_service.py:622-631, :4398-4400). */
const replyExt = (text: string, msgId: string, code = '') =>
  `{"ai": {"stream": false, "role": "ai", "result": "error", "error_code": "${code}", "error_message": ${JSON.stringify(text)}, "request_msg_id": ${msgId}}}`;

describe('URL documents', () => {
  it('acks with the vendor ext, sends a read receipt, then the real success notice; metadata through str()', async () => {
    const { s, admin, bot } = await start();
    s.setPage('docs/intro.html', { body: '<h1>Intro</h1>' });
    const url = `${s.url}/_sandbox/site/docs/intro.html`;
    const sent = await sendText(s, admin, bot, url, { ext: '{"ai":{"metadata":{"title":"Intro","n":3,"f":1.0,"ok":true,"none":null,"deep":{"a":1}}}}' });
    const msgId = sent.body.msg_ids[0] as string;
    const [receipt, ack] = s.state().messages.slice(1);
    // lanying_connector.py:596-600: a READ_ACK from the chatbot, related_mid = the message.
    expect(receipt).toMatchObject({ from_user_id: bot, to_id: admin, content_type: 9, ctype: 'READ_ACK', content: '', related_mid: msgId });
    expect(ack).toMatchObject({ content_type: 0, content: ACK });
    expect(ack!.ext).toBe(replyExt(ACK, msgId));
    // lanying_connector.py:576 with lanying_config.py:110.
    expect(ack!.config).toBe('{"antispam_prompt": "对不起，因为系统设定的原因，这个问题我无法回答，请您谅解。"}');

    await s.idle();
    const doc = s.state().knowledgeBase.documents[0]!;
    expect(notices(s, admin)).toEqual([ok(doc.doc_id)]);
    expect(replies(s, admin).at(-1)!.ext).toBe('{"ai": {"role": "ai"}}');
    expect(doc.doc_id).toMatch(/^\d+-1$/);
    expect(doc).toMatchObject({ kb: 'sandbox-kb', type: 'url', filename: url, source: url, status: 'finish', msg_id: msgId, from_user_id: admin });
    // parse_metadata (openai_service.py:3163-3174): str(k): str(v), as Python prints them.
    expect(doc.metadata).toEqual({ title: 'Intro', n: '3', f: '1.0', ok: 'True', none: 'None', deep: "{'a': 1}" });
    expect(s.state().requests.find((r) => r.path === '/_sandbox/site/docs/intro.html')).toMatchObject({ status: 200, token: 'absent' });
  });

  it('splits URL texts on space, CR and LF only (a TAB joins two URLs into one broken one), one notice per URL', async () => {
    const { s, admin, bot } = await start();
    for (const p of ['a', 'b', 'c', 'd']) s.setPage(`${p}.html`, { body: p });
    const site = `${s.url}/_sandbox/site`;
    await sendText(s, admin, bot, `${site}/a.html please\r\n${site}/b.html\n${site}/c.html\t${site}/d.html`);
    await s.idle();
    expect(replies(s, admin).filter((m) => m.content === ACK)).toHaveLength(1);
    // Listed as each download ends (the vendor's tasks run in parallel too): compared in name order.
    const docs = [...s.state().knowledgeBase.documents].sort((a, b) => a.filename.localeCompare(b.filename));
    expect(docs.map((d) => [d.filename.replace(`${site}/`, ''), d.status, d.reason])).toEqual([
      ['a.html', 'finish', undefined],
      ['b.html', 'finish', undefined],
      [`c.html\t${site}/d.html`, 'error', 'download_failed'],
    ]);
    expect(notices(s, admin)).toHaveLength(3);
  });

  it('lists a page that answers 404 as error/download_failed, without metadata, notified "download failed"', async () => {
    const { s, admin, bot } = await start();
    await sendText(s, admin, bot, `${s.url}/_sandbox/site/missing.html`, { ext: ext({ title: 'x' }) });
    await s.idle();
    const doc = s.state().knowledgeBase.documents[0]!;
    expect(notices(s, admin)).toEqual([failed(doc.doc_id, 'download failed')]);
    expect(doc).toMatchObject({ status: 'error', reason: 'download_failed', metadata: {} });
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
    await s.idle();
    const byName = Object.fromEntries(s.state().knowledgeBase.documents.map((d) => [d.filename.replace(`${site}/`, ''), [d.status, d.reason]]));
    expect(byName).toEqual({
      'big.html': ['error', 'download_failed'],
      'big-chunked.html': ['error', 'download_failed'],
      'fits.html': ['finish', undefined],
      'loop-a.html': ['error', 'download_failed'],
      'slow.html': ['error', 'download_failed'],
    });
  });

  it('answers text that does not start with the scheme, or comes from a non-admin, like a chat (no document)', async () => {
    const { s, admin, bot } = await start();
    const stranger = await registerUser(s, 'stranger');
    await sendText(s, admin, bot, ` ${s.url}/_sandbox/site/a.html`);
    await sendText(s, stranger, bot, `${s.url}/_sandbox/site/a.html`);
    await s.idle();
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
    for (const user of [admin, stranger]) expect(last(s, user)).toMatch(/^（沙盒模拟回复）/);
  });

  it('deduplicates nothing: the same URL twice is two documents', async () => {
    const { s, admin, bot } = await start();
    s.setPage('same.html', { body: 'same' });
    const url = `${s.url}/_sandbox/site/same.html`;
    await sendText(s, admin, bot, url);
    await sendText(s, admin, bot, url);
    await s.idle();
    const docs = s.state().knowledgeBase.documents;
    expect(docs.map((d) => d.doc_id.split('-')[1])).toEqual(['1', '2']);
    expect(docs[0]!.sha256).toBe(docs[1]!.sha256);
  });

  it('ignores (after the read receipt) messages whose ext says role ai; ignores group messages and its own', async () => {
    const { s, admin, bot } = await start();
    await sendText(s, admin, bot, `${s.url}/_sandbox/site/a.html`, { ext: JSON.stringify({ ai: { role: 'ai' } }) });
    await sendText(s, bot, admin, `${s.url}/_sandbox/site/a.html`);
    const created = await api(s, 'POST', '/group/create', { userId: admin, body: { name: 'kb group', user_list: [bot] } });
    await sendMessage(s, { targets: [created.body.data.group_id], type: 2, content_type: 0, content: `${s.url}/_sandbox/site/a.html`, from_user_id: admin });
    await s.idle();
    // The admin's message, its read receipt (openai_service.py:577 comes before the role check at :506-511), the
    // bot's own message, the group message.
    expect(s.state().messages.map((m) => [m.from_user_id === bot ? 'bot' : 'admin', m.ctype])).toEqual([
      ['admin', 'TEXT'],
      ['bot', 'READ_ACK'],
      ['bot', 'TEXT'],
      ['admin', 'TEXT'],
    ]);
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
  });

  it('sends no read receipts when the option turns them off', async () => {
    const { s, admin, bot } = await start({ chatbot: { readReceipts: false } });
    await sendText(s, admin, bot, 'hello');
    expect(s.state().messages.map((m) => m.ctype)).toEqual(['TEXT', 'TEXT']);
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

  it('ingests an uploaded file with its metadata, size, sha256 and progress; status goes processing -> finish', async () => {
    const { s, admin, bot } = await start({ ingestionDelayMs: 300 });
    const content = Buffer.from('# Guide\n\nhello\n');
    const url = await uploadFile(s, admin, bot, content, 'guide.md');
    const sent = await fileMessage(s, admin, url, 'Guide.MD', ext({ source: 'docs/guide.md', version: 2 }));
    expect(last(s, admin)).toBe(ACK);
    const processing = await waitFor(() => s.state().knowledgeBase.documents[0], 2000, 'the document');
    expect(processing).toMatchObject({ status: 'processing', progress_total: 1 });
    expect(processing.progress_finish).toBeUndefined();
    await s.idle();
    expect(s.state().knowledgeBase.documents[0]).toMatchObject({
      type: 'file',
      filename: 'Guide.MD',
      source: url,
      status: 'finish',
      file_size: content.length,
      sha256: s.state().objects[0]!.sha256,
      metadata: { source: 'docs/guide.md', version: '2' },
      msg_id: sent.body.msg_ids[0],
      progress_finish: 1,
      progress_total: 1,
    });
  });

  it('refuses an unsupported extension and a file from a non-admin with the vendor texts, without a document', async () => {
    const { s, admin, bot } = await start();
    const stranger = await registerUser(s, 'stranger');
    const url = await uploadFile(s, admin, bot, Buffer.from('{}'));
    const sent = await fileMessage(s, admin, url, 'data.json');
    await fileMessage(s, stranger, url, 'notes.txt');
    // openai_service.py:3049 (allow_exts() + '.zip' printed as a Python list) and :3051.
    const unsupported = "对不起，暂时只支持['.html', '.htm', '.csv', '.txt', '.md', '.pdf', '.docx', '.doc', '.xlsx', '.xls', '.pptx', '.zip']格式的知识库";
    expect(last(s, admin)).toBe(unsupported);
    expect(replies(s, admin).at(-1)!.ext).toBe(replyExt(unsupported, sent.body.msg_ids[0]));
    expect(last(s, stranger)).toBe('对不起，我无法处理文件消息');
    await s.idle();
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
  });

  it('answers a file message without dName with the internal-error reply (the vendor code raises)', async () => {
    const { s, admin, bot } = await start();
    const sent = await sendMessage(s, { targets: [bot], type: 1, content_type: 4, content: '', attachment: '{"url":"http://x/y"}', from_user_id: admin });
    const text = '抱歉，因为某些无法说明的原因，我暂时无法回答你的问题。';
    expect(last(s, admin)).toBe(text);
    expect(replies(s, admin).at(-1)!.ext).toBe(replyExt(text, sent.body.msg_ids[0], 'internal_error'));
  });

  it('fails (download_failed) an object never uploaded, or a slot asked by someone else', async () => {
    const { s, admin, bot } = await start({ knowledgeBase: { adminUsernames: ['kb_admin', 'kb_admin2'] } });
    const admin2 = s.knowledgeBase.adminUserIds[1] as number;
    const slot = await uploadSlot(s, admin, bot);
    await fileMessage(s, admin, slot.download_url, 'never.txt');
    const other = await uploadFile(s, admin2, bot, Buffer.from('x'));
    await fileMessage(s, admin, other, 'borrowed.txt');
    await s.idle();
    expect(s.state().knowledgeBase.documents.map((d) => [d.filename, d.reason])).toEqual([
      ['never.txt', 'download_failed'],
      ['borrowed.txt', 'download_failed'],
    ]);
    expect(notices(s, admin).every((t) => t.endsWith('失败：download failed'))).toBe(true);
  });

  it('expands a zip like the vendor: skips names containing __MACOSX or DS_Store, lists bad_ext first, one notice', async () => {
    const { s, admin, bot } = await start();
    const zip = buildZip([
      { name: 'docs/a.md', content: '# A' },
      { name: 'docs/b.PDF', content: '%PDF' },
      { name: 'docs/', content: '' },
      { name: 'image.png', content: 'png' },
      { name: '__MACOSX/docs/._a.md', content: 'x' },
      { name: 'docs/.DS_Store', content: 'x' },
      { name: 'x/my_DS_Store_notes.txt', content: 'x' },
      { name: 'inner.zip', content: 'PK' },
      { name: '中文.txt', content: '你好' },
    ]);
    const url = await uploadFile(s, admin, bot, zip, 'bundle.zip');
    await fileMessage(s, admin, url, 'bundle.zip', ext({ ignored: 'yes' }));
    await s.idle();
    const docs = s.state().knowledgeBase.documents;
    // lanying_tasks.py:76-118: unsupported members are listed at once, supported ones after the loop.
    expect(docs.map((d) => [d.doc_id.split('-')[1], d.filename, d.status, d.reason])).toEqual([
      ['3', 'image.png', 'error', 'bad_ext'],
      ['4', 'inner.zip', 'error', 'bad_ext'],
      ['1', 'docs/a.md', 'finish', undefined],
      ['2', 'docs/b.PDF', 'finish', undefined],
      ['5', '中文.txt', 'finish', undefined],
    ]);
    expect(docs.every((d) => Object.keys(d.metadata).length === 0 && d.archive === 'bundle.zip')).toBe(true);
    // One notice, for whichever member finished first: the vendor processes each member as a task of its own
    // (lanying_tasks.py:136-138), and so does the sandbox, so the order varies (it failed once on a busy machine).
    const sent = notices(s, admin);
    expect(sent).toHaveLength(1);
    expect(docs.slice(2).map((d) => ok(d.doc_id))).toContainEqual(sent[0]);
  });

  it('sends no notice and lists nothing for an empty or corrupt zip; only bad_ext entries for an all-unsupported one', async () => {
    const { s, admin, bot } = await start();
    const empty = await uploadFile(s, admin, bot, buildZip([]), 'empty.zip');
    const corrupt = await uploadFile(s, admin, bot, Buffer.from('not a zip at all, just text that is long enough'), 'fake.zip');
    const images = await uploadFile(s, admin, bot, buildZip([{ name: 'a.png', content: 'x' }]), 'images.zip');
    await fileMessage(s, admin, empty, 'empty.zip');
    await fileMessage(s, admin, corrupt, 'fake.zip');
    await fileMessage(s, admin, images, 'images.zip');
    expect(replies(s, admin).map((m) => m.content)).toEqual([ACK, ACK, ACK]);
    await s.idle();
    expect(notices(s, admin)).toEqual([]);
    expect(s.state().knowledgeBase.documents.map((d) => [d.filename, d.reason])).toEqual([['a.png', 'bad_ext']]);
  });
});

describe('/bluevector commands', () => {
  async function withDocs(count: number, options: SandboxOptions = {}) {
    const env = await start(options);
    env.s.setPage('p.html', { body: 'p' });
    for (let i = 0; i < count; i++) await sendText(env.s, env.admin, env.bot, `${env.s.url}/_sandbox/site/p.html`, { ext: ext({ i }) });
    await env.s.idle();
    return { ...env, docs: env.s.state().knowledgeBase.documents };
  }
  async function ask(s: Sandbox, from: number, text: string): Promise<string> {
    await sendText(s, from, s.knowledgeBase.chatbotUserId, text);
    return last(s, from) as string;
  }

  it('status: the real format, oldest first, the last 20, -/- where nothing is counted (openai_service.py:2847-2857)', async () => {
    const { s, admin, docs } = await withDocs(22, { ingestionDelayMs: 0 });
    s.setFaults([{ chatbot: 'fail', reason: 'download_failed' }]);
    await sendText(s, admin, s.knowledgeBase.chatbotUserId, `${s.url}/_sandbox/site/p.html`);
    await s.idle();
    const all = s.state().knowledgeBase.documents;
    const lines = all.slice(-20).map((d) => `文档ID:${d.doc_id}, 文件名:${d.filename}, 状态:${d.status}, 进度：${d.status === 'finish' ? '1/1' : '-/-'}`);
    expect(await ask(s, admin, '/bluevector status sandbox-kb')).toBe(`文档总数:23\n最近文档列表为:\n${lines.join('\n')}`);
    expect(lines[0]).toContain(docs[3]!.doc_id);
    expect(lines.at(-1)).toMatch(/状态:error, 进度：-\/-$/);
  });

  it('delete, metadata get and set, with the vendor texts and rules', async () => {
    const { s, admin, docs } = await withDocs(2);
    // By the metadata each was sent with: the two pages are fetched at once, and either may become a document first.
    const sentAs = (i: string) => docs.find((d) => d.metadata.i === i) as (typeof docs)[0];
    const [first, second] = [sentAs('0'), sentAs('1')];
    // :2827: the prefix and Python's json.dumps spacing.
    expect(await ask(s, admin, `/bluevector metadata get ${second.doc_id}`)).toBe('文档metadata为：\n{"i": "1"}');
    // :2829-2845: set; the value takes the rest of the text joined by single spaces (lanying_command.py:46-47).
    expect(await ask(s, admin, `/bluevector metadata set ${second.doc_id} title  Getting   started`)).toBe('文档metadata设置成功');
    expect(await ask(s, admin, `/bluevector metadata get ${second.doc_id}`)).toBe('文档metadata为：\n{"i": "1", "title": "Getting started"}');
    expect(await ask(s, admin, `/bluevector metadata set ${second.doc_id} empty`)).toBe('文档metadata设置成功');
    expect(s.state().knowledgeBase.documents.find((d) => d.doc_id === second.doc_id)?.metadata.empty).toBe('');
    expect(await ask(s, admin, '/bluevector metadata get 999-1')).toBe('文档不存在');
    expect(await ask(s, admin, '/bluevector metadata get nodash')).toBe('文档不存在');
    const uuid = first.doc_id.split('-')[0];
    expect(await ask(s, admin, `/bluevector metadata get ${uuid}-99`)).toBe('文档metadata获取失败：doc_id not exist');
    expect(await ask(s, admin, `/bluevector metadata set ${uuid}-99 a b`)).toBe('文档metadata设置失败：doc_id not exist');
    // :2793-2808
    expect(await ask(s, admin, `/bluevector delete sandbox-kb ${first.doc_id}`)).toBe('删除成功，请等待系统处理。');
    expect(s.state().knowledgeBase.documents.map((d) => d.doc_id)).toEqual([second.doc_id]);
    expect(await ask(s, admin, `/bluevector delete sandbox-kb ${first.doc_id}`)).toBe('文档ID(doc_id)不存在');
    expect(await ask(s, admin, `/bluevector delete other-kb ${second.doc_id}`)).toBe(`知识库不存在，或者你（ID：${admin}）没有这个知识库的权限`);
  });

  it('checks permissions as the vendor does: status, delete, metadata need a KB admin; info does not; help needs an app KB admin', async () => {
    const { s, admin, docs } = await withDocs(1);
    const stranger = await registerUser(s, 'stranger');
    const denied = `知识库不存在，或者你（ID：${stranger}）没有这个知识库的权限`;
    expect(await ask(s, stranger, '/bluevector status sandbox-kb')).toBe(denied);
    expect(await ask(s, stranger, `/bluevector delete sandbox-kb ${docs[0]!.doc_id}`)).toBe(denied);
    expect(await ask(s, stranger, `/bluevector metadata get ${docs[0]!.doc_id}`)).toBe(denied);
    expect(await ask(s, stranger, '/bluevector mode auto sandbox-kb')).toBe('设置失败：「sandbox-kb」不是合法知识库名称， 合法值为：[]');
    // :2862-2878: anyone; the storage of the one processed page (1 byte) rounds to 0.0 MB.
    expect(await ask(s, stranger, '/bluevector info')).toBe('当前预设绑定的知识库为：\n知识库名称: sandbox-kb, 分片大小:350字, 存储空间:0.0MB');
    expect(await ask(s, stranger, '/bluevector help')).toBe(`无法执行此命令，用户（ID：${stranger}）不是企业知识库管理员。`);
    expect(await ask(s, admin, '/bluevector help')).toMatch(/^用法：\/command \[OPTION\] \[ARGS\]\n说明：使用命令操作企业知识库或限定参考知识范围。\n/);
  });

  it('answers an incomplete /bluevector command with the format error, /help and "/ " with the help, others as chat', async () => {
    const { s, admin } = await start();
    const stranger = await registerUser(s, 'stranger');
    const formatError = '错误：命令格式不正确。\n可以使用 /help 或者 /+空格 查看命令说明。';
    for (const text of ['/bluevector', '/bluevector foo', '/bluevector status', '/bluevector delete sandbox-kb', '/bluevector mode auto', '/bluevector metadata get', '/bluevector metadata set 1-1']) {
      expect(await ask(s, admin, text)).toBe(formatError);
    }
    // lanying_command.py:134-163, the preset line from :99 (no description), trailing spaces included.
    const help = await ask(s, stranger, '/help');
    expect(help.split('\n')).toHaveLength(29);
    expect(help).toContain('\n2. 查看知识库状态及详情: /bluevector status [KNOWLEDGE_BASE_NAME] \n');
    expect(help).toContain('\n当前可用预设如下：\n/default：默认预设，也可使用别名 /bluebird 或 /bb 代替\n\n通过 /help 或者 /+空格 查看本说明。');
    expect(help.endsWith('通过 /help 或者 /+空格 查看本说明。')).toBe(true);
    expect(await ask(s, stranger, '/ ')).toBe(help);
    expect(await ask(s, admin, '/bb bluevector status sandbox-kb')).toBe('文档总数:0\n最近文档列表为:\n');
    expect(await ask(s, admin, '/default bluevector info')).toMatch(/^当前预设绑定的知识库为：/);
    expect(await ask(s, admin, '/foo')).toMatch(/^（沙盒模拟回复）/);
  });
});

describe('an admin of several knowledge bases', () => {
  it('keeps a file and drops URLs until a default is set; then acks into the default; /bluevector add ingests a kept file', async () => {
    const { s, admin, bot } = await start({ knowledgeBase: { otherKnowledgeBases: ['kb2'] } });
    s.setPage('p.html', { body: 'p' });
    const url = await uploadFile(s, admin, bot, Buffer.from('# kept'), 'kept.md');
    await sendMessage(s, { targets: [bot], type: 1, content_type: 4, content: '', attachment: JSON.stringify({ dName: 'kept.md', url }), from_user_id: admin });
    // openai_service.py:3161 and :3220.
    expect(last(s, admin)).toBe(
      "上传文件成功， 文件ID:1 。\n您绑定了多个知识库['sandbox-kb', 'kb2'], 可以设置默认知识库来自动添加文档到知识库,\n命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>",
    );
    await sendText(s, admin, bot, `${s.url}/_sandbox/site/p.html`);
    expect(last(s, admin)).toBe("您绑定了多个知识库['sandbox-kb', 'kb2']，请设置默认知识库名称， 命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>");
    await s.idle();
    expect(s.state().knowledgeBase.documents).toHaveLength(0);

    await sendText(s, admin, bot, '/bluevector mode auto nope');
    expect(last(s, admin)).toBe("设置失败：「nope」不是合法知识库名称， 合法值为：['sandbox-kb', 'kb2']");
    await sendText(s, admin, bot, '/bluevector mode auto kb2');
    expect(last(s, admin)).toBe('设置成功');
    await sendText(s, admin, bot, `${s.url}/_sandbox/site/p.html`);
    expect(last(s, admin)).toBe('添加到知识库(kb2)成功，请等待系统处理。');
    await sendText(s, admin, bot, '/bluevector add sandbox-kb 2');
    expect(last(s, admin)).toBe('文件ID(2)不存在');
    await s.idle();
    await sendText(s, admin, bot, '/bluevector add sandbox-kb 1');
    expect(last(s, admin)).toBe('添加成功，请等待系统处理。');
    await s.idle();
    const docs = s.state().knowledgeBase.documents;
    expect(docs.map((d) => [d.kb, d.filename, d.status])).toEqual([
      ['kb2', `${s.url}/_sandbox/site/p.html`, 'finish'],
      ['sandbox-kb', 'kept.md', 'finish'],
    ]);
    expect(docs[0]!.doc_id.split('-')[0]).not.toBe(docs[1]!.doc_id.split('-')[0]);
    expect(notices(s, admin)).toEqual([ok(docs[0]!.doc_id, 'kb2'), ok(docs[1]!.doc_id)]);
  });
});
