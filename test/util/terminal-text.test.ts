import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalFileError } from '../../src/errors.js';
import type { CliContext } from '../../src/cli/context.js';
import { writeJson } from '../../src/cli/context.js';
import { formatEntry, formatSummary } from '../../src/cli/format-report.js';
import { reportError } from '../../src/cli/report-error.js';
import { formatLogLine } from '../../src/daemon/logger.js';
import { emptyCounts, type SyncReport } from '../../src/sync/report.js';
import { escapeControl } from '../../src/util/terminal-text.js';

describe('escapeControl', () => {
  it.each([
    ['plain text, ünïcödé, 中文, emoji 👍🏽 and a\\back\\slash', 'plain text, ünïcödé, 中文, emoji 👍🏽 and a\\back\\slash'],
    ['C0: NUL \u0000 BEL \u0007 BS \u0008', 'C0: NUL \\x00 BEL \\x07 BS \\x08'],
    ['tab\tnew\nline\rreturn', 'tab\\tnew\\nline\\rreturn'],
    ['DEL \u007f', 'DEL \\x7f'],
    ['C1: \u0080 NEL \u0085 CSI \u009b \u009f', 'C1: \\x80 NEL \\x85 CSI \\x9b \\x9f'],
    ['ANSI clear screen \u001b[2J\u001b[H', 'ANSI clear screen \\x1b[2J\\x1b[H'],
    ['title \u001b]0;pwned\u0007', 'title \\x1b]0;pwned\\x07'],
    ['bidi \u202egnp.exe \u202a\u202b\u202c\u202d', 'bidi \\u202egnp.exe \\u202a\\u202b\\u202c\\u202d'],
    ['isolates \u2066\u2067\u2068\u2069 marks \u200e\u200f\u061c', 'isolates \\u2066\\u2067\\u2068\\u2069 marks \\u200e\\u200f\\u061c'],
    ['separators \u2028\u2029', 'separators \\u2028\\u2029'],
    ['lone surrogate \ud800 and \udc00', 'lone surrogate \\ud800 and \\udc00'],
  ])('%j -> %j', (input, expected) => {
    expect(escapeControl(input)).toBe(expected);
  });

  it('keeps line breaks when asked (whole lines of output), escaping the rest', () => {
    expect(escapeControl('a\nb\u001b[31m', { keepNewlines: true })).toBe('a\nb\\x1b[31m');
  });
});

const EVIL = 'evil\u001b]0;owned\u0007\u001b[2J\nnew      docs:forged.md   1 KiB  (sent)\u202egnp.md';

function report(entries: SyncReport['entries']): SyncReport {
  return { runId: 1, dryRun: false, sources: ['docs'], startedAt: '', durationMs: 5, outcome: 'partial', counts: { ...emptyCounts(), failed: 1 }, entries };
}

function capture(): { ctx: CliContext; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ctx = { cwd: '/', env: {}, stdout, stderr, stdin: new PassThrough(), onSignal: () => () => {} } as unknown as CliContext;
  return { ctx, out: () => out, err: () => err };
}

describe('human output escapes file names and server text; JSON stays exact', () => {
  it('sync report lines', () => {
    const entry = { action: 'new', source: 'docs', key: EVIL, kind: 'file', bytes: 10, reason: 'new', outcome: 'failed', error: `server said: ${EVIL}` } as const;
    const lines = [formatEntry(entry, false), ...formatSummary(report([entry]))];
    const text = lines.join('\n');
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('docs:evil\\x1b]0;owned\\x07\\x1b[2J\\nnew      docs:forged.md');
  });

  it('error messages that print a path', () => {
    const io = capture();
    reportError(new LocalFileError(`/srv/docs/${EVIL}`, 'cannot be read (EACCES)'), {}, io.ctx);
    expect(io.err().split('\n').filter(Boolean)).toHaveLength(1);
    expect(io.err()).toContain('/srv/docs/evil\\x1b]0;owned');

    const json = capture();
    reportError(new LocalFileError(`/srv/docs/${EVIL}`, 'cannot be read'), { json: true }, json.ctx);
    expect((JSON.parse(json.out()) as { error: { message: string } }).error.message).toBe(`/srv/docs/${EVIL}: cannot be read`);
  });

  it('JSON output keeps the exact name', () => {
    const io = capture();
    writeJson(io.ctx.stdout, { key: EVIL });
    expect((JSON.parse(io.out()) as { key: string }).key).toBe(EVIL);
  });

  it('daemon pretty log lines', () => {
    const line = formatLogLine({ level: 'warn', time: '2026-01-01T00:00:00.000Z', msg: `failed ${EVIL}`, key: EVIL, error: { message: EVIL } });
    expect(line.split('\n')).toHaveLength(1);
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  });
});
