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

/**
 * Table rows of every measured command at every tree size: files, (MB,) command, median, min, max, peak RSS, CPU.
 * @param {Record<string, { files: number, bytes: number, commands: Record<string, { wallMs: object, maxRssKb: number, cpuMs: object }> }>} sizes
 */
export function commandRows(sizes, { megabytes = false } = {}) {
  return Object.values(sizes).flatMap((s) =>
    Object.entries(s.commands).map(([name, c]) => [
      s.files.toLocaleString('en'),
      ...(megabytes ? [(s.bytes / 1e6).toFixed(1)] : []),
      `\`${name}\``,
      fmtMs(c.wallMs.median),
      fmtMs(c.wallMs.min),
      fmtMs(c.wallMs.max),
      `${kb2mib(c.maxRssKb)} MiB`,
      fmtMs(c.cpuMs.median),
    ]),
  );
}

/** The median and the minimum of a list of engine times (the middle sample of an odd count, the upper of an even one). */
export function medianAndMin(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0] };
}
