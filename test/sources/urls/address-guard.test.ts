import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as undici from 'undici';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { FetchError } from '../../../src/errors.js';
import { blockedAddressReason, createGuardedAgent } from '../../../src/sources/urls/address-guard.js';
import { fetchUrl, resolveSourceUrls } from '../../../src/sources/urls/fetch.js';
import type { ResolvedUrlSource } from '../../../src/config/resolve.js';
import { rejectionOf } from '../../helpers/errors.js';

describe('blockedAddressReason', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.8.9.10', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['[::1]', 'a loopback address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['64:ff9b::7f00:1', 'a loopback address'],
    ['2002:7f00:1::', 'a loopback address'],
    ['10.1.2.3', 'a private (RFC 1918) address'],
    ['172.16.0.1', 'a private (RFC 1918) address'],
    ['172.31.255.254', 'a private (RFC 1918) address'],
    ['192.168.1.1', 'a private (RFC 1918) address'],
    ['::ffff:10.0.0.1', 'a private (RFC 1918) address'],
    ['fd12:3456::1', 'a unique local (IPv6 ULA) address'],
    ['100.64.0.1', 'a carrier-grade NAT (RFC 6598) address'],
    ['169.254.1.1', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['100.100.100.200', 'a cloud metadata address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['255.255.255.255', 'a broadcast address'],
    ['240.0.0.1', 'a reserved address'],
    ['not-an-ip', 'not an IP address'],
  ])('refuses %s: %s', (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(blockedAddressReason(address)).toBeUndefined();
  });
});

/** A local server on `host` that counts its requests and answers per path. */
async function server(host: string, routes: Record<string, (res: http.ServerResponse) => void>) {
  const seen: string[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    const route = routes[req.url ?? ''];
    if (route) route(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  onTestFinished(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  srv.unref();
  return { port: (srv.address() as AddressInfo).port, seen };
}

const html = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><p>inside</p></body></html>');

describe('URL sources refuse internal addresses (SSRF)', () => {
  let downloadDir: string;
  beforeEach(async () => {
    downloadDir = await mkdtemp(path.join(tmpdir(), 'lanying-kb-guard-'));
  });
  afterEach(async () => {
    await rm(downloadDir, { recursive: true, force: true });
  });
  const base = { timeoutMs: 3000, maxRedirects: 5, maxBytes: 100_000 };

  it('refuses a loopback URL by default, before any request, and fetches it with allowPrivateAddresses', async () => {
    const inside = await server('127.0.0.1', { '/secret': html });
    const url = `http://127.0.0.1:${inside.port}/secret`;
    const error = await rejectionOf(fetchUrl(url, { ...base, downloadDir }), FetchError);
    expect(error.message).toBe(`${url}: refused: 127.0.0.1 is a loopback address; set "allowPrivateAddresses": true on the source to fetch from internal addresses`);
    expect(error.transient).toBe(false);
    expect(inside.seen).toEqual([]);
    expect((await fetchUrl(url, { ...base, downloadDir, allowPrivateAddresses: true })).status).toBe('page');
  });

  it('checks the resolved address: a public-looking name that resolves to 127.0.0.1 is refused', async () => {
    const inside = await server('127.0.0.1', { '/secret': html });
    const dispatcher = createGuardedAgent(undici, { lookup: (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]) });
    onTestFinished(() => dispatcher.destroy());
    const url = `http://www.public.test:${inside.port}/secret`;
    const error = await rejectionOf(fetchUrl(url, { ...base, downloadDir, dispatcher }), FetchError);
    expect(error.message).toContain('refused: www.public.test resolves to 127.0.0.1, a loopback address');
    expect(inside.seen).toEqual([]);
  });

  it('checks every redirect hop and every sitemap <loc>', async () => {
    // In this test 127.0.0.1 plays the public internet and 127.0.0.2 the internal network.
    const inside = await server('127.0.0.2', { '/secret': html });
    const outside = await server('127.0.0.1', {
      '/to-name': (res) => res.writeHead(302, { location: `http://internal.example.test:${inside.port}/secret` }).end(),
      '/to-ip': (res) => res.writeHead(301, { location: `http://127.0.0.2:${inside.port}/secret` }).end(),
      '/sitemap.xml': (res) =>
        res
          .writeHead(200, { 'content-type': 'application/xml' })
          .end(`<urlset><url><loc>http://internal.example.test:${inside.port}/secret</loc></url></urlset>`),
    });
    const addresses: Record<string, string> = { 'www.example.test': '127.0.0.1', 'internal.example.test': '127.0.0.2' };
    const dispatcher = createGuardedAgent(undici, {
      lookup: (host, _options, callback) => callback(null, [{ address: addresses[host] ?? '0.0.0.0', family: 4 }]),
      policy: (address) => (address === '127.0.0.1' ? undefined : blockedAddressReason(address)),
    });
    onTestFinished(() => dispatcher.destroy());
    const site = `http://www.example.test:${outside.port}`;

    const byName = await rejectionOf(fetchUrl(`${site}/to-name`, { ...base, downloadDir, dispatcher }), FetchError);
    expect(byName.message).toContain('refused: internal.example.test resolves to 127.0.0.2, a loopback address');
    const byIp = await rejectionOf(fetchUrl(`${site}/to-ip`, { ...base, downloadDir, dispatcher }), FetchError);
    expect(byIp.message).toContain('refused: 127.0.0.2 is a loopback address');

    const source = { type: 'urls', name: 'web', urls: [], listFile: undefined, sitemap: `${site}/sitemap.xml` } as unknown as ResolvedUrlSource;
    const { urls } = await resolveSourceUrls(source, { ...base, dispatcher });
    expect(urls).toEqual([`http://internal.example.test:${inside.port}/secret`]);
    const fromSitemap = await rejectionOf(fetchUrl(urls[0] as string, { ...base, downloadDir, dispatcher }), FetchError);
    expect(fromSitemap.message).toContain('refused: internal.example.test resolves to 127.0.0.2');

    expect(inside.seen).toEqual([]);
    expect(outside.seen).toEqual(['/to-name', '/to-ip', '/sitemap.xml']);
  });
});
