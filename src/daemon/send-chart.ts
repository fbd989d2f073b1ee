import type { SendHour } from '../state/send-history.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 720;
const HEIGHT = 200;
const LEFT = 40;
const RIGHT = 8;
const TOP = 12;
const BOTTOM = 28;

/**
 * The status page's chart: documents sent (green) and failed (red, stacked on top) per hour, as inline SVG drawn on
 * the server (no script, no external asset). Every bar carries a `<title>` (a tooltip) and its numbers as `data-`
 * attributes; the axis is labelled every three hours, in UTC.
 */
export function sendChart(hours: readonly SendHour[]): SafeHtml {
  const max = niceMax(Math.max(1, ...hours.map((h) => h.sent + h.failed)));
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = plotW / Math.max(1, hours.length);
  const barW = Math.max(2, slot * 0.7);
  const y = (n: number) => TOP + plotH - (n / max) * plotH;
  const totalSent = hours.reduce((sum, h) => sum + h.sent, 0);
  const totalFailed = hours.reduce((sum, h) => sum + h.failed, 0);
  const label = `Documents sent and failed per hour over the last ${hours.length} hours: ${totalSent} sent, ${totalFailed} failed`;

  const grid = [0, 0.5, 1].map((f) => {
    const value = Math.round(max * f);
    return html`<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${fmt(y(value))}" y2="${fmt(y(value))}"/><text class="axis" x="${LEFT - 6}" y="${fmt(y(value) + 4)}" text-anchor="end">${value}</text>`;
  });
  const bars = hours.map((h, i) => {
    const x = LEFT + i * slot + (slot - barW) / 2;
    const sentTop = y(h.sent);
    const failedTop = y(h.sent + h.failed);
    const hourLabel = `${h.hour.slice(0, 13)}:00Z`;
    const tick = i % 3 === 0 ? html`<text class="axis" x="${fmt(x + barW / 2)}" y="${HEIGHT - 10}" text-anchor="middle">${h.hour.slice(11, 13)}h</text>` : null;
    return html`<g class="hour" data-hour="${h.hour}" data-sent="${h.sent}" data-failed="${h.failed}"><title>${hourLabel}: ${h.sent} sent, ${h.failed} failed</title><rect class="slot" x="${fmt(LEFT + i * slot)}" y="${TOP}" width="${fmt(slot)}" height="${plotH}"/>${
      h.sent > 0 ? html`<rect class="sent" x="${fmt(x)}" y="${fmt(sentTop)}" width="${fmt(barW)}" height="${fmt(TOP + plotH - sentTop)}"/>` : null
    }${h.failed > 0 ? html`<rect class="failed" x="${fmt(x)}" y="${fmt(failedTop)}" width="${fmt(barW)}" height="${fmt(sentTop - failedTop)}"/>` : null}${tick}</g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${label}" xmlns="http://www.w3.org/2000/svg">${grid}${bars}<text class="axis" x="${WIDTH - RIGHT}" y="${HEIGHT - 10}" text-anchor="end">UTC</text></svg>`;
}

/** A round upper bound for the axis: 1, 2, 5, 10, 20, 50, ... */
function niceMax(n: number): number {
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (n <= step * power) return step * power;
  return 10 * power;
}

function fmt(n: number): string {
  return n.toFixed(1).replace(/\.0$/, '');
}
