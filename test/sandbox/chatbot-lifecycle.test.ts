/**
 * The document lifecycles a client of the chatbot must survive, beyond what the vendor's code does on a good day:
 * completions in another order than the sends, lost and repeated notices, slow ingestion, deletes that take effect
 * later, and a chatbot that does not run slash commands. Each is a fault rule, reachable from `startSandbox()`,
 * `setFaults()`, `POST /_sandbox/faults` and `lanying-kb sandbox --fault` (its parser is tested at the end).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseFaultArgument, startSandbox, type MessageState, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { http, sendText } from '../helpers/sandbox-http.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function start(options: SandboxOptions = {}) {
  sb = await startSandbox({ ingestionDelayMs: 5, ...options });
  for (const page of ['a', 'b', 'c']) sb.setPage(`${page}.html`, { body: `<p>${page}</p>` });
  return { s: sb, admin: sb.knowledgeBase.adminUserIds[0] as number, bot: sb.knowledgeBase.chatbotUserId, site: `${sb.url}/_sandbox/site` };
}

function botTexts(s: Sandbox, user: number): MessageState[] {
  return s.state().messages.filter((m) => m.from_user_id === s.knowledgeBase.chatbotUserId && m.to_id === user && m.content_type === 0);
}

const noticesOf = (s: Sandbox, user: number) => botTexts(s, user).map((m) => m.content).filter((t) => t.startsWith('文章'));
const docIdOf = (s: Sandbox, name: string) => s.state().knowledgeBase.documents.find((d) => d.filename.endsWith(name))?.doc_id as string;
const ok = (docId: string) => `文章（ID：${docId}）已加入知识库 sandbox-kb，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ`;

describe('completion notices', () => {
  it('delay: a slow document completes after one sent later (completions in another order than the sends)', async () => {
    const { s, admin, bot, site } = await start({ faults: [{ chatbot: 'delay', delayMs: 300, match: '*/a.html' }] });
    await sendText(s, admin, bot, `${site}/a.html`);
    await sendText(s, admin, bot, `${site}/b.html`);
    await s.idle();
    expect(noticesOf(s, admin)).toEqual([ok(docIdOf(s, 'b.html')), ok(docIdOf(s, 'a.html'))]);
    // The message order: a was sent (and acknowledged) first.
    expect(BigInt(s.state().knowledgeBase.documents.find((d) => d.filename.endsWith('a.html'))!.msg_id)).toBeLessThan(
      BigInt(s.state().knowledgeBase.documents.find((d) => d.filename.endsWith('b.html'))!.msg_id),
    );
  });

  it('delay: ingestion stays "processing" for the delay; idle() waits for it', async () => {
    const { s, admin, bot, site } = await start({ faults: [{ chatbot: 'delay', delayMs: 400 }] });
    await sendText(s, admin, bot, `${site}/a.html`);
    await new Promise<void>((resolve) => {
      const poll = () => (s.state().knowledgeBase.documents[0]?.status === 'processing' ? resolve() : setTimeout(poll, 5));
      poll();
    });
    expect(s.state().chatbotPending).toBe(1);
    expect(noticesOf(s, admin)).toEqual([]);
    await s.idle();
    expect(s.state().knowledgeBase.documents[0]?.status).toBe('finish');
    expect(noticesOf(s, admin)).toHaveLength(1);
  });

  it('lose_notice: the document is ingested, and no notice ever comes', async () => {
    const { s, admin, bot, site } = await start({ faults: [{ chatbot: 'lose_notice', match: '*/a.html', times: 1 }] });
    await sendText(s, admin, bot, `${site}/a.html`);
    await sendText(s, admin, bot, `${site}/b.html`);
    await s.idle();
    expect(s.state().knowledgeBase.documents.map((d) => d.status)).toEqual(['finish', 'finish']);
    expect(noticesOf(s, admin)).toEqual([ok(docIdOf(s, 'b.html'))]);
  });

  it('duplicate_notice: the same notice twice', async () => {
    const { s, admin, bot, site } = await start();
    s.setFaults([{ chatbot: 'duplicate_notice' }]);
    await sendText(s, admin, bot, `${site}/a.html`);
    await s.idle();
    const docId = docIdOf(s, 'a.html');
    expect(noticesOf(s, admin)).toEqual([ok(docId), ok(docId)]);
    expect(s.state().knowledgeBase.documents).toHaveLength(1);
  });

  it('fail: a document that ends in error, with its failure notice (see chatbot-refusals.test.ts for every reason)', async () => {
    const { s, admin, bot, site } = await start({ faults: [{ chatbot: 'fail', reason: 'exception', match: '*/b.html' }] });
    await sendText(s, admin, bot, `${site}/a.html ${site}/b.html`);
    await s.idle();
    expect(noticesOf(s, admin).sort()).toEqual([ok(docIdOf(s, 'a.html')), `文章（ID：${docIdOf(s, 'b.html')}）加入知识库 sandbox-kb失败：exception`].sort());
  });
});

describe('deletes', () => {
  it('delete_later: the reply comes at once, the document stays listed until the delay is over; idle() waits for it', async () => {
    const { s, admin, bot, site } = await start();
    await sendText(s, admin, bot, `${site}/a.html`);
    await s.idle();
    const docId = docIdOf(s, 'a.html');
    s.setFaults([{ chatbot: 'delete_later', delayMs: 300 }]);
    await sendText(s, admin, bot, `/bluevector delete sandbox-kb ${docId}`);
    expect(botTexts(s, admin).at(-1)?.content).toBe('删除成功，请等待系统处理。');
    await sendText(s, admin, bot, '/bluevector status sandbox-kb');
    expect(botTexts(s, admin).at(-1)?.content).toMatch(/^文档总数:1\n/);
    expect(s.state().chatbotPending).toBe(1);
    await s.idle();
    await sendText(s, admin, bot, '/bluevector status sandbox-kb');
    expect(botTexts(s, admin).at(-1)?.content).toBe('文档总数:0\n最近文档列表为:\n');
  });

  it('without the rule a delete takes effect at once, as in the vendor code (lanying_embedding.py:1513)', async () => {
    const { s, admin, bot, site } = await start();
    await sendText(s, admin, bot, `${site}/a.html`);
    await s.idle();
    await sendText(s, admin, bot, `/bluevector delete sandbox-kb ${docIdOf(s, 'a.html')}`);
    expect(s.state().knowledgeBase.documents).toHaveLength(0);
  });

  it('metadata set changes what metadata get answers', async () => {
    const { s, admin, bot, site } = await start();
    await sendText(s, admin, bot, `${site}/a.html`, { ext: JSON.stringify({ ai: { metadata: { title: 'A' } } }) });
    await s.idle();
    const docId = docIdOf(s, 'a.html');
    await sendText(s, admin, bot, `/bluevector metadata set ${docId} title New title`);
    await sendText(s, admin, bot, `/bluevector metadata get ${docId}`);
    expect(botTexts(s, admin).at(-1)?.content).toBe('文档metadata为：\n{"title": "New title"}');
  });
});

describe('slash commands disabled (a chatbot bound to an agent platform)', () => {
  it('answers /bluevector as a chat, or not at all', async () => {
    const { s, admin, bot } = await start({ faults: [{ chatbot: 'no_commands', match: '/bluevector status*' }] });
    await sendText(s, admin, bot, '/bluevector status sandbox-kb');
    expect(botTexts(s, admin).at(-1)?.content).toMatch(/^（沙盒模拟回复）/);
    await sendText(s, admin, bot, '/bluevector info');
    expect(botTexts(s, admin).at(-1)?.content).toMatch(/^当前预设绑定的知识库为：/);
    s.setFaults([{ chatbot: 'no_commands', answer: 'silent' }]);
    const before = botTexts(s, admin).length;
    await sendText(s, admin, bot, '/bluevector status sandbox-kb');
    await s.idle();
    expect(botTexts(s, admin)).toHaveLength(before);
    // The read receipt still comes.
    expect(s.state().messages.at(-1)?.ctype).toBe('READ_ACK');
  });
});

describe('reaching the rules', () => {
  it('over the control endpoint', async () => {
    const { s, admin, bot, site } = await start();
    const set = await http(`${s.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ chatbot: 'lose_notice' }, { chatbot: 'delete_later', delayMs: 50 }] }),
    });
    expect(set.status).toBe(200);
    await sendText(s, admin, bot, `${site}/a.html`);
    await s.idle();
    expect(noticesOf(s, admin)).toEqual([]);
  });

  it.each([
    ['chatbot=delay,delayMs=500,match=*.pdf', { chatbot: 'delay', delayMs: 500, match: '*.pdf' }],
    ['chatbot=lose_notice,times=1', { chatbot: 'lose_notice', times: 1 }],
    ['chatbot=duplicate_notice', { chatbot: 'duplicate_notice' }],
    ['chatbot=delete_later,delayMs=1000', { chatbot: 'delete_later', delayMs: 1000 }],
    ['chatbot=no_commands,answer=silent', { chatbot: 'no_commands', answer: 'silent' }],
    ['chatbot=fail,reason=storage_limit,errorRate=0.5', { chatbot: 'fail', reason: 'storage_limit', errorRate: 0.5 }],
    ['{"chatbot":"refuse","reason":"several_kbs"}', { chatbot: 'refuse', reason: 'several_kbs' }],
    ['route=POST /message/send,status=503,times=2', { route: 'POST /message/send', status: 503, times: 2 }],
  ])('lanying-kb sandbox --fault %j', (text, rule) => {
    expect(parseFaultArgument(text)).toEqual([rule]);
  });

  it.each([
    ['chatbot=delay', /--fault\[0\]\.delayMs/],
    ['chatbot=no_commands,answer=loud', /--fault\[0\]\.answer/],
    ['chatbot=teleport', /--fault\[0\]\.chatbot/],
    ['status', /not key=value/],
    ['{bad json', /not valid JSON/],
  ])('refuses --fault %j', (text, message) => {
    expect(() => parseFaultArgument(text)).toThrow(message);
  });
});
