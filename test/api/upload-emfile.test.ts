import type * as Fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { LanyingClient } from '../../src/api/client.js';
import { isRetryable } from '../../src/api/retry.js';
import { LocalFileError } from '../../src/errors.js';
import { caught } from '../helpers/errors.js';
import { tmpDir, writeFile } from '../helpers/tmp-dir.js';

// Running out of file descriptors cannot be made to happen at one chosen open() in a shared test process (the
// socket may take the last descriptor first): the file system's open is made to fail instead.
const emfile = (file: string) => Object.assign(new Error(`EMFILE: too many open files, open '${file}'`), { code: 'EMFILE', errno: -24, syscall: 'open', path: file });
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof Fs>();
  return {
    ...fs,
    createReadStream: (file: string) =>
      new Readable({
        read() {
          this.destroy(emfile(file));
        },
      }),
    openAsBlob: async (file: string) => {
      throw emfile(file);
    },
  };
});

describe('uploads: out of file descriptors', () => {
  it.each(['PUT', 'POST'])('%s: a file that cannot be opened for want of descriptors is a transient, retryable LocalFileError', async (method) => {
    const storage = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(storage.address() as AddressInfo).port}/bucket`;
    const file = writeFile(tmpDir(), 'doc.md', '# doc\n');
    const client = new LanyingClient({ endpoint: 'http://127.0.0.1:9', appId: 'app', accessToken: 'token-1234567890', maxRetries: 0, breaker: false });
    const error = await caught(client.files.upload({ upload_url: url, upload_method: method, download_url: 'x' }, { path: file }, path.basename(file)));
    storage.closeAllConnections();
    storage.close();
    expect(error).toBeInstanceOf(LocalFileError);
    expect(error).toMatchObject({ transient: true, changed: false });
    expect((error as Error).message).toMatch(/cannot be (opened now|read) \(EMFILE/);
    expect(isRetryable(error)).toBe(true);
  });
});
