import { createServer, type IncomingHttpHeaders } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LanyingClient } from '../../src/api/client.js';
import type { UploadBody, UploadSlot } from '../../src/api/resources/files.js';
import { tmpDir } from '../helpers/tmp-dir.js';

interface Captured {
  method: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A plain HTTP server that records exactly what arrives on the wire. */
async function captureServer(): Promise<{ url: string; requests: Captured[] }> {
  const requests: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bucket`, requests };
}

function fieldNames(body: Buffer, boundary: string): string[] {
  return body
    .toString('latin1')
    .split(`--${boundary}`)
    .map((part) => /name="([^"]+)"/.exec(part)?.[1])
    .filter((n): n is string => n !== undefined);
}

const fields = { OSSAccessKeyId: 'ak', policy: 'cG9saWN5', signature: 'c2ln', callback: 'Y2I=', key: 'chat/1/x' };

describe('upload wire format', () => {
  const bodies: [string, () => UploadBody, number][] = [
    [
      'a file on disk (undici FormData + openAsBlob)',
      () => {
        const dir = tmpDir();
        const file = path.join(dir, 'doc.pdf');
        writeFileSync(file, Buffer.alloc(123_457, 1));
        return { path: file };
      },
      123_457,
    ],
    ['a buffer (form-data with knownLength)', () => ({ buffer: Buffer.alloc(4321, 2) }), 4321],
    ['a stream of known size (form-data with knownLength)', () => ({ stream: () => Readable.from([Buffer.alloc(1000, 3), Buffer.alloc(234, 4)]), size: 1234 }), 1234],
  ];

  for (const [name, makeBody, size] of bodies) {
    it(`POST of ${name}: signed fields in order, file last, exact Content-Length, not chunked`, async () => {
      const capture = await captureServer();
      const client = new LanyingClient({ endpoint: 'http://127.0.0.1:1', appId: 'a', accessToken: 'secret-token' });
      const slot: UploadSlot = { upload_url: capture.url, upload_method: 'POST', download_url: 'http://x/d', oss_body_param: fields };
      const sent = await client.files.upload(slot, makeBody(), 'doc.pdf');
      expect(sent).toBe(size);
      const [req] = capture.requests;
      expect(req).toBeDefined();
      const r = req as Captured;
      expect(r.headers['transfer-encoding']).toBeUndefined();
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
      const boundary = /boundary=(.+)$/.exec(String(r.headers['content-type']))?.[1] as string;
      expect(boundary).toBeTruthy();
      expect(fieldNames(r.body, boundary)).toEqual([...Object.keys(fields), 'file']);
      expect(r.body.toString('latin1')).toContain('filename="doc.pdf"');
      expect(r.headers['access-token']).toBeUndefined();
      expect(r.body.toString('latin1')).not.toContain('secret-token');
    });
  }

  it('sends the same form again on retry', async () => {
    const requests: number[] = [];
    const server = createServer((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        requests.push(n);
        res.writeHead(requests.length === 1 ? 503 : 200).end('<Error><Code>ServiceUnavailable</Code></Error>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const dir = tmpDir();
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'retry me');
    const client = new LanyingClient({ endpoint: 'http://127.0.0.1:1', appId: 'a', accessToken: 't', sleep: async () => {} });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await client.files.upload({ upload_url: url, upload_method: 'POST', download_url: 'd', oss_body_param: fields }, { path: file }, 'a.txt');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toBe(requests[1]);
  });

  it('PUT sends the raw body with a Content-Length', async () => {
    const capture = await captureServer();
    const client = new LanyingClient({ endpoint: 'http://127.0.0.1:1', appId: 'a', accessToken: 't' });
    await client.files.upload({ upload_url: `${capture.url}/key?Signature=x`, upload_method: 'PUT', download_url: 'd' }, { buffer: Buffer.from('raw bytes') }, 'r.txt');
    const r = capture.requests[0] as Captured;
    expect(r.method).toBe('PUT');
    expect(r.headers['content-length']).toBe('9');
    expect(r.body.toString()).toBe('raw bytes');
  });
});
