import { DomUtils, parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import type { LiveStatus } from '../../src/daemon/live-status.js';
import { html } from '../../src/daemon/html.js';
import { renderStatusPage } from '../../src/daemon/status-page.js';
import { orderStates } from '../../src/state/status-summary.js';

const NOW = Date.parse('2026-05-01T12:30:00.000Z');
/** An element of the parsed page. */
type Element = Parameters<typeof DomUtils.getAttributeValue>[0];

const HOSTILE = `<img src=x onerror="document.title='pwned'">&amp;\u202e.md`;

/** A `/status` answer with a hostile file name, server text and source states of today and of issue 11. */
export function statusFixture(overrides: Partial<LiveStatus> = {}): LiveStatus {
  const hour = (i: number) => new Date((Math.floor(NOW / 3_600_000) - 23 + i) * 3_600_000).toISOString();
  return {
    stateFile: '/srv/kb/.lanying-kb/state.db',
    sources: { docs: { zeta: 1, removed: 3, failed: 1, ingested: 7, sent: 2, pending: 4 }, web: { uploaded: 5 } },
    runs: [
      { id: 2, mode: 'reconcile', startedAt: '2026-05-01T12:29:00.000Z', endedAt: '2026-05-01T12:29:05.000Z', durationMs: 5000, outcome: 'partial', counts: { sent: 3, failed: 1, new: 2, changed: 1, removed: 0, unchanged: 9 }, error: '<script>alert(1)</script>' },
      { id: 1, mode: 'sync', startedAt: '2026-05-01T11:00:00.000Z', endedAt: null, durationMs: null, outcome: 'running', counts: null, error: null },
    ],
    failed: [{ status: 'refused', source: 'docs', key: HOSTILE, attempts: 2, size: 1234, lastError: 'refused: <b>quota</b>\x1b[2J', updatedAt: '2026-05-01T12:29:30.000Z' }],
    sendHistory: Array.from({ length: 24 }, (_, i) => ({ hour: hour(i), sent: i === 23 ? 5 : i % 4, failed: i === 22 ? 2 : 0 })),
    daemon: {
      pid: 42,
      version: '9.9.9',
      startedAt: '2026-05-01T10:30:00.000Z',
      uptimeSeconds: 7200,
      stateDir: '/srv/kb/.lanying-kb',
      configFile: '/etc/lanying-kb/<kb>.json',
      ready: true,
      stopping: false,
      current: null,
      queue: { waiting: 3, inFlight: 2, pendingPaths: 1 },
      rate: { windowSeconds: 300, sentPerMinute: 1.5, failedPerMinute: 0.2, bytesPerSecond: 2048 },
      lastSuccessAt: '2026-05-01T12:29:05.000Z',
      nextReconcileAt: '2026-05-01T13:29:05.000Z',
      sources: [
        { name: 'docs', type: 'folder', state: 'watching', lastReconcileAt: '2026-05-01T12:29:05.000Z', lastOutcome: 'partial', lastError: null, pendingPaths: 1, nextRefreshAt: null },
        { name: 'web', type: 'urls', state: 'scheduled', lastReconcileAt: '2026-05-01T12:20:00.000Z', lastOutcome: 'ok', lastError: 'fetch <failed>', pendingPaths: 0, nextRefreshAt: '2026-05-01T12:35:00.000Z' },
      ],
    },
    ...overrides,
  };
}

function parse(text: string) {
  const doc = parseDocument(text);
  const all = (test: (e: Element) => boolean) => DomUtils.findAll(test, doc.children);
  const byId = (id: string) => DomUtils.findOne((e) => e.attribs.id === id, doc.children);
  const text_ = (e: Element | null | undefined) => (e ? DomUtils.textContent(e).replace(/\s+/g, ' ').trim() : '');
  /** The texts of a row's (or a section's) cells. */
  const cells = (e: Element | null | undefined, name = 'td') => (e ? DomUtils.findAll((x) => x.name === name, e.children).map((x) => text_(x)) : []);
  return { doc, all, byId, text: text_, cells };
}

describe('the status page (rendered on the server)', () => {
  it('escapes every file name and server text: they show as text and add no element', () => {
    const page = renderStatusPage(statusFixture(), NOW);
    const { all, text, byId } = parse(page);
    // The only elements are the page's own: no img, no script, no b from the data.
    expect(all((e) => ['img', 'script', 'b'].includes(e.name))).toHaveLength(0);
    const key = all((e) => e.attribs.class === 'key')[0];
    // The bidi override is shown as an escape, not applied; "&amp;" stays the five characters it is.
    expect(text(key)).toBe(`<img src=x onerror="document.title='pwned'">&amp;\\u202e.md`);
    const failure = text(byId('failures'));
    expect(failure).toContain('refused: <b>quota</b>\\x1b[2J');
    expect(text(byId('runs'))).toContain('<script>alert(1)</script>');
    expect(text(byId('sources'))).toContain('fetch <failed>');
    expect(page).toContain('/etc/lanying-kb/&lt;kb&gt;.json');
    expect(page).not.toContain('<img');
    expect(page).not.toMatch(/<script/i);
  });

  it('shows documents by state in the lifecycle order, unknown states last, with a total row', () => {
    const { all, byId, cells } = parse(renderStatusPage(statusFixture(), NOW));
    expect(cells(byId('documents'), 'th')).toEqual(['source', 'pending', 'sent', 'uploaded', 'ingested', 'failed', 'removed', 'zeta']);
    const docsRow = all((e) => e.name === 'tr' && e.attribs['data-source'] === 'docs' && e.attribs.class !== 'source-row')[0];
    expect(cells(docsRow)).toEqual(['docs', '4', '2', '0', '7', '1', '3', '1']);
    expect(cells(all((e) => e.name === 'tfoot')[0])).toEqual(['all', '4', '2', '5', '7', '1', '3', '1']);
  });

  it('orders states of today and of the lifecycle, unknown ones last by name', () => {
    expect(orderStates(['zz', 'removed', 'uploaded', 'deleted', 'pending', 'aa', 'refused', 'ingest-failed', 'unconfirmed', 'ingested', 'sent', 'skipped', 'failed'])).toEqual([
      'pending', 'sent', 'uploaded', 'ingested', 'unconfirmed', 'ingest-failed', 'refused', 'failed', 'skipped', 'removed', 'deleted', 'aa', 'zz',
    ]);
  });

  it('draws the last 24 hours as inline SVG bars, with the numbers on every bar', () => {
    const { all, text } = parse(renderStatusPage(statusFixture(), NOW));
    const hours = all((e) => e.attribs.class === 'hour');
    expect(hours).toHaveLength(24);
    expect(hours.at(-1)?.attribs).toMatchObject({ 'data-hour': '2026-05-01T12:00:00.000Z', 'data-sent': '5', 'data-failed': '0' });
    expect(hours.at(-2)?.attribs).toMatchObject({ 'data-failed': '2' });
    expect(text(DomUtils.findOne((e) => e.name === 'title', hours.at(-2)?.children ?? []))).toBe('2026-05-01T11:00Z: 2 sent, 2 failed');
    // Stacked: the failed bar sits on the sent one, and a taller total is a taller bar.
    const rect = (e: Element | undefined, cls: string) => DomUtils.findOne((x) => x.name === 'rect' && x.attribs.class === cls, e?.children ?? []);
    const sent = rect(hours.at(-2), 'sent');
    const failed = rect(hours.at(-2), 'failed');
    expect(Number(failed?.attribs.y) + Number(failed?.attribs.height)).toBeCloseTo(Number(sent?.attribs.y), 1);
    expect(Number(rect(hours.at(-1), 'sent')?.attribs.height)).toBeGreaterThan(Number(sent?.attribs.height));
    expect(rect(hours[0], 'sent')).toBeNull(); // 0 sent: no bar
    expect(text(all((e) => e.attribs.class === 'summary')[0])).toBe('38 sent · 2 failed');
  });

  it('shows the queue, the rate, each source\'s last observation and next check, and reloads itself', () => {
    const page = renderStatusPage(statusFixture(), NOW);
    const { all, byId, text, cells } = parse(page);
    expect(text(byId('queue-waiting'))).toBe('3');
    expect(text(byId('queue-in-flight'))).toBe('2');
    expect(text(byId('rate'))).toBe('1.5 sent/min · 0.2 failed/min · 2.0 KiB/s (last 5m 00s)');
    const rows = all((e) => e.attribs.class === 'source-row').map((e) => cells(e));
    expect(rows[0]).toEqual(['docs folder', 'watching', '2026-05-01 12:29:05Z (55.0 s ago) partial', 'on change; full reconcile 2026-05-01 13:29:05Z (in 59m 05s)', '1']);
    expect(rows[1]).toEqual(['web urls', 'scheduled', '2026-05-01 12:20:00Z (10m 00s ago) okfetch <failed>', '2026-05-01 12:35:00Z (in 5m 00s)', '0']);
    expect(page).toMatch(/<meta http-equiv="refresh" content="10">/);
    // Nothing is loaded from elsewhere.
    expect(page).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(text(byId('daemon-state'))).toBe('running');
  });

  it('says when there is nothing yet', () => {
    const empty = statusFixture({ sources: {}, runs: [], failed: [] });
    const { text, byId } = parse(renderStatusPage({ ...empty, daemon: { ...empty.daemon, ready: false, sources: [] } }, NOW));
    expect(text(byId('documents'))).toContain('No document recorded yet.');
    expect(text(byId('runs'))).toContain('No run recorded yet.');
    expect(text(byId('failures'))).toContain('No failed document.');
    expect(text(byId('daemon-state'))).toBe('starting');
  });

  it('html`` escapes what it interpolates, nests what it made, and drops null, undefined and false', () => {
    expect(html`<p title="${'"x" & \'y\''}">${'<i>'}${html`<b>${'&'}</b>`}${[1, '<', null]}${undefined}${false}</p>`.text).toBe(
      '<p title="&quot;x&quot; &amp; &#39;y&#39;">&lt;i&gt;<b>&amp;</b>1&lt;</p>',
    );
  });
});
