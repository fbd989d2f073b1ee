import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkPushImage } from '../../src/admin/push-image.js';
import { ValidationError } from '../../src/errors.js';
import { httpServer } from './fixtures.js';
import { rejectionOf } from '../helpers/errors.js';

function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  return rejectionOf(promise, ValidationError);
}

describe('checkPushImage', () => {
  it('refuses an extension other than jpg, jpeg or png without fetching anything', async () => {
    const { url, seen } = await httpServer((_req, res) => res.end());
    const error = await refusal(checkPushImage(`${url}/banner.gif`, { field: '--attachment-url' }));
    expect(error.message).toMatch(/^--attachment-url: a push image must end in \.jpg, \.jpeg or \.png, not "\.gif"/);
    expect(seen).toEqual([]);
  });

  it('takes the size from HEAD, and refuses 1 MB or more naming the size', async () => {
    const { url } = await httpServer((req, res) => {
      const size = req.url === '/big.PNG' ? 2_000_000 : 300_000;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(size) });
      res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(size));
    });
    expect(await checkPushImage(`${url}/small.jpg`)).toEqual({ size: 300_000, via: 'HEAD' });
    const error = await refusal(checkPushImage(`${url}/big.PNG`));
    expect(error.message).toMatch(/the image is 1\.9 MiB \(2000000 bytes\); a push image must be under 1 MB .*12002/);
  });

  it('counts a GET when HEAD is not allowed, stopping past the limit', async () => {
    const { url, seen } = await httpServer((req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(405).end();
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      if (req.url === '/ok.jpeg') return void res.end(Buffer.alloc(1000));
      // A chunked body with no length, larger than the limit.
      for (let i = 0; i < 40; i++) res.write(Buffer.alloc(64 * 1024));
      res.end();
    });
    expect(await checkPushImage(`${url}/ok.jpeg`)).toEqual({ size: 1000, via: 'GET' });
    expect((await refusal(checkPushImage(`${url}/huge.jpg`))).message).toMatch(/the image is over 1\.0 MiB/);
    expect(seen).toEqual(['HEAD /ok.jpeg', 'GET /ok.jpeg', 'HEAD /huge.jpg', 'GET /huge.jpg']);
  });

  it('says the URL cannot be downloaded (the server\'s 12004) on 404 or a refused connection', async () => {
    const { url } = await httpServer((_req, res) => res.writeHead(404).end());
    expect((await refusal(checkPushImage(`${url}/missing.png`))).message).toMatch(/missing\.png cannot be downloaded \(HTTP 404\).*12004/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await refusal(checkPushImage(`http://127.0.0.1:${port}/x.png`))).message).toMatch(/cannot be downloaded \(ECONNREFUSED\).*12004/);
  });
});
