/**
 * IDs are read without loss. The real service's message IDs are 64-bit (swagger `msg_ids`: int64); the sandbox
 * hands them out above 2^60. These tests fail if any ID goes through a JavaScript number on its way in or out:
 * 2^60 + 1 and 2^60 + 255 read through `JSON.parse` become 2^60 and 2^60 + 256.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LanyingClient } from '../../src/api/client.js';
import { UnsafeIdError } from '../../src/api/errors.js';
import { parseResponseJson } from '../../src/api/response-json.js';
import { ContentType } from '../../src/api/resources/messages.js';
import { rejectionOf } from '../helpers/errors.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';

/** A one-route server that answers `body` (raw JSON text) and records the request bodies it got. */
async function fakeApi(body: string): Promise<{ client: LanyingClient; requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push(text);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { client: new LanyingClient({ endpoint: `http://127.0.0.1:${port}`, appId: 'a', accessToken: 't', maxRetries: 0 }), requests };
}

describe('reading IDs', () => {
  it('keeps message IDs as exact decimal text, whatever their size', () => {
    const parsed = parseResponseJson(
      '{"code":200,"data":{"messages":[{"msg_id":1152921504606846977,"from_xid":{"uid":2302128600002}}],"next_msg_id":1152921504606847231},"msg_ids":[1152921504606846977,5]}',
    ) as { data: { messages: { msg_id: string; from_xid: { uid: number } }[]; next_msg_id: string }; msg_ids: string[] };
    expect(parsed.msg_ids).toEqual(['1152921504606846977', '5']);
    expect(parsed.data.messages[0]!.msg_id).toBe('1152921504606846977');
    expect(parsed.data.next_msg_id).toBe('1152921504606847231');
    // A user ID stays a number.
    expect(parsed.data.messages[0]!.from_xid.uid).toBe(2302128600002);
  });

  it('refuses a user ID beyond 2^53 with a typed error instead of rounding it', async () => {
    const { client } = await fakeApi('{"code":200,"message":null,"data":{"user_id":9007199254740993,"username":"x"}}');
    const error = await rejectionOf(client.users.profile({ actAs: 1 }), UnsafeIdError);
    expect(error.field).toBe('data.user_id');
    expect(error.value).toBe('9007199254740993');
    expect(error.message).toMatch(/^GET \/user\/profile failed: .*data\.user_id is 9007199254740993/);
  });

  it('returns the send\'s msg_ids exactly, and writes related_mid as the exact JSON number', async () => {
    const { client, requests } = await fakeApi('{"code":200,"message":null,"data":true,"msg_ids":[1152921504606847231]}');
    const sent = await client.messages.send({ to: { users: [2] }, contentType: ContentType.READ_ACK, relatedMid: '1152921504606846977' });
    expect(sent.msgIds).toEqual(['1152921504606847231']);
    expect(requests[0]).toMatch(/"related_mid":1152921504606846977[,}]/);
  });
});

describe('against the sandbox (message IDs above 2^60)', () => {
  it('sends, reads the history and pages through it with exact message IDs', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [a, b] = (await registerUsers(client, ['amy', 'bill'])) as [number, number];
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(...(await client.messages.send({ to: { users: [b] }, contentType: 0, content: `m${i}`, from: a })).msgIds);
    expect(ids).toEqual(sandbox.state().messages.map((m) => m.msg_id));
    expect(BigInt(ids[0] as string)).toBeGreaterThan(2n ** 60n);
    const page = await client.messages.conversationPage(b, { limit: 2 }, { actAs: a });
    expect(page.messages.map((m) => m.msg_id)).toEqual([ids[4], ids[3]]);
    expect(page.nextMsgId).toBe(ids[2]);
    const rest = await client.messages.conversationPage(b, { msgIdStart: page.nextMsgId as string, limit: 10 }, { actAs: a });
    expect(rest.messages.map((m) => m.content)).toEqual(['m2', 'm1', 'm0']);
    expect(rest.nextMsgId).toBeUndefined();
    // A read receipt naming a 64-bit message, as the chatbot sends them.
    await client.messages.send({ to: { users: [a] }, contentType: ContentType.READ_ACK, relatedMid: ids[4] as string, from: b });
    expect(sandbox.state().messages.at(-1)).toMatchObject({ ctype: 'READ_ACK', related_mid: ids[4] });
  });
});
