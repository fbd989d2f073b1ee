import { orderStates } from '../state/status-summary.js';
import { formatBytes, formatDuration } from '../util/units.js';
import { html, rawHtml, type SafeHtml } from './html.js';
import type { LiveSourceStatus, LiveStatus } from './live-status.js';
import { sendChart } from './send-chart.js';

/** How often the page reloads itself, in seconds. */
export const STATUS_PAGE_REFRESH_SECONDS = 10;

/**
 * The daemon's status page (`GET /` of the ops server): one self-contained HTML document, rendered on the server from
 * the same data as `/status`. No script and no external asset (it works offline and under a CSP of
 * `default-src 'none'`); it reloads itself every `STATUS_PAGE_REFRESH_SECONDS`. Every name and message is escaped
 * (`html`).
 */
export function renderStatusPage(status: LiveStatus, now: number = Date.now()): string {
  const d = status.daemon;
  const state = d.stopping ? 'stopping' : d.ready ? 'running' : 'starting';
  const totalSent = status.sendHistory.reduce((n, h) => n + h.sent, 0);
  const totalFailed = status.sendHistory.reduce((n, h) => n + h.failed, 0);
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${STATUS_PAGE_REFRESH_SECONDS}">
<title>lanying-kb: ${state}</title>
<style>${rawHtml(STYLE)}</style>
</head>
<body>
<header>
<h1>lanying-kb <span class="pill ${state}" id="daemon-state">${state}</span></h1>
<p class="meta">pid ${d.pid} · version ${d.version} · up ${formatDuration(d.uptimeSeconds * 1000)} · started ${when(d.startedAt, now)}</p>
<p class="meta">state <code>${status.stateFile ?? d.stateDir}</code>${d.configFile ? html` · config <code>${d.configFile}</code>` : null}</p>
<p class="meta">rendered ${when(new Date(now).toISOString(), now)} · refreshes every ${STATUS_PAGE_REFRESH_SECONDS} s</p>
</header>
<main>
<section id="activity" class="card wide">
<h2>Last 24 hours</h2>
<p class="summary"><span class="n sent">${totalSent}</span> sent · <span class="n failed">${totalFailed}</span> failed</p>
${sendChart(status.sendHistory)}
</section>
<section id="queue" class="card">
<h2>Queue and rate</h2>
<dl>
<dt>now</dt><dd id="current">${d.current ? html`${d.current.kind} of ${d.current.sources.join(', ') || 'every source'}${d.current.paths !== undefined ? ` (${d.current.paths} paths)` : ''} since ${when(d.current.since, now)}` : 'idle'}</dd>
<dt>waiting</dt><dd id="queue-waiting">${d.queue.waiting}</dd>
<dt>uploading</dt><dd id="queue-in-flight">${d.queue.inFlight}</dd>
<dt>changed paths</dt><dd id="queue-pending">${d.queue.pendingPaths}</dd>
<dt>rate</dt><dd id="rate">${d.rate.sentPerMinute} sent/min · ${d.rate.failedPerMinute} failed/min · ${formatBytes(d.rate.bytesPerSecond)}/s <small>(last ${formatDuration(d.rate.windowSeconds * 1000)})</small></dd>
<dt>last success</dt><dd>${d.lastSuccessAt ? when(d.lastSuccessAt, now) : 'none yet'}</dd>
<dt>next full reconcile</dt><dd>${d.nextReconcileAt ? when(d.nextReconcileAt, now) : '-'}</dd>
</dl>
</section>
<section id="sources" class="card span2">
<h2>Sources</h2>
${d.sources.length === 0 ? html`<p class="empty">No enabled source.</p>` : html`<table>
<thead><tr><th>source</th><th>watch</th><th>last observation</th><th>next check</th><th>pending</th></tr></thead>
<tbody>${d.sources.map((s) => sourceRow(s, d.nextReconcileAt, now))}</tbody>
</table>`}
</section>
<section id="documents" class="card wide">
<h2>Documents by state</h2>
${documentsTable(status.sources)}
</section>
<section id="runs" class="card wide">
<h2>Last runs</h2>
${status.runs.length === 0 ? html`<p class="empty">No run recorded yet.</p>` : html`<table>
<thead><tr><th>#</th><th>mode</th><th>started</th><th>took</th><th>outcome</th><th class="num">sent</th><th class="num">ingested</th><th class="num">failed</th><th class="num">new</th><th class="num">changed</th><th class="num">removed</th><th class="num">unchanged</th></tr></thead>
<tbody>${status.runs.map(
    (r) => html`<tr><td>${r.id}</td><td>${r.mode}</td><td>${when(r.startedAt, now)}</td><td>${r.durationMs === null ? 'running' : formatDuration(r.durationMs)}</td><td><span class="pill ${outcomeClass(r.outcome)}">${r.outcome}</span>${r.error ? html`<div class="error">${r.error}</div>` : null}</td>${(['sent', 'ingested', 'failed', 'new', 'changed', 'removed', 'unchanged'] as const).map((k) => html`<td class="num">${r.counts?.[k] ?? 0}</td>`)}</tr>`,
  )}</tbody>
</table>`}
</section>
<section id="failures" class="card wide">
<h2>Failures</h2>
${status.failed.length === 0 ? html`<p class="empty">No failed document.</p>` : html`<table>
<thead><tr><th>document</th><th>state</th><th class="num">attempts</th><th class="num">size</th><th>last attempt</th><th>reason</th></tr></thead>
<tbody>${status.failed.map(
    (f) => html`<tr class="failure"><td><span class="source">${f.source}</span>:<span class="key">${f.key}</span></td><td><span class="pill bad">${f.status}</span></td><td class="num">${f.attempts}</td><td class="num">${f.size === null ? '-' : formatBytes(f.size)}</td><td>${when(f.updatedAt, now)}</td><td class="error">${f.lastError ?? 'unknown error'}</td></tr>`,
  )}</tbody>
</table>`}
</section>
</main>
<footer>JSON: <a href="status">/status</a> · Prometheus: <a href="metrics">/metrics</a></footer>
</body>
</html>
`;
  return page.text;
}

function sourceRow(s: LiveSourceStatus, nextReconcileAt: string | null, now: number): SafeHtml {
  const next = s.nextRefreshAt
    ? when(s.nextRefreshAt, now)
    : s.state === 'scheduled'
      ? html`at the next full reconcile${nextReconcileAt ? html` (${when(nextReconcileAt, now)})` : null}`
      : html`on change${nextReconcileAt ? html`; full reconcile ${when(nextReconcileAt, now)}` : null}`;
  return html`<tr class="source-row" data-source="${s.name}"><td><strong>${s.name}</strong> <small>${s.type}</small></td><td><span class="pill ${watchClass(s.state)}">${s.state}</span></td><td>${
    s.lastReconcileAt ? html`${when(s.lastReconcileAt, now)} <span class="pill ${outcomeClass(s.lastOutcome ?? '')}">${s.lastOutcome ?? '?'}</span>` : 'not yet'
  }${s.lastError ? html`<div class="error">${s.lastError}</div>` : null}</td><td>${next}</td><td class="num">${s.pendingPaths}</td></tr>`;
}

function documentsTable(sources: Record<string, Record<string, number>>): SafeHtml {
  const names = Object.keys(sources);
  if (names.length === 0) return html`<p class="empty">No document recorded yet.</p>`;
  const states = orderStates(names.flatMap((n) => Object.keys(sources[n] ?? {})));
  const total = (state: string) => names.reduce((sum, n) => sum + (sources[n]?.[state] ?? 0), 0);
  return html`<table>
<thead><tr><th>source</th>${states.map((s) => html`<th class="num"><span class="dot ${stateClass(s)}"></span>${s}</th>`)}</tr></thead>
<tbody>${names.map((n) => html`<tr data-source="${n}"><td>${n}</td>${states.map((s) => html`<td class="num" data-state="${s}">${sources[n]?.[s] ?? 0}</td>`)}</tr>`)}</tbody>
${names.length > 1 ? html`<tfoot><tr><td>all</td>${states.map((s) => html`<td class="num">${total(s)}</td>`)}</tr></tfoot>` : null}
</table>`;
}

/** An ISO time as `<time>`: the time itself, and how long ago (or in how long) it is. */
function when(iso: string, now: number): SafeHtml {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return html`${iso}`;
  const delta = ms - now;
  const relative = Math.abs(delta) < 1000 ? 'now' : delta < 0 ? `${formatDuration(-delta)} ago` : `in ${formatDuration(delta)}`;
  return html`<time datetime="${iso}" title="${iso}">${iso.slice(0, 19).replace('T', ' ')}Z <small>(${relative})</small></time>`;
}

function stateClass(state: string): string {
  if (['sent', 'uploaded', 'ingested'].includes(state)) return 'good';
  if (['pending', 'unconfirmed'].includes(state)) return 'wait';
  if (['failed', 'ingest-failed', 'refused'].includes(state)) return 'bad';
  return 'quiet';
}

function outcomeClass(outcome: string): string {
  if (outcome === 'ok') return 'good';
  if (outcome === 'running' || outcome === 'partial') return 'wait';
  if (outcome === 'failed' || outcome === 'aborted') return 'bad';
  return 'quiet';
}

function watchClass(state: string): string {
  if (state === 'watching' || state === 'scheduled') return 'good';
  if (state === 'polling' || state === 'starting') return 'wait';
  if (state === 'error') return 'bad';
  return 'quiet';
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1d2329;--muted:#5f6b76;--line:#e3e6ea;--good:#1a7f37;--wait:#9a6700;--bad:#c62828;--quiet:#6e7781;--sent:#2da44e;--failed:#d1242f}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#8b949e;--line:#30363d;--good:#3fb950;--wait:#d29922;--bad:#f85149;--quiet:#8b949e;--sent:#3fb950;--failed:#f85149}}
*{box-sizing:border-box}
body{margin:0;padding:24px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
header,main,footer{max-width:1100px;margin:0 auto}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:15px;margin:0 0 10px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.meta{margin:2px 0;color:var(--muted)}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
main{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:16px;margin-top:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0;overflow-x:auto}
.wide{grid-column:1/-1}.span2{grid-column:span 2}
@media (max-width:900px){main{grid-template-columns:minmax(0,1fr)}.span2{grid-column:auto}}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
time small{white-space:nowrap}
tfoot td{font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
dt{color:var(--muted)}dd{margin:0}
small{color:var(--muted)}
.pill{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;border:1px solid currentColor}
.running,.good{color:var(--good)}.starting,.wait{color:var(--wait)}.stopping,.bad{color:var(--bad)}.quiet{color:var(--quiet)}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:currentColor;margin-right:5px}
.error{color:var(--bad);overflow-wrap:anywhere;white-space:pre-wrap}
.key{overflow-wrap:anywhere}
.empty{color:var(--muted);margin:0}
.summary{margin:0 0 8px}.n{font-size:18px;font-weight:700}.n.sent{color:var(--sent)}.n.failed{color:var(--failed)}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:var(--line)}.chart .axis{fill:var(--muted);font-size:10px}
.chart .slot{fill:transparent}.chart .hour:hover .slot{fill:var(--line)}
.chart .sent{fill:var(--sent)}.chart .failed{fill:var(--failed)}
footer{margin-top:16px;color:var(--muted);font-size:12px}
a{color:inherit}
`;
