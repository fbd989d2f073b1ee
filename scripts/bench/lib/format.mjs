/** Number formatting for the report. */

export function fmtMs(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

export function fmtRatio(r) {
  return r === null || r === undefined ? '—' : `${r.toFixed(2)}x`;
}

export function kb2mib(kb) {
  return Math.round(kb / 1024);
}

export function metCell(met) {
  return met ? '**yes**' : '**no**';
}
