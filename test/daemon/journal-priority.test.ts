import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isJournalStream, prefixLines } from '../../src/cli/journal-stream.js';
import { createLogger } from '../../src/daemon/logger.js';
import { CLI_ENTRY } from '../helpers/cli-process.js';
import { tmpDir } from '../helpers/tmp-dir.js';
import { daemonEnv, waitFor } from './helpers.js';

function lines(): { destination: { write(chunk: string): void }; out: string[] } {
  const out: string[] = [];
  return { out, destination: { write: (chunk: string) => void out.push(...chunk.split('\n').filter(Boolean)) } };
}

describe('syslog priority prefixes (journald)', () => {
  it.each(['json', 'pretty'] as const)('the %s logger starts each line with its level\'s priority when asked', (format) => {
    const sink = lines();
    const logger = createLogger({ destination: sink.destination, format, level: 'trace', syslogPrefix: true, now: () => new Date(0) });
    logger.trace('t');
    logger.debug('d');
    logger.info({ event: 'sent' }, 'i');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    expect(sink.out.map((l) => l.slice(0, 3))).toEqual(['<7>', '<7>', '<6>', '<4>', '<3>', '<2>']);
    if (format === 'json') expect(JSON.parse((sink.out[2] as string).slice(3))).toMatchObject({ level: 'info', event: 'sent', msg: 'i' });
  });

  it('without syslogPrefix the lines are as before', () => {
    const sink = lines();
    createLogger({ destination: sink.destination }).warn('w');
    expect(sink.out[0]?.startsWith('{"level":"warn"')).toBe(true);
  });

  it('isJournalStream compares $JOURNAL_STREAM with the descriptor\'s device and inode', () => {
    const file = path.join(tmpDir('lkb-journal-'), 'out');
    writeFileSync(file, '');
    const fd = openSync(file, 'a');
    onTestFinished(() => closeSync(fd));
    const stat = fstatSync(fd);
    expect(isJournalStream(`${stat.dev}:${stat.ino}`, fd)).toBe(true);
    expect(isJournalStream(`${stat.dev}:${stat.ino + 1}`, fd)).toBe(false);
    expect(isJournalStream('garbage', fd)).toBe(false);
    expect(isJournalStream(undefined, fd)).toBe(false);
    expect(isJournalStream(`${stat.dev}:${stat.ino}`, undefined)).toBe(false);
  });

  it('prefixLines prefixes every line, also across partial writes', async () => {
    const target = new PassThrough();
    let text = '';
    target.on('data', (d: Buffer) => (text += d.toString()));
    const stream = prefixLines(target, '<3>');
    for (const chunk of ['one\ntw', 'o\n', 'three\nfour\n']) await new Promise<void>((resolve) => stream.write(chunk, () => resolve()));
    expect(text).toBe('<3>one\n<3>two\n<3>three\n<3>four\n');
  });
});

/** Runs the CLI with stdout and stderr both going to one file, as systemd connects them to the journal. */
function startWithJournalFile(args: string[], cwd: string, journal: 'matching' | 'other') {
  const file = path.join(tmpDir('lkb-journal-'), 'journal');
  writeFileSync(file, '');
  const fd = openSync(file, 'a');
  const stat = fstatSync(fd);
  const value = journal === 'matching' ? `${stat.dev}:${stat.ino}` : `${stat.dev}:${stat.ino + 1}`;
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd, env: { PATH: process.env.PATH ?? '', JOURNAL_STREAM: value }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, exited, read: () => readFileSync(file, 'utf8') };
}

describe('the real CLI on a journal stream', () => {
  it('`watch` writes <6> before info lines and <3> before errors; journald strips it, so the JSON stays as it was', async () => {
    const env = await daemonEnv({ sources: (docs) => [{ type: 'folder', name: 'docs', path: docs }, { type: 'folder', name: 'gone', path: path.join(docs, 'missing') }] });
    env.write('a.md', '# A\n');
    const run = startWithJournalFile(['watch', '--config', env.configFile], env.dir, 'matching');
    await waitFor(() => run.read().includes('"event":"ready"'), 20_000, 'the ready line');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const out = run.read().split('\n').filter(Boolean);
    const byEvent = (event: string) => out.find((l) => l.includes(`"event":"${event}"`)) as string;
    expect(byEvent('ready').startsWith('<6>{')).toBe(true);
    expect(byEvent('source-failed').startsWith('<3>{')).toBe(true);
    for (const line of out) {
      expect(line).toMatch(/^<[2-7]>\{/);
      const record = JSON.parse(line.slice(3)) as { level: string };
      expect(line.slice(0, 3)).toBe({ debug: '<7>', info: '<6>', warn: '<4>', error: '<3>' }[record.level]);
    }
  });

  it('errors on stderr get <3>; when $JOURNAL_STREAM names another stream, nothing is prefixed', async () => {
    const dir = tmpDir('lkb-journal-');
    writeFileSync(path.join(dir, 'lanying-kb.config.json'), '{ "api": { "endpoint": "https://example.com", "appId": "a", "accessToken": "t" }, "sourcez": [] }');
    const journal = startWithJournalFile(['sync'], dir, 'matching');
    expect(await journal.exited).toBe(2);
    expect(journal.read()).toBe(`<3>lanying-kb: ${path.join(dir, 'lanying-kb.config.json')}: sourcez: unknown key\n`);
    const other = startWithJournalFile(['sync'], dir, 'other');
    expect(await other.exited).toBe(2);
    expect(other.read()).toBe(`lanying-kb: ${path.join(dir, 'lanying-kb.config.json')}: sourcez: unknown key\n`);
  });
});
