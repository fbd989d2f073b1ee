import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attachmentOf, metadataOf, setupSync } from '../helpers/sync.js';

const page = (title: string, text: string, script = 'track()') =>
  `<!doctype html><html><head><title>${title}</title><style>p{color:red}</style></head><body><p>${text}</p><script>${script}</script></body></html>`;

describe('sync engine: URL sources', () => {
  it('sends an HTML page as a URL text message and any other document as a file', async () => {
    const s = await setupSync({
      sources: (_root, sandbox) => [
        { type: 'urls', name: 'site', allowPrivateAddresses: true, urls: [`${sandbox.url}/_sandbox/site/guide.html`, `${sandbox.url}/_sandbox/site/spec.pdf`], metadata: { origin: 'web' } },
      ],
    });
    s.sandbox.setPage('guide.html', { body: page('The guide', 'Step one.') });
    s.sandbox.setPage('spec.pdf', { body: '%PDF-1.4 fake but fine', contentType: 'application/pdf' });
    const report = await s.sync();
    expect(report.counts).toMatchObject({ new: 2, sent: 2, failed: 0 });

    const [text, file] = [s.sends().find((m) => m.content_type === 0), s.sends().find((m) => m.content_type === 4)];
    expect(text?.content).toBe(`${s.sandbox.url}/_sandbox/site/guide.html`);
    expect(metadataOf(text as never)).toMatchObject({ link: text?.content, title: 'The guide', origin: 'web', source: 'site', managed_by: 'lanying-kb' });
    expect(attachmentOf(file as never)).toMatchObject({ dName: 'spec.pdf', fLen: '%PDF-1.4 fake but fine'.length });
    expect(metadataOf(file as never).sha256).toBe(createHash('sha256').update('%PDF-1.4 fake but fine').digest('hex'));
    await s.sandbox.idle();
    const docs = s.sandbox.state().knowledgeBase.documents;
    expect(docs.map((d) => [d.type, d.status]).sort()).toEqual([
      ['file', 'finish'],
      ['url', 'finish'],
    ]);
  });

  it('refuses a URL on an internal address (the sandbox is on 127.0.0.1) unless the source sets allowPrivateAddresses', async () => {
    const s = await setupSync({ sources: (_root, sandbox) => [{ type: 'urls', name: 'site', urls: [`${sandbox.url}/_sandbox/site/guide.html`] }] });
    s.sandbox.setPage('guide.html', { body: page('The guide', 'Step one.') });
    const report = await s.sync();
    expect(report.counts).toMatchObject({ failed: 1, sent: 0 });
    expect(report.entries).toEqual([
      expect.objectContaining({
        action: 'failed',
        key: `${s.sandbox.url}/_sandbox/site/guide.html`,
        reason: 'refused: 127.0.0.1 is a loopback address; set "allowPrivateAddresses": true on the source to fetch from internal addresses',
      }),
    ]);
    expect(s.sandbox.state().requests.filter((r) => r.path === '/_sandbox/site/guide.html')).toEqual([]);
    expect(s.sends()).toEqual([]);
  });

  it('checks again with a conditional GET, ignores script and whitespace churn, and sends a real change once', async () => {
    const s = await setupSync({ sources: (_root, sandbox) => [{ type: 'urls', name: 'site', allowPrivateAddresses: true, urls: [`${sandbox.url}/_sandbox/site/news.html`] }] });
    s.sandbox.setPage('news.html', { body: page('News', 'Version 1 is out.'), etag: '"v1"' });
    await s.sync();
    await s.sandbox.idle(); // the chatbot fetches the page too
    const pageRequests = () => s.sandbox.state().requests.filter((r) => r.path === '/_sandbox/site/news.html');
    const before = pageRequests().length;
    const second = await s.sync();
    expect(second.counts).toMatchObject({ unchanged: 1, sent: 0 });
    expect(pageRequests().slice(before).map((r) => r.status)).toEqual([304]);

    s.sandbox.setPage('news.html', { body: page('News', 'Version   1 is   out.', 'track(42)'), etag: '"v1b"' });
    const churn = await s.sync();
    expect(churn.counts).toMatchObject({ unchanged: 1, sent: 0 });

    s.sandbox.setPage('news.html', { body: page('News', 'Version 2 is out.'), etag: '"v2"' });
    const changed = await s.sync();
    expect(changed.counts).toMatchObject({ changed: 1, sent: 1 });
    expect(s.sends()).toHaveLength(2);
  });

  it('reports 404, 500, a timeout, a redirect loop and a huge body as failures, and keeps going', async () => {
    const s = await setupSync({
      sources: (_root, sandbox) => [
        {
          type: 'urls',
          allowPrivateAddresses: true,
          name: 'site',
          fetchTimeoutMs: 300,
          maxBytes: 10_000,
          urls: ['ok', 'missing', 'broken', 'slow', 'loop-a', 'huge'].map((p) => `${sandbox.url}/_sandbox/site/${p}.html`),
        },
      ],
    });
    s.sandbox.setPage('ok.html', { body: page('OK', 'fine') });
    s.sandbox.setPage('broken.html', { status: 500, body: 'oops' });
    s.sandbox.setPage('slow.html', { delayMs: 2000, body: page('Slow', 'late') });
    s.sandbox.setPage('loop-a.html', { redirectTo: 'loop-b.html' });
    s.sandbox.setPage('loop-b.html', { redirectTo: 'loop-a.html' });
    s.sandbox.setPage('huge.html', { bodyBytes: 5_000_000, chunked: true });
    const report = await s.sync();
    expect(report.outcome).toBe('partial');
    expect(report.counts).toMatchObject({ sent: 1, failed: 5 });
    const reason = (name: string) => report.entries.find((e) => e.key.endsWith(`/${name}.html`))?.reason ?? '';
    expect(reason('missing')).toMatch(/404/);
    expect(reason('broken')).toMatch(/500/);
    expect(reason('slow')).toMatch(/time|timed out|within/i);
    expect(reason('loop-a')).toMatch(/redirect loop/);
    expect(reason('huge')).toMatch(/10000|10 000|larger|limit|cap/i);
    expect(s.sends()).toHaveLength(1);

    // A page that was sent and now fails is kept as sent (one failed fetch is no removal).
    s.sandbox.setPage('ok.html', { status: 503 });
    const later = await s.sync();
    expect(later.counts.removed).toBe(0);
    const store = s.state();
    expect(store.get('site', `${s.sandbox.url}/_sandbox/site/ok.html`)).toMatchObject({ status: 'ingested', lastError: expect.stringMatching(/503/) });
    store.close();
  });

  it('uses a list file: comments and blank lines ignored, bad lines reported with their line number, the rest synced', async () => {
    const s = await setupSync({ sources: (root) => [{ type: 'urls', name: 'list', allowPrivateAddresses: true, listFile: path.join(root, '..', 'urls.txt') }] });
    s.sandbox.setPage('a.html', { body: page('A', 'a') });
    s.sandbox.setPage('b.html', { body: page('B', 'b') });
    writeFileSync(
      path.join(s.dir, 'urls.txt'),
      ['# pages to sync', '', `${s.sandbox.url}/_sandbox/site/a.html`, 'not a url', `${s.sandbox.url}/_sandbox/site/b.html  # trailing comment`, 'ftp://example.test/x'].join('\n'),
    );
    const report = await s.sync();
    expect(report.counts).toMatchObject({ sent: 2, skipped: 2 });
    const skipped = report.entries.filter((e) => e.action === 'skipped').map((e) => e.key);
    expect(skipped).toEqual([`${path.join(s.dir, 'urls.txt')}:4`, `${path.join(s.dir, 'urls.txt')}:6`]);
  });

  it('expands a sitemap; a sitemap that fails is a failure and removes nothing', async () => {
    const s = await setupSync({ sources: (_root, sandbox) => [{ type: 'urls', name: 'web', allowPrivateAddresses: true, sitemap: `${sandbox.url}/_sandbox/site/sitemap.xml` }] });
    const loc = (p: string) => `<url><loc>${s.sandbox.url}/_sandbox/site/${p}</loc></url>`;
    s.sandbox.setPage('sitemap.xml', { contentType: 'application/xml', body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${loc('x.html')}${loc('y.html')}</urlset>` });
    s.sandbox.setPage('x.html', { body: page('X', 'x') });
    s.sandbox.setPage('y.html', { body: page('Y', 'y') });
    expect((await s.sync()).counts).toMatchObject({ sent: 2 });
    s.sandbox.setPage('sitemap.xml', { status: 500 });
    const report = await s.sync();
    expect(report.counts).toMatchObject({ failed: 1, removed: 0 });
    const store = s.state();
    expect(store.list({ source: 'web', status: ['ingested'] })).toHaveLength(2);
    store.close();
  });
});
