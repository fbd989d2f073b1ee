import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { api, codeOf, registerUser, sendMessage, sendText } from '../helpers/sandbox-http.js';

let sb: Sandbox;
let now = Date.UTC(2025, 0, 1);
beforeEach(async () => {
  now = Date.UTC(2025, 0, 1);
  sb = await startSandbox({ now: () => now, transactionWindowMs: 60_000 });
});
afterEach(async () => {
  await sb.close();
});

describe('POST /message/send', () => {
  it('answers data true plus msg_ids, only for exactly one target', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    const c = await registerUser(sb, 'cat');
    const one = await sendText(sb, a, b, 'hi');
    // Message IDs are 64-bit: above 2^60 by default, written as JSON numbers, read here exactly (as text).
    expect(one.body).toEqual({ code: 200, message: null, data: true, msg_ids: [expect.stringMatching(/^\d{19}$/)] });
    expect(one.text).toMatch(/"msg_ids":\[\d{19}\]/);
    const two = await sendMessage(sb, { targets: [b, c], type: 1, content_type: 0, content: 'hi all', from_user_id: a });
    expect(two.body).toEqual({ code: 200, message: null, data: true });
    expect(sb.state().messages).toHaveLength(3);
    const [m2, m3] = sb.state().messages.slice(1);
    expect(BigInt(m3!.msg_id)).toBeGreaterThan(BigInt(m2!.msg_id));
    expect(BigInt(m2!.msg_id)).toBeGreaterThan(BigInt(one.body.msg_ids[0]));
  });

  it.each([
    [{ targets: [] }, /targets must be a non-empty array/],
    [{ targets: ['x1'] }, /targets\[0\] must be a positive integer/],
    [{ targets: [-1] }, /targets\[0\] must be a positive integer/],
    [{ type: 3 }, /type must be one of 1, 2/],
    [{ content_type: 8 }, /content_type must be one of/],
    [{ content: 5 }, /content must be a string/],
    [{ content_type: 4, attachment: { url: 'http://x/a', dName: 'a.txt' } }, /attachment must be a string holding JSON/],
    [{ content_type: 4 }, /attachment is required for content_type 4/],
    [{ content_type: 4, attachment: '{"dName":"a.txt"}' }, /attachment.url is required/],
    [{ attachment: 'not json' }, /attachment must be a string holding JSON/],
    [{ ext: '{bad' }, /ext must be a string holding JSON/],
    [{ ext: { ai: {} } }, /ext must be a string holding JSON/],
    [{ transaction_id: 'abc' }, /transaction_id must be a positive integer/],
    [{ content_type: 10 }, /related_mid is required/],
  ])('refuses %j with 10002 naming the field', async (patch, message) => {
    const a = sb.knowledgeBase.adminUserIds[0] as number;
    const b = sb.knowledgeBase.chatbotUserId;
    const body: Record<string, unknown> = { targets: [b], type: 1, content_type: 0, content: 'x', from_user_id: a, ...patch };
    for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
    const r = await sendMessage(sb, body);
    expect(r.body.code).toBe(10002);
    expect(r.body.message).toMatch(message);
    expect(sb.state().messages).toHaveLength(0);
  });

  it('takes a message without content as "" (the knowledge-base guide sends one), unless requireContent is set', async () => {
    const a = sb.knowledgeBase.adminUserIds[0] as number;
    const body = { targets: [sb.knowledgeBase.chatbotUserId], type: 1, content_type: 0, from_user_id: a };
    expect((await sendMessage(sb, body)).body.code).toBe(200);
    expect(sb.state().messages[0]!.content).toBe('');
    const strict = await startSandbox({ requireContent: true });
    try {
      const r = await sendMessage(strict, { ...body, targets: [strict.knowledgeBase.chatbotUserId], from_user_id: strict.knowledgeBase.adminUserIds[0] });
      expect(r.body.code).toBe(10002);
      expect(r.body.message).toMatch(/content is required/);
    } finally {
      await strict.close();
    }
  });

  it('takes IDs as strings of digits, related_mid 0 as none, and an admin send without a sender (user 0)', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    expect((await sendMessage(sb, { targets: [String(b)], type: 1, content_type: 0, content: 's', from_user_id: String(a), related_mid: 0, online_only: true })).body.code).toBe(200);
    expect(sb.state().messages[0]).toMatchObject({ from_user_id: a, to_id: b, online_only: true });
    expect(sb.state().messages[0]!.related_mid).toBeUndefined();
    expect((await sendMessage(sb, { targets: [b], type: 1, content_type: 0, content: 'from the app' })).body.code).toBe(200);
    expect(sb.state().messages[1]).toMatchObject({ from_user_id: 0, to_id: b });
    expect((await sendMessage(sb, { targets: [b], type: 1, content_type: 9, content: '', related_mid: 0 })).body.message).toMatch(/related_mid is required/);
  });

  it('takes the sender from a user_id header, and refuses a conflicting from_user_id', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    const r = await sendMessage(sb, { targets: [b], type: 1, content_type: 0, content: 'via header' }, { userId: a });
    expect(r.body.code).toBe(200);
    expect(sb.state().messages[0]).toMatchObject({ from_user_id: a, to_id: b });
    expect(await codeOf(sendMessage(sb, { targets: [b], type: 1, content_type: 0, content: 'x', from_user_id: b }, { userId: a }))).toBe(10002);
  });

  it('answers 10000 for an unknown user target or sender, 20001 for an unknown group, 20002 for a non-member', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    expect(await codeOf(sendText(sb, a, 2302128699999, 'x'))).toBe(10000);
    expect(await codeOf(sendText(sb, 2302128699999, a, 'x'))).toBe(10000);
    expect(await codeOf(sendMessage(sb, { targets: [3402128699999], type: 2, content_type: 0, content: 'x', from_user_id: a }))).toBe(20001);
    const group = (await api(sb, 'POST', '/group/create', { userId: a, body: { name: 'g' } })).body.data;
    expect(await codeOf(sendMessage(sb, { targets: [group.group_id], type: 2, content_type: 0, content: 'x', from_user_id: b }))).toBe(20002);
    // A group ID sent as a user target is no user.
    expect(await codeOf(sendMessage(sb, { targets: [group.group_id], type: 1, content_type: 0, content: 'x', from_user_id: a }))).toBe(10000);
    expect(await codeOf(sendMessage(sb, { targets: [group.group_id], type: 2, content_type: 0, content: 'x', from_user_id: a }))).toBe(200);
  });

  it('does not execute a repeated transaction_id within the window and answers the original msg_ids', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    const first = await sendText(sb, a, b, 'once', { transaction_id: 777 });
    const again = await sendText(sb, a, b, 'once', { transaction_id: 777 });
    expect(again.body).toEqual(first.body);
    expect(sb.state().messages).toHaveLength(1);
    expect(sb.state().messages[0]!.transaction_id).toBe(777);
    // Another sender may use the same ID.
    await sendText(sb, b, a, 'mine', { transaction_id: 777 });
    expect(sb.state().messages).toHaveLength(2);
    // After the window it is a new message.
    now += 60_001;
    const later = await sendText(sb, a, b, 'once', { transaction_id: 777 });
    expect(later.body.msg_ids[0]).not.toBe(first.body.msg_ids[0]);
    expect(sb.state().messages).toHaveLength(3);
    expect(sb.state().requests.filter((r) => r.path === '/message/send').map((r) => r.transaction_id)).toEqual([777, 777, 777, 777]);
  });
});

describe('GET /message/conversation', () => {
  it('pages newest first from msg_id_start, with next_msg_id and is_last', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) sent.push((await sendText(sb, i % 2 ? b : a, i % 2 ? a : b, `m${i}`)).body.msg_ids[0]);
    const contents: string[] = [];
    let start: number | string = 0;
    let pages = 0;
    for (;;) {
      const r = await api(sb, 'GET', '/message/conversation', { userId: a, query: { opposite_id: b, msg_id_start: start, limit: 3 } });
      expect(r.body.code).toBe(200);
      pages++;
      contents.push(...r.body.data.messages.map((m: { content: string }) => m.content));
      if (r.body.data.is_last) {
        expect(r.body.data.next_msg_id).toBe(0);
        break;
      }
      start = r.body.data.next_msg_id;
    }
    expect(pages).toBe(3);
    expect(contents).toEqual(['m6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0']);
    const page = await api(sb, 'GET', '/message/conversation', { userId: b, query: { opposite_id: a, msg_id_start: sent[2] as string, limit: 10 } });
    const first = page.body.data.messages[0];
    expect(page.body.data.messages.map((m: { content: string }) => m.content)).toEqual(['m2', 'm1', 'm0']);
    expect(first).toEqual({
      msg_id: sent[2],
      ctype: 'TEXT',
      content: 'm2',
      attachment: '',
      ext: '',
      config: '',
      from_xid: { uid: a, device_sn: 0 },
      to_xid: { uid: b, device_sn: 0 },
      status: 'UNREAD',
      timestamp: now,
    });
  });

  it('bounds limit by the conversationPageMax option (the real bound is unknown)', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    expect(await codeOf(api(sb, 'GET', '/message/conversation', { userId: a, query: { opposite_id: b, msg_id_start: 0, limit: 101 } }))).toBe(10002);
    const wide = await startSandbox({ limits: { conversationPageMax: 500 } });
    try {
      const c = await registerUser(wide, 'cat');
      expect(await codeOf(api(wide, 'GET', '/message/conversation', { userId: c, query: { opposite_id: wide.knowledgeBase.chatbotUserId, msg_id_start: 0, limit: 500 } }))).toBe(200);
    } finally {
      await wide.close();
    }
  });

  it('requires all three parameters and a user_id header; reads group history for members only', async () => {
    const a = await registerUser(sb, 'amy');
    const b = await registerUser(sb, 'ben');
    expect(await codeOf(api(sb, 'GET', '/message/conversation', { userId: a, query: { opposite_id: b, msg_id_start: 0 } }))).toBe(10002);
    expect(await codeOf(api(sb, 'GET', '/message/conversation', { query: { opposite_id: b, msg_id_start: 0, limit: 5 } }))).toBe(10002);
    const group = (await api(sb, 'POST', '/group/create', { userId: a, body: { name: 'g' } })).body.data;
    await sendMessage(sb, { targets: [group.group_id], type: 2, content_type: 0, content: 'to group', from_user_id: a });
    const r = await api(sb, 'GET', '/message/conversation', { userId: a, query: { opposite_id: group.group_id, msg_id_start: 0, limit: 5 } });
    expect(r.body.data.messages.map((m: { content: string; to_xid: { uid: number } }) => [m.content, m.to_xid.uid])).toEqual([['to group', group.group_id]]);
    expect(await codeOf(api(sb, 'GET', '/message/conversation', { userId: b, query: { opposite_id: group.group_id, msg_id_start: 0, limit: 5 } }))).toBe(20002);
  });
});
