/**
 * The vendor's contract, checked from the vendor's side: the sandbox is driven with the exact request shapes the
 * vendor's documentation and its own client send, and the answers are checked against what the vendor documents.
 * Nothing here comes from the sandbox's or the client's constants: every body and every expected text is written out
 * from the source named beside it. This is what tells a sandbox that agrees with itself from one that agrees with
 * the vendor.
 *
 * Sources: Q = maxim-top/im.gitbook `zh-hans/quick-start/server-api-quick-start.md`; S = the same repository's
 * `zh-hans/reference/server-api/swagger/api-docs.json`; C = blockmessage/lanying-connector, branch `lanying`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCompletionNotice } from '../../src/protocol/kb-notices.js';
import { parseSendReply } from '../../src/protocol/kb-send-replies.js';
import { parseStatusReply } from '../../src/protocol/kb-command-replies.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { api, http, multipart, parseJsonExact, type FormPart, type HttpResult } from '../helpers/sandbox-http.js';

let sb: Sandbox;
let admin: number;
let bot: number;
beforeEach(async () => {
  sb = await startSandbox({ ingestionDelayMs: 5 });
  admin = sb.knowledgeBase.adminUserIds[0] as number;
  bot = sb.knowledgeBase.chatbotUserId;
  sb.setPage('docs/intro.html', { body: '<h1>Intro</h1>' });
});
afterEach(async () => {
  await sb.close();
});

/** A JSON body as Python's `requests.post(json=...)` writes it: `json.dumps` with ", " / ": " and ASCII escapes. */
function pythonRequestsJson(value: unknown): string {
  const text = (v: unknown): string => {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return String(v);
    if (typeof v === 'string') return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    if (Array.isArray(v)) return `[${v.map(text).join(', ')}]`;
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${text(x)}`)
      .join(', ')}}`;
  };
  return text(value);
}

/** A request as the vendor's Python client sends it: admin token, app_id, optional user_id header (a string). */
function vendorPost(path: string, body: unknown, userId?: string): Promise<HttpResult> {
  return api(sb, 'POST', path, { rawBody: pythonRequestsJson(body), ...(userId !== undefined ? { userId } : {}) });
}

/** The chatbot's text messages to the admin. */
const botTexts = () => sb.state().messages.filter((m) => m.from_user_id === bot && m.to_id === admin && m.content_type === 0);

describe('the quick start (Q), request by request', () => {
  it('§注册用户 (Q:68-115): only app_id; the answer carries user_id', async () => {
    const r = await api(sb, 'POST', '/user/register/v2', { rawBody: '{ "username": "test_user", "password": "asd"}', token: null });
    expect(r.body).toMatchObject({ code: 200, data: { user_id: expect.any(Number) } });
  });

  it('§添加好友 and §获取好友列表 (Q:119-200), §创建群 to §解散群 (Q:204-388)', async () => {
    const ids: number[] = [];
    for (const username of ['q_owner', 'q_a', 'q_b']) ids.push((await api(sb, 'POST', '/user/register/v2', { body: { username, password: 'asd' }, token: null })).body.data.user_id);
    const [owner, a, b] = ids as [number, number, number];
    expect((await api(sb, 'POST', '/user/add_roster', { userId: owner, rawBody: `{ "list": [${a}, ${b}]}` })).body).toMatchObject({ code: 200, data: true });
    const rosters = await api(sb, 'GET', '/user/rosters', { userId: owner });
    expect(rosters.body).toMatchObject({ code: 200, data: [{ user_id: a, name: 'q_a' }, { user_id: b, name: 'q_b' }] });

    const created = await api(sb, 'POST', '/group/create', { userId: owner, rawBody: '{ "name": "g001", "description": "test-group"}' });
    expect(created.body).toMatchObject({
      code: 200,
      data: {
        name: 'g001',
        status: 0,
        description: 'test-group',
        type: 0,
        group_id: expect.any(Number),
        owner_id: owner,
        created_at: expect.any(Number),
        updated_at: expect.any(Number),
        member_invite: true,
        apply_approval: 1,
        read_ack: false,
        history_visible: false,
        member_modify: false,
      },
    });
    const groupId = created.body.data.group_id as number;
    const invited = await api(sb, 'POST', '/group/invite', { userId: owner, rawBody: `{ "group_id": ${groupId}, "user_list": [${a}, ${b}]}` });
    expect(invited.body).toMatchObject({ code: 200, data: [{ result: 'success', user_id: a }, { result: 'success', user_id: b }] });
    const members = await api(sb, 'GET', `/group/member_list?group_id=${groupId}&limit=50`, { userId: owner });
    expect(members.body).toMatchObject({ code: 200, data: [{ user_id: owner, join_time: expect.any(Number) }, { user_id: a }, { user_id: b }], version: expect.any(Number) });
    expect((await api(sb, 'DELETE', `/group/destroy?group_id=${groupId}`, { userId: owner })).body).toMatchObject({ code: 200, data: true });
  });

  it('§管理员发送单聊文本消息 (Q:391-431): the admin sends with no sender; {"code": 200, "data": true}', async () => {
    const r = await api(sb, 'POST', '/message/send', { rawBody: `{"targets":[${admin}],"type":1,"content":"hello","content_type":0}` });
    expect(r.body).toMatchObject({ code: 200, data: true });
  });

  it('§管理员发送推送通知 (Q:434-510): the three examples are accepted', async () => {
    for (const body of [
      '{"audience": "all","message": {"type": "text","title": "this is push title","body": "this is push body"}}',
      '{"audience": {"push_token":["token1","token2"]},"message": {"type": "image","title": "this is push title","body": "this is push body","attachment_url": "https://xxx.com/images/1.jpg"}}',
      '{"audience": {"tag":["beijing","shanghai"]},"message": {"type": "cmd","title": "this is push title","body": "this is push body","ext": {"key1": 12345, "key2": "xxx" }}}',
    ]) {
      // Q shows `"data": true`; S (`推送结果`) a task_id: the two documents differ, code 200 is what both say.
      expect((await api(sb, 'POST', '/push/notify', { rawBody: body })).body.code).toBe(200);
    }
  });

  it('§使用API上传知识库, a web page (Q:519-534): the text message with ext metadata is acknowledged', async () => {
    const url = `${sb.url}/_sandbox/site/docs/intro.html`;
    // The guide's body, its comments removed.
    const r = await api(sb, 'POST', '/message/send', {
      rawBody: `{\n    "from_user_id": ${admin},\n    "content":"${url}",\n    "content_type":0,\n    "ext":"{\\"ai\\":{\\"metadata\\":{}}}",\n    "targets":[${bot}],\n    "type":1\n}`,
    });
    expect(r.body.code).toBe(200);
    const msgId = r.body.msg_ids[0] as string;
    // C services/openai_service.py:3207
    expect(botTexts()[0]?.content).toBe('添加到知识库(sandbox-kb)成功，请等待系统处理。');
    expect(parseSendReply(botTexts()[0]!, msgId)).toEqual({ kind: 'ack', kbName: 'sandbox-kb', text: '添加到知识库(sandbox-kb)成功，请等待系统处理。' });
    await sb.idle();
    const notice = botTexts().at(-1)!.content;
    // C services/openai_service.py:103
    expect(notice).toMatch(/^文章（ID：\d+-\d+）已加入知识库 sandbox-kb，有用的知识又增加了，谢谢您 ♪\(･ω･\)ﾉ$/);
    expect(parseCompletionNotice(notice)).toMatchObject({ ok: true, kbName: 'sandbox-kb' });
  });

  it('§使用API上传知识库, other files (Q:536-572): the three steps, the file message without content', async () => {
    // Step 1: the query and headers as written.
    const slot = await api(sb, 'GET', `/file/upload/chat?file_type=100&to_type=1&to_id=${bot}`, { userId: admin, headers: { 'content-type': 'application/json' } });
    expect(slot.body.code).toBe(200);
    const { download_url: downloadUrl, oss_body_param: fields, upload_method: method, upload_url: uploadUrl } = slot.body.data as Record<string, unknown>;
    expect(typeof downloadUrl).toBe('string');
    expect(method).toBe('POST');
    // Step 2: "以multipart/form-data的格式把oss_body_param和文件提交上来", the fields in the order given, then the file.
    const parts: FormPart[] = Object.entries(fields as Record<string, string>).map(([name, value]) => ({ name, value }));
    const form = multipart([...parts, { name: 'file', filename: 'guide.md', content: Buffer.from('# Guide\n') }]);
    const uploaded = await http(uploadUrl as string, { method: 'POST', body: form.body, headers: { 'content-type': form.contentType, 'content-length': String(form.body.length) } });
    expect(uploaded.status).toBe(200);
    // Step 3: the body as written (no content field).
    const sent = await api(sb, 'POST', '/message/send', {
      rawBody: `{\n    "from_user_id": ${admin},\n    "content_type":4,\n    "attachment": "{\\"dName\\":\\"guide.md\\",\\"url\\":\\"${downloadUrl as string}\\"}",\n    "ext":"{\\"ai\\":{\\"metadata\\":{}}}",\n    "targets":[${bot}],\n    "type":1\n}`,
    });
    expect(sent.body.code).toBe(200);
    expect(botTexts()[0]?.content).toBe('添加到知识库(sandbox-kb)成功，请等待系统处理。');
    await sb.idle();
    expect(parseCompletionNotice(botTexts().at(-1)!.content)).toMatchObject({ ok: true, kbName: 'sandbox-kb' });
    // And the status command lists it in the vendor's format (C services/openai_service.py:2856-2857).
    await api(sb, 'POST', '/message/send', { rawBody: `{"from_user_id": ${admin}, "content": "/bluevector status sandbox-kb", "content_type": 0, "targets": [${bot}], "type": 1}` });
    const status = botTexts().at(-1)!.content;
    expect(status).toMatch(/^文档总数:1\n最近文档列表为:\n文档ID:\d+-\d+, 文件名:guide\.md, 状态:finish, 进度：1\/1$/);
    expect(parseStatusReply(status)).toMatchObject({ ok: true, totalDocuments: 1, documents: [{ filename: 'guide.md', status: 'finish' }] });
  });
});

describe("the vendor's own client (C)", () => {
  it('lanying_connector.sendMessage (C lanying_connector.py:561-585): IDs as strings, config and an empty ext; reads msg_ids', async () => {
    const r = await vendorPost('/message/send', {
      type: 1,
      from_user_id: String(bot),
      targets: [String(admin)],
      content_type: 0,
      content: '你好',
      config: pythonRequestsJson({ antispam_prompt: '对不起，因为系统设定的原因，这个问题我无法回答，请您谅解。' }),
      ext: '',
    });
    expect(r.body.code).toBe(200);
    expect(r.body.msg_ids).toHaveLength(1);
    expect(sb.state().messages[0]).toMatchObject({ from_user_id: bot, to_id: admin, content: '你好' });
  });

  it('lanying_im_api.send_message_sync (C lanying_im_api.py:220-256): attachment "", online_only false, related_mid 0', async () => {
    const r = await vendorPost('/message/send', {
      type: 1,
      from_user_id: String(bot),
      targets: [String(admin)],
      content_type: 0,
      content: 'hi',
      attachment: '',
      config: '{}',
      ext: '',
      online_only: false,
      related_mid: 0,
    });
    expect(r.body.code).toBe(200);
    expect(sb.state().messages[0]!.related_mid).toBeUndefined();
  });

  it('sendReadAck and sendMessageOper (C lanying_connector.py:587-631): READ_ACK and APPEND naming a 64-bit message', async () => {
    const first = await vendorPost('/message/send', { type: 1, from_user_id: admin, targets: [bot], content_type: 0, content: 'q' });
    const msgId = first.body.msg_ids[0] as string;
    // The ID as Python ints it: an exact JSON number.
    const ack = await api(sb, 'POST', '/message/send', {
      rawBody: `{"type": 1, "from_user_id": ${bot}, "targets": [${admin}], "content_type": 9, "content": "", "config": "{}", "related_mid": ${msgId}}`,
    });
    expect(ack.body.code).toBe(200);
    const append = await api(sb, 'POST', '/message/send', {
      rawBody: `{"type": 1, "from_user_id": "${bot}", "targets": ["${admin}"], "content_type": 11, "content": "more", "ext": "", "config": "{}", "related_mid": ${msgId}, "online_only": false}`,
    });
    expect(append.body.code).toBe(200);
    const related = sb.state().messages.filter((m) => m.from_user_id === bot && m.related_mid === msgId).map((m) => m.ctype);
    expect(related).toEqual(['READ_ACK', 'READ_ACK', 'APPEND']);
  });

  it('get_user_file_upload_url, upload_chat_file and the worker download (C lanying_im_api.py:136-209, lanying_file_storage.py:55-85)', async () => {
    const slot = await api(sb, 'GET', `/file/upload/chat?file_type=100&to_type=1&to_id=${bot}`, { userId: String(admin) });
    const data = slot.body.data as { upload_url: string; download_url: string; oss_body_param: Record<string, string> };
    // requests.post(files=..., data=...) puts the data fields first, in this order, then the file.
    const parts: FormPart[] = ['OSSAccessKeyId', 'policy', 'signature', 'callback', 'key'].map((name) => ({ name, value: data.oss_body_param[name] ?? '' }));
    const form = multipart([...parts, { name: 'file', filename: 'file.txt', content: Buffer.from('hello'), contentType: 'text/plain' }]);
    const up = await http(data.upload_url, { method: 'POST', body: form.body, headers: { 'content-type': form.contentType, 'content-length': String(form.body.length) } });
    expect(up.status).toBe(200);
    // The worker downloads with the admin token as the chatbot user, Range bytes=0-, and follows the redirect.
    const redirect = await http(data.download_url, { headers: { app_id: sb.appId, 'access-token': sb.accessToken, user_id: String(bot), range: 'bytes=0-' } });
    expect(redirect.status).toBe(302);
    const file = await http(redirect.headers.location as string, { headers: { range: 'bytes=0-' } });
    expect([200, 206]).toContain(file.status);
    expect(file.text).toBe('hello');
  });
});

describe('swagger request models (S)', () => {
  it('MessageRequest (S:13712-13780): every field, IDs as int64 numbers or strings', async () => {
    const r = await api(sb, 'POST', '/message/send', {
      rawBody: `{"attachment": "", "config": "{}", "content": "full", "content_type": 0, "ext": "{}", "from_user_id": "${admin}", "online_only": true, "related_mid": 0, "targets": [${bot}], "transaction_id": 9223372036854775807, "type": 1}`,
    });
    expect(r.body.code).toBe(200);
    expect(sb.state().messages[0]).toMatchObject({ content: 'full', online_only: true, transaction_id: '9223372036854775807' });
  });

  it('SendMessageResponse (S:15160-15185): msg_ids are int64 JSON numbers, only for one receiver', async () => {
    const one = await api(sb, 'POST', '/message/send', { body: { targets: [bot], type: 1, content_type: 0, content: 'x', from_user_id: admin } });
    expect(one.text).toMatch(/"msg_ids":\[\d+\]/);
    expect(BigInt(parseJsonExact(one.text).msg_ids[0])).toBeGreaterThan(2n ** 53n);
  });

  it('UserRegisterRequest.username (S:15579): CJK letters, and the case-sensitive mta/maxim rule', async () => {
    for (const [username, code] of [
      ['张三', 200],
      ['Maxim_fan', 200],
      ['maxim_fan', 10002],
      ['123', 10002],
    ] as const) {
      expect((await api(sb, 'POST', '/user/register/v2', { body: { username, password: 'pw' }, token: null })).body.code).toBe(code);
    }
  });

  it('PushMessage (S:14031-14106): badge as a string, an audio URL on a text push', async () => {
    for (const message of [
      { type: 'text', body: 'b', badge: '5' },
      { type: 'text', body: 'b', badge: '+1' },
      { type: 'text', body: 'b', attachment_url: 'https://cdn.example.com/voice.mp3' },
      { type: 'cmd', body: 'b', attachment_url: 'https://cdn.example.com/clip.mp4' },
    ]) {
      expect((await api(sb, 'POST', '/push/notify', { body: { audience: 'all', message } })).body.code).toBe(200);
    }
    // An image push must still be a jpg/jpeg/png (S:14049).
    expect((await api(sb, 'POST', '/push/notify', { body: { audience: 'all', message: { type: 'image', attachment_url: 'https://cdn.example.com/a.gif' } } })).body.code).toBe(12002);
  });
});
