import { describe, expect, it } from 'vitest';
import { heapGrowthFlag } from '../../src/cli/heap-growth.js';

describe('heapGrowthFlag', () => {
  it.each([
    [[], undefined, '--heap-growing-percent=20'],
    [['--enable-source-maps'], '--max-old-space-size=512', '--heap-growing-percent=20'],
    [['--heap-growing-percent=50'], undefined, undefined],
    [['--heap_growing_percent=50'], undefined, undefined],
    [[], '--trace-warnings --heap-growing-percent=5', undefined],
    [['--optimize-for-size'], undefined, undefined],
    [[], '  --optimize_for_size ', undefined],
    [['--heap-growing-percentage=5'], undefined, '--heap-growing-percent=20'],
  ])('node flags %j, NODE_OPTIONS %j: %s', (flags, nodeOptions, expected) => {
    expect(heapGrowthFlag(flags, nodeOptions)).toBe(expected);
  });
});
