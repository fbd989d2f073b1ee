import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/util/units.js';

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [999.4, '999 ms'],
    [999.6, '1.0 s'],
    [12_345, '12.3 s'],
    [59_949, '59.9 s'],
    // Rounded once, before the split: never "60.0 s" or "1m 60s".
    [59_950, '1m 00s'],
    [59_999, '1m 00s'],
    [60_000, '1m 00s'],
    [119_499, '1m 59s'],
    [119_500, '2m 00s'],
    [119_999, '2m 00s'],
    [245_000, '4m 05s'],
    [3_599_499, '59m 59s'],
    [3_599_500, '1h 00m'],
    [7_380_000, '2h 03m'],
    [7_199_999, '2h 00m'],
    [86_369_999, '23h 59m'],
    [86_370_000, '1d 00h'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d 04h'],
    [-1, '-'],
    [Number.NaN, '-'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('never shows a unit at or above its limit', () => {
    for (let ms = 0; ms < 3 * 3_600_000; ms += 137) {
      const text = formatDuration(ms);
      const m = /^(\d+)m (\d+)s$/.exec(text) ?? /^(\d+)h (\d+)m$/.exec(text);
      if (m) expect(Number(m[2])).toBeLessThan(60);
      const s = /^([\d.]+) s$/.exec(text);
      if (s) expect(Number(s[1])).toBeLessThan(60);
    }
  });
});
