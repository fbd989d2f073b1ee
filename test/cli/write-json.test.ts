import { describe, expect, it } from 'vitest';
import { writeJson } from '../../src/cli/context.js';
import { textSink } from '../helpers/text-sink.js';

function written(value: unknown): { text: string; writes: number } {
  const out = textSink();
  writeJson(out.stream, value);
  return { text: out.text(), writes: out.writes() };
}

describe('writeJson', () => {
  it.each([
    ['a report with a long entry list', { runId: 1, counts: { sent: 2 }, entries: Array.from({ length: 600 }, (_, i) => ({ key: `a/${i}.md`, reason: 'q"\nx', error: undefined, nested: [i, [i]] })), when: new Date(0) }],
    ['a long top-level array with values JSON writes as null', Array.from({ length: 300 }, (_, i) => (i % 3 ? i : [undefined, () => 1]))],
    ['long arrays inside arrays', { nested: { big: Array.from({ length: 400 }, (_, i) => [i, { x: i, y: undefined }]) } }],
    ['scalars and empty containers', { s: 'text', n: 5, z: null, a: [], o: {}, f: () => 1 }],
  ])('writes the same text as JSON.stringify(value, null, 2): %s', (_name, value) => {
    expect(written(value).text).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('writes a large report in pieces, not as one string', () => {
    const report = { entries: Array.from({ length: 5000 }, (_, i) => ({ key: `docs/${i}.md`, reason: 'first seen', bytes: i })) };
    const { text, writes } = written(report);
    expect(JSON.parse(text)).toEqual(report);
    expect(writes).toBeGreaterThan(3);
  });
});
