import { describe, expect, it } from 'vitest';
import { StreamedJsonObject } from '../../src/cli/json-stream.js';
import { textSink as sink } from '../helpers/text-sink.js';

const entry = (i: number) => ({ key: `docs/${i}.md`, reason: 'q"\nx', outcome: i % 2 ? 'ingested' : undefined, nested: [i, [i]] });

describe('StreamedJsonObject', () => {
  it.each([
    ['no element', 0, { counts: { sent: 0 }, exitCode: 0 }],
    ['one element', 1, { counts: { sent: 1 }, warnings: ['a\nb'], error: undefined }],
    ['a few elements', 3, { runId: 7, dryRun: false, sources: ['docs'], nested: { big: Array.from({ length: 300 }, (_, i) => i) } }],
    ['many elements', 2_000, { counts: { sent: 2_000 }, empty: {}, none: [] }],
  ])('writes the same text as JSON.stringify of the object with the array first: %s', (_name, count, rest) => {
    const out = sink();
    const document = new StreamedJsonObject(out.stream, 'entries');
    const entries = Array.from({ length: count }, (_, i) => entry(i));
    for (const e of entries) document.push(e);
    expect(document.started).toBe(count > 0);
    document.end({ ...rest, entries: ['ignored: the streamed array is the member'] });
    expect(out.text()).toBe(`${JSON.stringify({ entries, ...rest }, null, 2)}\n`);
  });

  it('writes elements before the end, in pieces of about 64 KiB', () => {
    const out = sink();
    const document = new StreamedJsonObject(out.stream, 'entries');
    for (let i = 0; i < 2_000; i++) document.push(entry(i));
    const before = out.writes();
    expect(before).toBeGreaterThan(1);
    expect(out.text().startsWith('{\n  "entries": [\n    {')).toBe(true);
    document.end({ exitCode: 3 });
    expect(JSON.parse(out.text())).toMatchObject({ exitCode: 3 });
  });

  it('ends once: a second end (an error after the report) writes nothing', () => {
    const out = sink();
    const document = new StreamedJsonObject(out.stream, 'entries');
    document.push(entry(1));
    document.end({ ok: false, exitCode: 1, error: { name: 'StateError', message: 'disk full' } });
    document.end({ exitCode: 2 });
    expect(JSON.parse(out.text())).toEqual({ entries: [entry(1)].map((e) => JSON.parse(JSON.stringify(e))), ok: false, exitCode: 1, error: { name: 'StateError', message: 'disk full' } });
  });
});
