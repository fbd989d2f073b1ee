import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientFor, useSandbox } from '../helpers/sandbox.js';
import { tmpDir, writeFile } from '../helpers/tmp-dir.js';
import { slotForm, uploadSlot } from '../helpers/sandbox-http.js';

describe('object storage: a client that goes away in the middle of an upload', () => {
  it('ends the request (the sandbox becomes idle) and stores nothing: while its body streams in', async () => {
    const s = await useSandbox();
    const admin = s.knowledgeBase.adminUserIds[0] as number;
    const slot = await uploadSlot(s, admin, s.knowledgeBase.chatbotUserId);
    const form = slotForm(slot, Buffer.alloc(300_000, 'x'));
    const url = new URL(s.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /_oss/sandbox-chat HTTP/1.1\r\nHost: x\r\nContent-Type: ${form.contentType}\r\nContent-Length: ${form.body.length}\r\n\r\n`);
    // The fields and the start of the file, then the client is killed (kill -9 of an uploading lanying-kb).
    socket.write(form.body.subarray(0, form.body.length - 100_000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.resetAndDestroy();
    await s.idle(3000);
    expect(s.state().objects).toHaveLength(0);
  });

  it('ends uploads whose client gave up while they waited out a latency fault (a client timeout)', async () => {
    const s = await useSandbox({ faults: [{ route: '/_oss/*', latencyMs: 800 }] });
    const { client } = clientFor(s, { timeoutMs: 300, maxRetries: 1 });
    const dir = tmpDir();
    const uploads = [0, 1, 2, 3].map(async (i) => {
      const file = writeFile(dir, `d${i}.md`, `# ${i}\n${'x'.repeat(300)}`);
      const error = await client.files
        .uploadChatFile({ body: { path: file }, name: `d${i}.md`, toId: s.knowledgeBase.chatbotUserId, toType: 1 }, { actAs: s.knowledgeBase.adminUserIds[0] as number })
        .then(() => undefined, (e: unknown) => e);
      return error;
    });
    for (const error of await Promise.all(uploads)) expect(error).toBeInstanceOf(Error);
    s.setFaults([]);
    await s.idle(3000);
    expect(s.state().objects).toHaveLength(0);
  });
});
