import { createHash } from 'node:crypto';
import { existsSync, openAsBlob, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FormData, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { api, codeOf, http, multipart, ossCode, postForm, rawExchange, slotForm, uploadSlot, type FormPart } from '../helpers/sandbox-http.js';

let sb: Sandbox | undefined;
let now = Date.UTC(2025, 0, 1);
async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  now = Date.UTC(2025, 0, 1);
  sb = await startSandbox({ now: () => now, ...options });
  return sb;
}
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

function ids(s: Sandbox) {
  return { admin: s.knowledgeBase.adminUserIds[0] as number, bot: s.knowledgeBase.chatbotUserId };
}

describe('GET /file/upload/chat', () => {
  it('hands out a POST slot: signed policy, callback, key, and a download URL', async () => {
    const s = await start({ ossMaxBytes: 1000, policyTtlMs: 60_000 });
    const { admin, bot } = ids(s);
    const slot = await uploadSlot(s, admin, bot);
    expect(slot.upload_method).toBe('POST');
    expect(slot.upload_url).toBe(`${s.url}/_oss/sandbox-chat`);
    expect(Object.keys(slot.oss_body_param)).toEqual(['OSSAccessKeyId', 'policy', 'signature', 'callback', 'key']);
    const policy = JSON.parse(Buffer.from(slot.oss_body_param.policy as string, 'base64').toString('utf8'));
    expect(policy).toEqual({
      expiration: new Date(now + 60_000).toISOString(),
      conditions: [{ bucket: 'sandbox-chat' }, ['eq', '$key', slot.oss_body_param.key], ['content-length-range', 0, 1000]],
    });
    expect(JSON.parse(Buffer.from(slot.oss_body_param.callback as string, 'base64').toString('utf8'))).toHaveProperty('callbackUrl');
    expect(slot.download_url).toMatch(new RegExp(`^${s.url}/file/download/chat\\?file_sign=`));
  });

  it('needs the uploader (user_id header) and an existing receiver', async () => {
    const s = await start();
    const { admin, bot } = ids(s);
    expect(await codeOf(api(s, 'GET', '/file/upload/chat', { query: { file_type: 100, to_id: bot } }))).toBe(10002);
    expect(await codeOf(api(s, 'GET', '/file/upload/chat', { userId: admin, query: { to_id: bot } }))).toBe(10002);
    expect(await codeOf(api(s, 'GET', '/file/upload/chat', { userId: admin, query: { file_type: 100, to_id: 2302128699999 } }))).toBe(10000);
    expect(await codeOf(api(s, 'GET', '/file/upload/chat', { userId: admin, query: { file_type: 100, to_id: 3402128699999, to_type: 2 } }))).toBe(20001);
  });
});

describe('OSS PostObject', () => {
  it('stores a good upload (fields, then file last) and answers 200 JSON because of the callback', async () => {
    const s = await start();
    const { admin, bot } = ids(s);
    const slot = await uploadSlot(s, admin, bot);
    const content = Buffer.from('hello knowledge base\n');
    const r = await postForm(slot.upload_url, slotForm(slot, content, 'hello.txt'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ Status: 'OK' });
    const object = s.state().objects[0];
    expect(object).toMatchObject({ key: slot.oss_body_param.key, size: content.length, uploader: admin, to_id: bot, to_type: 1, content_type: 'text/plain' });
    expect(object!.sha256).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('answers 204 without a callback field', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const fields: FormPart[] = Object.entries(slot.oss_body_param)
      .filter(([name]) => name !== 'callback')
      .map(([name, value]) => ({ name, value }));
    const r = await postForm(slot.upload_url, multipart([...fields, { name: 'file', filename: 'a.txt', content: Buffer.from('x') }]));
    expect(r.status).toBe(204);
  });

  it('accepts undici FormData with a file from fs.openAsBlob', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sbx-test-'));
    const file = path.join(dir, 'doc.md');
    await fsp.writeFile(file, '# Title\n\nbody\n');
    const form = new FormData();
    for (const [k, v] of Object.entries(slot.oss_body_param)) form.append(k, v);
    form.append('file', await openAsBlob(file, { type: 'text/markdown' }), 'doc.md');
    const res = await request(slot.upload_url, { method: 'POST', body: form });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(s.state().objects[0]).toMatchObject({ size: 14, content_type: 'text/markdown' });
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('answers 411 MissingContentLength to a chunked body', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const form = slotForm(slot, Buffer.from('x'));
    const target = new URL(slot.upload_url);
    const head = `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: ${form.contentType}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
    const chunk = `${form.body.length.toString(16)}\r\n${form.body.toString('latin1')}\r\n0\r\n\r\n`;
    const response = await rawExchange(s.url, Buffer.concat([Buffer.from(head), Buffer.from(chunk, 'latin1')]));
    expect(response).toMatch(/^HTTP\/1\.1 411/);
    expect(response).toContain('<Code>MissingContentLength</Code>');
    expect(s.state().objects).toHaveLength(0);
  });

  it('refuses a field after file (MalformedPOSTRequest) and a form without file (InvalidArgument)', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const fields: FormPart[] = Object.entries(slot.oss_body_param).map(([name, value]) => ({ name, value }));
    const after = await postForm(slot.upload_url, multipart([...fields, { name: 'file', filename: 'a.txt', content: Buffer.from('x') }, { name: 'x-extra', value: '1' }]));
    expect(after.status).toBe(400);
    expect(ossCode(after)).toBe('MalformedPOSTRequest');
    const signedAfter = await postForm(
      slot.upload_url,
      multipart([...fields.filter((f) => f.name !== 'key'), { name: 'file', filename: 'a.txt', content: Buffer.from('x') }, { name: 'key', value: slot.oss_body_param.key as string }]),
    );
    expect(signedAfter.status).toBe(400);
    expect(signedAfter.text).toMatch(/"key" is required before "file"/);
    const noFile = await postForm(slot.upload_url, multipart(fields));
    expect(noFile.status).toBe(400);
    expect(ossCode(noFile)).toBe('InvalidArgument');
    expect(noFile.headers['content-type']).toBe('application/xml');
    expect(s.state().objects).toHaveLength(0);
  });

  // Issue 10, item 11: a control character in the file part's name made the parser give up and the upload hang.
  it('answers (400 MalformedPOSTRequest, at once) an upload whose file name holds a control character, then serves on', async () => {
    const s = await start();
    for (const filename of ['bell\u0007.md', 'esc\u001b[2J.md', 'nul\u0000.md']) {
      const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
      const form = slotForm(slot, Buffer.alloc(200_000, 'x'), filename);
      const r = await postForm(slot.upload_url, form);
      expect(r.status).toBe(400);
      expect(ossCode(r)).toBe('MalformedPOSTRequest');
      expect(r.text).toMatch(/control characters/);
    }
    await s.idle();
    expect(s.state().objects).toHaveLength(0);
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    expect((await postForm(slot.upload_url, slotForm(slot, Buffer.from('ok'), 'plain.md'))).status).toBe(200);
  });

  it('answers 403 SignatureDoesNotMatch for a tampered signature or policy', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const bad = { ...slot, oss_body_param: { ...slot.oss_body_param, signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } };
    const r = await postForm(slot.upload_url, slotForm(bad, Buffer.from('x')));
    expect(r.status).toBe(403);
    expect(ossCode(r)).toBe('SignatureDoesNotMatch');
    const policy = JSON.parse(Buffer.from(slot.oss_body_param.policy as string, 'base64').toString());
    policy.conditions[2][2] = 10 ** 12;
    const widened = { ...slot, oss_body_param: { ...slot.oss_body_param, policy: Buffer.from(JSON.stringify(policy)).toString('base64') } };
    expect(ossCode(await postForm(slot.upload_url, slotForm(widened, Buffer.from('x'))))).toBe('SignatureDoesNotMatch');
    const otherKey = { ...slot, oss_body_param: { ...slot.oss_body_param, key: 'chat/other' } };
    const keyResult = await postForm(slot.upload_url, slotForm(otherKey, Buffer.from('x')));
    expect(keyResult.status).toBe(403);
    expect(keyResult.text).toMatch(/Policy Condition failed/);
  });

  it('answers 403 AccessDenied "Policy expired." once the policy has expired', async () => {
    const s = await start({ policyTtlMs: 1000 });
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    now += 1000;
    const r = await postForm(slot.upload_url, slotForm(slot, Buffer.from('x')));
    expect(r.status).toBe(403);
    expect(ossCode(r)).toBe('AccessDenied');
    expect(r.text).toContain('Invalid according to Policy: Policy expired.');
  });

  it('answers 400 EntityTooLarge above content-length-range', async () => {
    const s = await start({ ossMaxBytes: 10 });
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const ok = await postForm(slot.upload_url, slotForm(slot, Buffer.alloc(10, 1)));
    expect(ok.status).toBe(200);
    const big = await postForm(slot.upload_url, slotForm(slot, Buffer.alloc(11, 1)));
    expect(big.status).toBe(400);
    expect(ossCode(big)).toBe('EntityTooLarge');
    expect(s.state().objects[0]!.size).toBe(10);
  });

  it('answers 400 IncompleteBody when the body is shorter than its Content-Length', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const form = slotForm(slot, Buffer.from('short'));
    const head = `POST /_oss/sandbox-chat HTTP/1.1\r\nHost: x\r\nContent-Type: ${form.contentType}\r\nContent-Length: ${form.body.length + 50}\r\n\r\n`;
    const response = await rawExchange(s.url, Buffer.concat([Buffer.from(head), form.body]));
    expect(response).toMatch(/^HTTP\/1\.1 400/);
    expect(response).toContain('<Code>IncompleteBody</Code>');
    expect(s.state().objects).toHaveLength(0);
    expect(s.state().requests.at(-1)).toMatchObject({ path: '/_oss/sandbox-chat', status: 400 });
  });
});

describe('OSS presigned PUT', () => {
  it('hands out a presigned PUT URL; the upload must carry Content-Length and no Content-Type', async () => {
    const s = await start({ uploadMethod: 'PUT', policyTtlMs: 5000 });
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    expect(slot.upload_method).toBe('PUT');
    expect(slot.oss_body_param).toEqual({});
    const url = new URL(slot.upload_url);
    expect([...url.searchParams.keys()].sort()).toEqual(['Expires', 'OSSAccessKeyId', 'Signature']);
    const typed = await http(slot.upload_url, { method: 'PUT', body: 'abc', headers: { 'content-type': 'text/plain' } });
    expect(typed.status).toBe(403);
    expect(ossCode(typed)).toBe('SignatureDoesNotMatch');
    const ok = await http(slot.upload_url, { method: 'PUT', body: Buffer.from('abc') });
    expect(ok.status).toBe(200);
    expect(s.state().objects[0]).toMatchObject({ size: 3, uploader: ids(s).admin });
    now += 5000;
    const late = await http(slot.upload_url, { method: 'PUT', body: Buffer.from('abc') });
    expect(late.status).toBe(403);
    expect(ossCode(late)).toBe('AccessDenied');
  });

  it('answers 411 to a chunked PUT', async () => {
    const s = await start({ uploadMethod: 'PUT' });
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const target = new URL(slot.upload_url);
    const raw = `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n`;
    expect(await rawExchange(s.url, raw)).toMatch(/^HTTP\/1\.1 411[\s\S]*MissingContentLength/);
  });
});

describe('GET /file/download/chat', () => {
  it('answers 302 to the stored object, which serves the bytes', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    await postForm(slot.upload_url, slotForm(slot, Buffer.from('file body')));
    const r = await http(slot.download_url, { headers: { app_id: s.appId, 'access-token': s.accessToken } });
    expect(r.status).toBe(302);
    const location = r.headers.location as string;
    expect(location.startsWith(`${s.url}/_oss/sandbox-chat/${slot.oss_body_param.key}?`)).toBe(true);
    const object = await http(location);
    expect(object.status).toBe(200);
    expect(object.text).toBe('file body');
    const ranged = await http(location, { headers: { range: 'bytes=0-' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe('bytes 0-8/9');
    // The bucket is private: no signature, no object.
    expect(ossCode(await http(location.split('?')[0] as string))).toBe('AccessDenied');
  });

  it('needs app_id and the token (10003/10008), and a valid file_sign (10002)', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    expect(await codeOf(http(slot.download_url, { headers: { app_id: s.appId } }))).toBe(10003);
    expect(await codeOf(http(slot.download_url, { headers: { app_id: s.appId, 'access-token': 'nope' } }))).toBe(10008);
    expect(await codeOf(http(slot.download_url, { headers: { 'access-token': s.accessToken } }))).toBe(40000);
    const forged = slot.download_url.replace(/file_sign=([^.]+)\./, 'file_sign=$1x.');
    expect(await codeOf(api(s, 'GET', new URL(forged).pathname + new URL(forged).search))).toBe(10002);
  });

  it('serves 404 NoSuchKey for an object that was never uploaded', async () => {
    const s = await start();
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    const r = await http(slot.download_url, { headers: { app_id: s.appId, 'access-token': s.accessToken } });
    const object = await http(r.headers.location as string);
    expect(object.status).toBe(404);
    expect(ossCode(object)).toBe('NoSuchKey');
  });
});

describe('storage on disk', () => {
  it('writes objects under storageDir and keeps a given folder on close', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sbx-store-'));
    const s = await start({ storageDir: dir });
    const slot = await uploadSlot(s, ids(s).admin, ids(s).bot);
    await postForm(slot.upload_url, slotForm(slot, Buffer.from('on disk')));
    const files = await fsp.readdir(path.join(dir, 'objects', '1'));
    expect(files).toHaveLength(1);
    expect(await fsp.readFile(path.join(dir, 'objects', '1', files[0] as string), 'utf8')).toBe('on disk');
    await s.close();
    sb = undefined;
    expect(existsSync(dir)).toBe(true);
    await fsp.rm(dir, { recursive: true, force: true });
  });
});
