/**
 * Small SVG line charts for the report (no dependency): log-log panels of measures against tree size, and a linear
 * chart of RSS over the time of a run.
 */

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];
const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function decades(min, max) {
  const out = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

function fmtTick(v, unit) {
  if (unit === 'ms') return v >= 1000 ? `${v / 1000} s` : `${v} ms`;
  if (unit === 'MiB') return `${v} MiB`;
  return v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v);
}

/**
 * One log-log panel at (x0, y0) of size w x h. `series`: [{ name, points: [[x, y], ...], dashed? }].
 * @returns {string} SVG elements
 */
function logPanel({ x0, y0, w, h, title, unit, series }) {
  const points = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  if (points.length === 0) return '';
  const xs = decades(Math.min(...points.map((p) => p[0])), Math.max(...points.map((p) => p[0])));
  const ys = decades(Math.min(...points.map((p) => p[1])), Math.max(...points.map((p) => p[1])));
  const [xmin, xmax] = [Math.log10(xs[0]), Math.log10(xs.at(-1))];
  const [ymin, ymax] = [Math.log10(ys[0]), Math.log10(ys.at(-1))];
  const px = (x) => x0 + ((Math.log10(x) - xmin) / Math.max(1e-9, xmax - xmin)) * w;
  const py = (y) => y0 + h - ((Math.log10(y) - ymin) / Math.max(1e-9, ymax - ymin)) * h;
  const out = [`<text x="${x0 + w / 2}" y="${y0 - 10}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const x of xs) out.push(`<line x1="${px(x)}" y1="${y0}" x2="${px(x)}" y2="${y0 + h}" stroke="#eee"/><text x="${px(x)}" y="${y0 + h + 16}" text-anchor="middle">${fmtTick(x)}</text>`);
  for (const y of ys) out.push(`<line x1="${x0}" y1="${py(y)}" x2="${x0 + w}" y2="${py(y)}" stroke="#eee"/><text x="${x0 - 6}" y="${py(y) + 4}" text-anchor="end">${fmtTick(y, unit)}</text>`);
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle">files</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => x > 0 && y > 0).sort((a, b) => a[0] - b[0]);
    if (pts.length === 0) return;
    const color = COLORS[i % COLORS.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name}: ${fmtTick(x)} files, ${Math.round(y)} ${unit}`)}</title></circle>`);
  });
  return out.join('\n');
}

function legend(x0, y0, series) {
  return series
    .map((s, i) => {
      const color = COLORS[i % COLORS.length];
      const y = y0 + i * 18;
      const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
      return `<line x1="${x0}" y1="${y}" x2="${x0 + 24}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/><text x="${x0 + 30}" y="${y + 4}">${esc(s.name)}</text>`;
    })
    .join('\n');
}

/**
 * A figure of log-log panels side by side, sharing one legend (the series of every panel, in the same order).
 * @param {{ title: string, panels: { title: string, unit: string, series: { name: string, points: [number, number][], dashed?: boolean }[] }[] }} figure
 */
export function logLogFigure({ title, panels }) {
  const w = 360;
  const h = 260;
  const names = panels[0]?.series ?? [];
  const width = 90 + panels.length * (w + 90) + 220;
  const height = h + 120;
  const body = panels.map((p, i) => logPanel({ x0: 90 + i * (w + 90), y0: 50, w, h, title: p.title, unit: p.unit, series: p.series })).join('\n');
  return svg(width, height, `<text x="10" y="20" font-weight="bold">${esc(title)}</text>\n${body}\n${legend(90 + panels.length * (w + 90) - 50, 60, names)}`);
}

/**
 * RSS over the time of runs (linear axes): `series`: [{ name, points: [[ms, kB], ...] }].
 */
export function rssOverTime({ title, series }) {
  const w = 640;
  const h = 260;
  const x0 = 80;
  const y0 = 40;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return svg(200, 40, '<text x="10" y="20">no samples</text>');
  const xmax = Math.max(...all.map((p) => p[0] / s2ms(1)), 1);
  const ymax = Math.max(...all.map((p) => p[1] / 1024), 1);
  const yTop = niceCeil(ymax);
  const xTop = niceCeil(xmax);
  const px = (ms) => x0 + (ms / 1000 / xTop) * w;
  const py = (kb) => y0 + h - (kb / 1024 / yTop) * h;
  const out = [`<text x="10" y="20" font-weight="bold">${esc(title)}</text>`, `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`];
  for (let i = 0; i <= 4; i++) {
    const v = (yTop * i) / 4;
    out.push(`<line x1="${x0}" y1="${py(v * 1024)}" x2="${x0 + w}" y2="${py(v * 1024)}" stroke="#eee"/><text x="${x0 - 6}" y="${py(v * 1024) + 4}" text-anchor="end">${Math.round(v)} MiB</text>`);
    const t = (xTop * i) / 4;
    out.push(`<text x="${px(t * 1000)}" y="${y0 + h + 16}" text-anchor="middle">${Math.round(t * 10) / 10} s</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${s.points.map(([ms, kb]) => `${px(ms).toFixed(1)},${py(kb).toFixed(1)}`).join(' ')}"/>`);
  });
  out.push(legend(x0 + w + 20, y0 + 10, series));
  return svg(x0 + w + 260, h + 90, out.join('\n'));
}

const s2ms = (s) => s * 1000;

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function svg(width, height, body) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}
