import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_ENTRY, runCliProcess, startCli } from '../helpers/cli-process.js';
import { setupSync, waitFor } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function writeConfigFile(dir: string, raw: Record<string, unknown>): void {
  writeFileSync(path.join(dir, 'lanying-kb.config.json'), JSON.stringify(raw, null, 2));
}

/** A folder source with `count` documents, and sends that take `latencyMs` each, one at a time. */
async function slowSetup(count: number, latencyMs: number) {
  const s = await setupSync({ sync: { concurrency: 1 } });
  for (let i = 0; i < count; i++) writeFile(s.root, `doc-${String(i).padStart(2, '0')}.md`, `# Doc ${i}\n`);
  s.sandbox.setFaults([{ route: 'POST /message/send', latencyMs }]);
  writeConfigFile(s.dir, s.raw);
  return s;
}

/** Every field name of a JSON value, at any depth (not the keys of `status`'s map of sources and states: data). */
function keysOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) keysOf(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      if (k !== 'sources' || Array.isArray(v)) keysOf(v, out);
    }
  }
  return out;
}

describe('sync output for cron and CI (the real CLI process)', () => {
  it('a no-op sync neither talks to the API nor loads the HTTP client (nothing on its way: the conversation is not read)', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeConfigFile(s.dir, s.raw);
    expect((await runCliProcess(['sync'], { cwd: s.dir })).code).toBe(0);
    await s.sandbox.idle();
    const before = s.sandbox.state().requests.length;
    // A CommonJS hook in the child names the packages it loaded when it exits.
    const hook = path.join(s.dir, 'loaded-packages.cjs');
    writeFileSync(hook, "process.on('exit', () => process.stderr.write('loaded: ' + [...new Set(Object.keys(require.cache).map((k) => (k.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/) ?? [])[1]).filter(Boolean))].sort().join(',') + '\\n'));\n");
    const noop = await runCliProcess(['sync', '--json'], { cwd: s.dir, env: { NODE_OPTIONS: `--require ${hook}` } });
    expect(noop.code).toBe(0);
    expect(JSON.parse(noop.stdout)).toMatchObject({ counts: { unchanged: 1, sent: 0 } });
    expect(noop.stderr).toMatch(/^loaded: /m);
    expect(noop.stderr).not.toMatch(/undici/);
    expect(s.sandbox.state().requests.slice(before)).toEqual([]);
  });

  it('prints a line per document as it is sent, also into a pipe, then the summary', async () => {
    const s = await slowSetup(4, 400);
    const run = startCli(['sync'], { cwd: s.dir });
    // The first document's line arrives while the others are still being sent.
    await waitFor(() => /\(sent\)/.test(run.output().stdout), 10_000, 'the first "sent" line');
    expect(run.child.exitCode).toBeNull();
    expect(run.output().stdout).not.toMatch(/^Done/m);
    const done = await run.done;
    expect(done.code).toBe(0);
    const lines = done.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 4).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual(
      [0, 1, 2, 3].map((i) => `new docs:doc-0${i}.md 8 B first seen (sent)`),
    );
    expect(lines[4]).toMatch(/^Done in .*: sent 4 \(32 B; 4 new, 0 changed\), 0 failed/);
    expect(done.stderr).toBe('');
  });

  it('-q prints failures and the summary only; --json one document; --json-lines events as they happen, in camelCase with ISO times', async () => {
    const s = await setupSync({ sync: { maxAttempts: 1 }, api: { maxRetries: 0 } });
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'b.md', 'beta');
    writeFile(s.root, 'logo.svg', '<svg/>');
    writeConfigFile(s.dir, s.raw);
    s.sandbox.setFaults([{ route: 'POST /message/send', status: 500, times: 1 }]);
    const quiet = await runCliProcess(['sync', '-q'], { cwd: s.dir });
    expect(quiet.code).toBe(3);
    const quietLines = quiet.stdout.trimEnd().split('\n');
    expect(quietLines).toHaveLength(3);
    expect(quietLines[0]).toMatch(/^ {2}FAILED +docs:[ab]\.md +\d B {2}POST \/message\/send failed: HTTP 500/);
    expect(quietLines[1]).toMatch(/^Done with failures in .*: sent 1 .* 1 failed/);
    expect(quietLines[2]).toBe('Knowledge base: 1 ingested.');

    writeFile(s.root, 'c.md', 'gamma');
    const lines = await runCliProcess(['sync', '--json-lines'], { cwd: s.dir });
    expect(lines.code).toBe(0);
    const events = lines.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(['decision', 'decision', 'planned', 'sent', 'sent', 'confirmed', 'confirmed', 'summary']);
    expect(events.filter((e) => e.type === 'confirmed').map((e) => e.outcome)).toEqual(['ingested', 'ingested']);
    for (const e of events) expect(e.time).toMatch(ISO);
    // The document that failed is new again (it never reached the knowledge base).
    expect(events.filter((e) => e.type === 'decision').map((e) => `${String(e.action)} ${String(e.key)}`).sort()).toEqual([expect.stringMatching(/^new [ab]\.md$/), 'new c.md']);
    const summary = events.at(-1) as { counts: Record<string, number>; exitCode: number; startedAt: string; entries?: unknown };
    expect(summary).toMatchObject({ exitCode: 0, counts: { sent: 2, failed: 0, skipped: 1 } });
    expect(summary.startedAt).toMatch(ISO);
    expect(summary.entries).toBeUndefined();

    writeFile(s.root, 'd.md', 'delta');
    const doc = await runCliProcess(['sync', '--json'], { cwd: s.dir });
    expect(doc.code).toBe(0);
    const report = JSON.parse(doc.stdout) as { entries: { key: string; outcome?: string }[]; exitCode: number };
    expect(report.exitCode).toBe(0);
    expect(report.entries.map((e) => `${e.key} ${e.outcome ?? '-'}`).sort()).toEqual(['d.md ingested', 'logo.svg -']);

    // One naming style: camelCase keys only, in every JSON output of sync and status.
    const status = await runCliProcess(['status', '--json'], { cwd: s.dir });
    const parsed = JSON.parse(status.stdout) as { runs: { startedAt: string; endedAt: string }[]; failed: unknown[] };
    for (const value of [report, ...events, parsed]) for (const key of keysOf(value)) expect(key).toMatch(/^[a-z][A-Za-z0-9]*$|^\$schema$/);
    expect(parsed.runs[0]?.startedAt).toMatch(ISO);
    expect(parsed.runs[0]?.endedAt).toMatch(ISO);
  });

  it('prints what the chatbot did not ingest, as it answers; -v also what it ingested', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'b.md', 'beta');
    writeConfigFile(s.dir, s.raw);
    s.sandbox.setFaults([{ chatbot: 'fail', reason: 'download_failed', match: 'a.md', times: 1 }]);
    const run = await runCliProcess(['sync', '-v'], { cwd: s.dir });
    expect(run.code).toBe(3);
    const lines = run.stdout.trimEnd().split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
    expect(lines).toContainEqual(expect.stringMatching(/^INGEST-FAILED docs:a\.md \S/));
    expect(lines).toContainEqual(expect.stringMatching(/^ingested docs:b\.md document \S+$/));
    // The failed ingestion's document is deleted (to be sent again later), and said so.
    expect(lines).toContainEqual(expect.stringMatching(/^deleted docs:a\.md document \S+ \(an old or failed version\)$/));
    expect(lines.at(-1)).toBe('Knowledge base: 1 ingested, 1 failed to ingest, 1 deleted.');
  });

  it('-v adds skips repeated from earlier runs and, at the end, the unchanged documents', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'logo.svg', '<svg/>');
    writeConfigFile(s.dir, s.raw);
    const first = await runCliProcess(['sync'], { cwd: s.dir });
    expect(first.stdout).toMatch(/^ {2}skipped +docs:logo\.svg/m);
    const again = await runCliProcess(['sync'], { cwd: s.dir });
    expect(again.stdout.trimEnd().split('\n')).toEqual([expect.stringMatching(/^Done in .*: sent 0 .* 1 skipped, 1 unchanged\.$/)]);
    const verbose = await runCliProcess(['sync', '-v'], { cwd: s.dir });
    expect(verbose.stdout.trimEnd().split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'skipped docs:logo.svg 6 B unsupported type (.svg)',
      expect.stringMatching(/^unchanged docs:a\.md 5 B /),
      expect.stringMatching(/^Done in /),
    ]);
  });

  it('exits 130 on SIGINT and 143 on SIGTERM, with what was done printed', async () => {
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const s = await slowSetup(5, 600);
      const run = startCli(['sync'], { cwd: s.dir });
      await waitFor(() => /\(sent\)/.test(run.output().stdout), 10_000, 'a first document sent');
      run.child.kill(signal);
      const done = await run.done;
      expect(done.code).toBe(code);
      expect(done.stdout).toMatch(/^Stopped in .*: sent [1-4] /m);
      expect(done.stderr).toContain(`lanying-kb: stopped by ${signal}`);
    }
  });

  it('writes a stats line every --stats interval when stderr is not a terminal; -q and --stats 0 keep it quiet', async () => {
    const s = await slowSetup(6, 250);
    const run = await runCliProcess(['sync', '--stats', '300ms'], { cwd: s.dir });
    expect(run.code).toBe(0);
    const stats = run.stderr.split('\n').filter((l) => l.startsWith('lanying-kb: stats: '));
    expect(stats.length).toBeGreaterThanOrEqual(2);
    expect(stats.at(-1)).toMatch(/^lanying-kb: stats: [\d.]+ m?s .*sending \d\/6, \d+ B\/48 B \([\d.]+\/s(, ETA [^,]+)?, \d+ B\/s\)( · confirmed \d\/\d by the chatbot)?$/);
    expect(run.stderr.replace(/^lanying-kb: stats: .*\n/gm, '')).toBe('');

    writeFile(s.root, 'doc-00.md', '# changed\n');
    writeFile(s.root, 'doc-01.md', '# changed\n');
    const quiet = await runCliProcess(['sync', '-q', '--stats', '100ms'], { cwd: s.dir });
    expect(quiet.stderr).toBe('');
    const off = await runCliProcess(['sync', '--stats', '0'], { cwd: s.dir });
    expect(off.stderr).toBe('');
    const bad = await runCliProcess(['sync', '--stats', 'soon'], { cwd: s.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--stats.*not an interval/);
  });

  it.runIf(existsSync('/usr/bin/script'))('shows a progress line on a terminal, and takes it away before each printed line', async () => {
    const s = await slowSetup(6, 300);
    // `script` runs the CLI on a pseudo-terminal (util-linux).
    // Note: asynchronously: the sandbox answering the CLI runs in this process.
    const child = promisify(execFile)('/usr/bin/script', ['-qec', `${process.execPath} ${CLI_ENTRY} sync`, '/dev/null'], {
      cwd: s.dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 60_000,
    });
    child.child.stdin?.end();
    const raw = (await child).stdout;
    const frames = raw.split('\r\x1b[2K').map((f) => f.split(/\r?\n/)[0] ?? '');
    expect(frames.some((f) => /^[\d.]+ m?s · (checked 6 · )?sending \d\/6, \d+ B\/48 B \(/.test(f))).toBe(true);
    // Every document line starts at the beginning of a line (the progress line was cleared first).
    // eslint-disable-next-line no-control-regex -- the terminal sequence that clears the progress line
    expect(raw.match(/\x1b\[2K {2}new +docs:doc-0\d\.md/g)?.length ?? 0).toBeGreaterThan(0);
    expect(raw).toMatch(/Done in .*: sent 6 /);
  });

  it('usage errors print the --json error object too, exit 2', async () => {
    const s = await setupSync();
    writeConfigFile(s.dir, s.raw);
    const unknown = await runCliProcess(['sync', '--json', '--bogus'], { cwd: s.dir });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toEqual({ ok: false, exitCode: 2, error: { name: 'UsageError', message: "unknown option '--bogus'" } });
    expect(unknown.stderr).toMatch(/^lanying-kb: unknown option '--bogus'/);
    const lines = await runCliProcess(['--json-lines', 'sync', '--source'], { cwd: s.dir });
    expect(lines.code).toBe(2);
    expect(JSON.parse(lines.stdout)).toMatchObject({ type: 'error', ok: false, exitCode: 2, error: { name: 'UsageError' } });
    const both = await runCliProcess(['sync', '--json', '--json-lines'], { cwd: s.dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--json and --json-lines exclude each other/);
    const source = await runCliProcess(['sync', '--json', '--source', 'nope'], { cwd: s.dir });
    expect(source.code).toBe(2);
    expect(JSON.parse(source.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { name: 'UsageError', message: expect.stringMatching(/unknown source "nope"/) } });
  });

  it('sync --dry-run -v lists what include, exclude, .kbignore and hidden names left out, with the rule that matched', async () => {
    const s = await setupSync({ sources: (root) => [{ type: 'folder', name: 'docs', path: root, include: ['**/*.md', '**/*.svg'], exclude: ['drafts/', 'old/**'] }] });
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'logo.svg', '<svg/>');
    writeFile(s.root, 'notes.txt', 'not included');
    writeFile(s.root, 'drafts/x.md', 'draft');
    writeFile(s.root, 'old/y.md', 'old');
    writeFile(s.root, 'guide/.kbignore', '# comment\n*.tmp.md\n');
    writeFile(s.root, 'guide/keep.md', 'keep');
    writeFile(s.root, 'guide/scratch.tmp.md', 'scratch');
    writeFile(s.root, '.hidden/z.md', 'hidden');
    writeConfigFile(s.dir, s.raw);
    const plan = await runCliProcess(['sync', '--dry-run', '-v'], { cwd: s.dir });
    expect(plan.code).toBe(0);
    const leftOut = plan.stdout.split('\n').filter((l) => l.startsWith('  left out')).map((l) => l.replace(/\s+/g, ' ').trim());
    expect(leftOut).toEqual([
      'left out docs:.hidden/ a hidden name (it starts with a dot)',
      'left out docs:drafts/ matches exclude pattern "drafts/" (sources[0].exclude[0])',
      'left out docs:notes.txt matches no include pattern (sources[0].include)',
      'left out docs:old/ matches exclude pattern "old/**" (sources[0].exclude[1])',
      `left out docs:guide/scratch.tmp.md matches .kbignore rule "*.tmp.md" (${path.join(s.root, 'guide/.kbignore')}:2)`,
    ]);
    expect(plan.stdout).toMatch(/^ {2}new +docs:guide\/keep\.md/m);
    expect(plan.stdout).toMatch(/^ {2}skipped +docs:logo\.svg .*unsupported type/m);
    // Without -v: the plan only.
    const short = await runCliProcess(['sync', '--dry-run'], { cwd: s.dir });
    expect(short.stdout).not.toContain('left out');
    // As JSON lines: one object per path, with the rule.
    const json = await runCliProcess(['sync', '--dry-run', '-v', '--json-lines'], { cwd: s.dir });
    const rules = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.type === 'left-out');
    expect(rules).toContainEqual(expect.objectContaining({ source: 'docs', key: 'guide/scratch.tmp.md', isDir: false, rule: expect.objectContaining({ kind: 'kbignore', pattern: '*.tmp.md', where: `${path.join(s.root, 'guide/.kbignore')}:2` }) }));
  });
});
