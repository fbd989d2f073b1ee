/** Small statistics helpers. */

const round = (x, digits = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

/** min, median, mean, max and standard deviation of samples (and the samples, rounded). */
export function summarise(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n: 0 };
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const mean = sorted.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(sorted.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  return { n, min: round(sorted[0]), median: round(median), mean: round(mean), max: round(sorted[n - 1]), stdev: round(sd), samples: values.map((v) => round(v)) };
}

/** The p-th percentile (0-100) by the nearest-rank method: a value that was measured, never interpolated. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

export function ratio(a, b, digits = 2) {
  return b > 0 ? round(a / b, digits) : null;
}

export { round };
