import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StateStore } from '../../src/state/store.js';
import { daemonEnv, useDaemon } from './helpers.js';

/** Debian's Chromium (`apt-get install chromium`); CI installs it where it can. */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`status page browser test skipped: no Chromium at ${CHROMIUM} (install it with "apt-get install -y chromium")`);

const root = fileURLToPath(new URL('../../', import.meta.url));
/** `UPDATE_SCREENSHOTS=1 npx vitest run test/daemon/status-page-browser.test.ts` writes the README's screenshot. */
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(root, 'docs/status-page.png') : path.join(tmpdir(), 'lanying-kb-status-page.png');
const TOKEN = 'ops-token-for-the-status-page-test';
const HOSTILE = `<img src=x onerror="document.title='pwned'">.md`;
const HOUR = 3_600_000;

async function launch() {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(tmpdir(), 'lkb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    httpCredentials: { username: 'ops', password: TOKEN },
    viewport: { width: 1180, height: 900 },
    colorScheme: 'light',
    offline: false,
  });
  onTestFinished(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

describe.skipIf(!hasChromium)('the status page in a real browser (Chromium, playwright-core)', () => {
  it('shows the sources, documents by state, runs, failures with escaped names, the queue and a 24-hour chart; needs the token', async () => {
    const env = await daemonEnv({ daemon: { http: { port: 0, token: TOKEN } }, sync: { concurrency: 1 } });
    env.write('a.md', '# A\n');
    env.write('b.md', '# B\n');
    env.write(HOSTILE, '# hostile\n');
    // The first document sent (names in byte order: "<" before "a") fails for good: no retry within the test.
    env.sandbox.setFaults([{ route: 'GET /file/upload/chat', code: 10002, times: 1 }]);
    // Earlier activity: a chart with some history, and a run before this daemon.
    const now = Date.now();
    const seeded = StateStore.open(path.join(env.dir, '.lanying-kb'));
    for (let h = 20; h >= 1; h--) {
      for (let n = 0; n < (h * 7) % 11; n++) seeded.sendHistory.record('sent', now - h * HOUR);
      if (h % 6 === 0) seeded.sendHistory.record('failed', now - h * HOUR);
    }
    const earlier = seeded.startRun('sync', now - 5 * HOUR);
    seeded.finishRun(earlier, 'ok', { sent: 12, failed: 0, new: 12, changed: 0, removed: 0, unchanged: 0 }, undefined, now - 5 * HOUR + 4200);
    seeded.close();

    const daemon = await useDaemon(env.config(), { retryDelayMs: 600_000 });
    await daemon.ready;
    await daemon.whenIdle();
    const url = `${daemon.opsUrl as string}/`;

    // The page shows what /status shows: the same token guards it (Basic, which a browser asks for, or Bearer).
    const anonymous = await request(url);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm="lanying-kb"/);
    await anonymous.body.dump();
    const bearer = await request(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.headers['content-security-policy']).toContain("default-src 'none'");
    await bearer.body.dump();
    const rebound = await request(url, { headers: { authorization: `Bearer ${TOKEN}`, host: 'attacker.example' } });
    expect(rebound.statusCode).toBe(403);
    await rebound.body.dump();

    const context = await launch();
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);

    expect(await page.title()).toBe('lanying-kb: running');
    expect(await page.locator('#daemon-state').textContent()).toBe('running');
    // The hostile name is shown as text: no image, no script ran, nothing else was requested.
    const failure = page.locator('#failures tr.failure');
    expect(await failure.count()).toBe(1);
    expect(await failure.locator('.key').textContent()).toBe(HOSTILE);
    expect(await failure.locator('.source').textContent()).toBe('docs');
    expect(await failure.locator('td.error').textContent()).toMatch(/10002/);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([url]);

    // Documents by state: two sent (today's "uploaded"; "sent"/"ingested" after the lifecycle change), one failed.
    const states = await page.locator('#documents thead th').allTextContents();
    expect(states[0]).toBe('source');
    const docsRow = page.locator('#documents tbody tr[data-source="docs"]');
    const counts = Object.fromEntries(
      await docsRow.locator('td[data-state]').evaluateAll((cells) => cells.map((c) => [c.getAttribute('data-state'), Number(c.textContent)])),
    ) as Record<string, number>;
    expect(counts.failed).toBe(1);
    expect((counts.uploaded ?? 0) + (counts.sent ?? 0) + (counts.ingested ?? 0) + (counts.unconfirmed ?? 0)).toBe(2);

    // The sources, the runs (the daemon's reconcile and the seeded sync), the queue.
    const source = page.locator('#sources tr.source-row[data-source="docs"]');
    expect(await source.locator('td').nth(1).textContent()).toBe('watching');
    expect(await source.locator('td').nth(2).textContent()).toMatch(/\((?:.* ago|now)\) partial/); // "now" when the page was rendered within a second of it
    expect(await source.locator('td').nth(3).textContent()).toMatch(/^on change; full reconcile /);
    const runs = page.locator('#runs tbody tr');
    expect(await runs.count()).toBe(2);
    expect(await runs.nth(0).locator('td').nth(1).textContent()).toBe('reconcile');
    expect(await runs.nth(0).locator('td').nth(4).textContent()).toBe('partial');
    expect(await runs.nth(0).locator('td').nth(5).textContent()).toBe('2');
    expect(await runs.nth(1).locator('td').nth(3).textContent()).toBe('4.2 s');
    expect(await page.locator('#queue-waiting').textContent()).toBe('0');
    expect(await page.locator('#rate').textContent()).toMatch(/^0\.4 sent\/min · 0\.2 failed\/min/);

    // The chart: 24 hours, this hour's 2 sent and 1 failed, the seeded hours before it.
    const bars = page.locator('svg.chart g.hour');
    expect(await bars.count()).toBe(24);
    expect(await bars.nth(23).getAttribute('data-sent')).toBe('2');
    expect(await bars.nth(23).getAttribute('data-failed')).toBe('1');
    expect(await bars.nth(22).getAttribute('data-sent')).toBe(String(7 % 11));
    expect(await bars.nth(17).getAttribute('data-failed')).toBe('1');
    const box = await page.locator('svg.chart').boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    expect(await page.locator('#activity .summary').textContent()).toBe(`${2 + sumSeeded()} sent · ${1 + 3} failed`);

    // It reloads itself.
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('10');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`status page screenshot: ${SCREENSHOT}`);
  });
});

function sumSeeded(): number {
  let sum = 0;
  for (let h = 20; h >= 1; h--) sum += (h * 7) % 11;
  return sum;
}
