/**
 * What the real chatbot can do after `/message/send` answered 200: refuse the message, or fail a document it took.
 * Each is reachable from the sandbox's options, from fault rules set at run time (`setFaults`, and the control
 * endpoint over HTTP); `lanying-kb sandbox --fault` is tested in test/e2e/sandbox-cli.test.ts. Expected texts are
 * the vendor's (blockmessage/lanying-connector, branch `lanying`), written out here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type FaultRule, type MessageState, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { http, sendMessage, sendText, uploadFile } from '../helpers/sandbox-http.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function start(options: SandboxOptions = {}) {
  sb = await startSandbox({ ingestionDelayMs: 5, ...options });
  sb.setPage('p.html', { body: '<p>page</p>' });
  return { s: sb, admin: sb.knowledgeBase.adminUserIds[0] as number, bot: sb.knowledgeBase.chatbotUserId, page: `${sb.url}/_sandbox/site/p.html` };
}

function replies(s: Sandbox, user: number): MessageState[] {
  return s.state().messages.filter((m) => m.from_user_id === s.knowledgeBase.chatbotUserId && m.to_id === user && m.content_type === 0);
}

const texts = (s: Sandbox, user: number) => replies(s, user).map((m) => m.content);
const ACK = '添加到知识库(sandbox-kb)成功，请等待系统处理。';
const errorCodeOf = (m: MessageState | undefined) => (JSON.parse(m?.ext ?? '{}') as { ai?: { error_code?: string } }).ai?.error_code;

async function sendFile(s: Sandbox, admin: number, bot: number, name = 'doc.md') {
  const url = await uploadFile(s, admin, bot, Buffer.from('# doc'), name);
  return sendMessage(s, { targets: [bot], type: 1, content_type: 4, content: '', attachment: JSON.stringify({ dName: name, url }), from_user_id: admin });
}

describe('refusals of a message (nothing is ingested)', () => {
  it.each([
    // openai_service.py:2555-2562
    ['serviceExpired', { serviceExpired: true }, 'service is expired', 'service_is_expired'],
    // :2550-2553 with lanying_config.py:97-100
    ['deductFailed', { deductFailed: true }, '抱歉，当前应用已欠费，请联系管理员或者稍后重试。', 'deduct_failed'],
    ['deductFailed with the app text', { deductFailed: true, deductFailedText: '本应用已欠费' }, '本应用已欠费', 'deduct_failed'],
  ])('option %s: every message gets the refusal, with its error_code', async (_name, chatbot, text, code) => {
    const { s, admin, bot, page } = await start({ chatbot });
    await sendText(s, admin, bot, page);
    await sendFile(s, admin, bot);
    await sendText(s, admin, bot, '/bluevector status sandbox-kb');
    await s.idle();
    expect(texts(s, admin)).toEqual([text, text, text]);
    expect(replies(s, admin).map(errorCodeOf)).toEqual([code, code, code]);
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
  });

  it.each([
    ['service_expired', 'service is expired'],
    ['deduct_failed', '抱歉，当前应用已欠费，请联系管理员或者稍后重试。'],
    ['round_limit', '您发消息速度过快，请稍后再试。'],
  ] as const)('fault rule refuse/%s: once, then the chatbot takes messages again', async (reason, text) => {
    const { s, admin, bot, page } = await start({ faults: [{ chatbot: 'refuse', reason, times: 1 }] });
    await sendText(s, admin, bot, page);
    await sendText(s, admin, bot, page);
    await s.idle();
    expect(texts(s, admin).slice(0, 2)).toEqual([text, ACK]);
    expect(s.state().knowledgeBase.documents).toHaveLength(1);
  });

  it('fault rule refuse/several_kbs: a file is kept (not ingested), URLs are dropped, as for an admin of two knowledge bases', async () => {
    const { s, admin, bot, page } = await start({ faults: [{ chatbot: 'refuse', reason: 'several_kbs', times: 2 }] });
    await sendFile(s, admin, bot);
    await sendText(s, admin, bot, page);
    await s.idle();
    expect(texts(s, admin)).toEqual([
      "上传文件成功， 文件ID:1 。\n您绑定了多个知识库['sandbox-kb', 'sandbox-kb-2'], 可以设置默认知识库来自动添加文档到知识库,\n命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>",
      "您绑定了多个知识库['sandbox-kb', 'sandbox-kb-2']，请设置默认知识库名称， 命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>",
    ]);
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
  });

  it('matches a refusal rule against the text or the file name', async () => {
    const { s, admin, bot, page } = await start({ faults: [{ chatbot: 'refuse', reason: 'service_expired', match: '*.pdf' }] });
    await sendFile(s, admin, bot, 'a.md');
    await sendFile(s, admin, bot, 'b.pdf');
    await sendText(s, admin, bot, page);
    expect(texts(s, admin).filter((t) => !t.startsWith('文章'))).toEqual([ACK, 'service is expired', ACK]);
  });

  it('enforces the round limit by itself: the third repeat of a bot text in a row is refused, later ones are ignored', async () => {
    const { s, admin, bot } = await start();
    await sendText(s, admin, bot, 'hello');
    const canned = texts(s, admin)[0] as string;
    for (let i = 0; i < 4; i++) await sendText(s, admin, bot, canned);
    // openai_service.py:512-522: round 1 and 2 are answered, 3 gets the refusal, 4 nothing.
    expect(texts(s, admin)).toEqual([canned, canned, canned, '您发消息速度过快，请稍后再试。']);
    expect(errorCodeOf(replies(s, admin).at(-1))).toBe('rate_limit_reached');
    // Any other text resets the count.
    await sendText(s, admin, bot, 'something else');
    await sendText(s, admin, bot, canned);
    expect(texts(s, admin).slice(-2)).toEqual([canned, canned]);
  });
});

describe('documents that end in error after the ack', () => {
  it.each([
    ['download_failed', 'download failed', { status: 'error', reason: 'download_failed' }],
    ['upload_error', 'upload embedding file error', undefined],
    ['download_error', 'download file error', { status: 'error', reason: 'download_error' }],
    ['storage_limit', 'storage limit', { status: 'error', reason: 'storage_limit' }],
    ['exception', 'exception', { status: 'error', reason: 'exception' }],
    ['bad_authorization', 'bad_authorization', { status: 'error', reason: 'bad_authorization' }],
    ['no_quota', 'no_quota', { status: 'error', reason: 'no_quota' }],
    ['deduct_failed', 'deduct_failed', { status: 'error', reason: 'deduct_failed' }],
  ] as const)('fault rule fail/%s: the failure notice "%s"', async (reason, notice, listed) => {
    const { s, admin, bot, page } = await start({ faults: [{ chatbot: 'fail', reason, match: '*/p.html' }] });
    await sendText(s, admin, bot, page);
    await sendFile(s, admin, bot);
    await s.idle();
    const docs = s.state().knowledgeBase.documents;
    const failedDoc = docs.find((d) => d.type === 'url');
    // lanying_tasks.py: "upload embedding file error" stops the task before the document is listed.
    if (listed) expect(failedDoc).toMatchObject(listed);
    else expect(failedDoc).toBeUndefined();
    const noticeTexts = texts(s, admin).filter((t) => t.startsWith('文章'));
    expect(noticeTexts).toHaveLength(2);
    expect(noticeTexts.filter((t) => t.endsWith(`失败：${notice}`))).toHaveLength(1);
    expect(docs.find((d) => d.type === 'file')).toMatchObject({ status: 'finish' });
  });

  it('option storageLimitBytes: a document beyond the quota fails with "storage limit"; deleting gives the space back', async () => {
    const { s, admin, bot } = await start({ chatbot: { storageLimitBytes: 8 } });
    await sendFile(s, admin, bot, 'a.md'); // 5 bytes
    await s.idle();
    await sendFile(s, admin, bot, 'b.md');
    await s.idle();
    const [a, b] = s.state().knowledgeBase.documents;
    expect([a?.status, b?.status, b?.reason]).toEqual(['finish', 'error', 'storage_limit']);
    expect(texts(s, admin).at(-1)).toBe(`文章（ID：${b?.doc_id}）加入知识库 sandbox-kb失败：storage limit`);
    await sendText(s, admin, bot, `/bluevector delete sandbox-kb ${a?.doc_id}`);
    await sendFile(s, admin, bot, 'c.md');
    await s.idle();
    expect(s.state().knowledgeBase.documents.at(-1)).toMatchObject({ filename: 'c.md', status: 'finish' });
  });
});

describe('the control endpoint', () => {
  it('takes chatbot fault rules, lists them, refuses a bad one naming the field, and clears them', async () => {
    const { s, admin, bot, page } = await start();
    const rules: FaultRule[] = [{ chatbot: 'refuse', reason: 'service_expired', times: 1 }];
    const set = await http(`${s.url}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rules }) });
    expect(set.body).toEqual({ ok: true, rules });
    await sendText(s, admin, bot, page);
    expect(texts(s, admin)).toEqual(['service is expired']);
    const bad = await http(`${s.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ chatbot: 'fail', reason: 'nope' }] }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^rules\[0\]\.reason: /);
    expect((await http(`${s.url}/_sandbox/faults`, { method: 'DELETE' })).body).toEqual({ ok: true, rules: [] });
  });

  it('GET /_sandbox/idle answers once the chatbot has nothing pending, 504 when it stays busy', async () => {
    const { s, admin, bot, page } = await start({ ingestionDelayMs: 300 });
    await sendText(s, admin, bot, page);
    expect(s.state().chatbotPending).toBe(1);
    const busy = await http(`${s.url}/_sandbox/idle?timeoutMs=20`);
    expect(busy.status).toBe(504);
    const idle = await http(`${s.url}/_sandbox/idle?timeoutMs=5000`);
    expect(idle.body).toEqual({ ok: true, idle: true });
    expect(s.state().chatbotPending).toBe(0);
    expect(texts(s, admin).filter((t) => t.startsWith('文章'))).toHaveLength(1);
    expect((await http(`${s.url}/_sandbox/idle?timeoutMs=0`)).status).toBe(400);
  });
});
