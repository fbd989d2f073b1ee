import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isLocalReadError, LanyingClient } from '../../src/api/client.js';
import type { UploadSlot } from '../../src/api/resources/files.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/**
 * A storage server that resets every third upload after it read the body, before answering: the client then reads
 * `read ECONNRESET` from the socket, which looks like a failed read of a local file.
 */
async function resettingStorage(): Promise<{ url: string; received: number; resets: number }> {
  const stats = { url: '', received: 0, resets: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      stats.received++;
      if (stats.received % 3 === 0) {
        stats.resets++;
        req.socket.resetAndDestroy();
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  stats.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket`;
  return stats;
}

describe('uploads: a connection reset is retried, a local read error is not', () => {
  it('retries storage uploads that the server resets (PUT and POST), so that none fails', async () => {
    const storage = await resettingStorage();
    const dir = tmpDir();
    const client = new LanyingClient({ endpoint: 'http://127.0.0.1:9', appId: 'app', accessToken: 'token-1234567890', maxRetries: 3, sleep: async () => {} });
    const failures: unknown[] = [];
    for (let i = 0; i < 24; i++) {
      const file = path.join(dir, `doc-${i}.md`);
      writeFileSync(file, `# Document ${i}\n${'text '.repeat(2000)}\n`);
      const slot: UploadSlot =
        i % 2 === 0
          ? { upload_url: `${storage.url}/put-${i}`, upload_method: 'PUT', download_url: 'https://cdn.test/x' }
          : { upload_url: storage.url, upload_method: 'POST', download_url: 'https://cdn.test/x', oss_body_param: { key: `post-${i}`, policy: 'p' } };
      await client.files.upload(slot, { path: file }, `doc-${i}.md`).catch((error: unknown) => failures.push(error));
    }
    expect(failures).toEqual([]);
    expect(storage.resets).toBeGreaterThanOrEqual(8);
    expect(storage.received).toBe(24 + storage.resets);
  });

  it.each([
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read', errno: -104 }), false],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write', errno: -32 }), false],
    [Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'read' }), false],
    [Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read', errno: -5 }), true],
    [Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT', syscall: 'open', path: '/x' }), true],
    [Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE', syscall: 'open', path: '/x' }), true],
    [Object.assign(new Error('the file changed'), { name: 'NotReadableError' }), true],
  ])('tells a local read error from a socket error: %s -> %s', (error, local) => {
    expect(isLocalReadError(error)).toBe(local);
  });
});
