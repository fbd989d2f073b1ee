import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { onTestFinished } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';
import type { Sandbox } from '../../src/sandbox/index.js';

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The working folder (where `lanying-kb.config.json` is searched from). */
  cwd: string;
  env?: Record<string, string | undefined>;
  /** What standard input holds. @default empty */
  stdin?: string;
  /** Whether standard input is a terminal. @default false */
  isTTY?: boolean;
}

/** A temporary folder removed when the test finishes. */
export function tempDir(prefix = 'lkb-cli-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `config` as `lanying-kb.config.json` in `dir` (a new temporary folder by default); returns the folder. */
export function writeConfig(config: Record<string, unknown>, dir: string = tempDir()): string {
  writeFileSync(path.join(dir, 'lanying-kb.config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/** The `api` section for a sandbox. */
export function apiFor(sandbox: Sandbox, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { endpoint: sandbox.url, appId: sandbox.appId, accessToken: sandbox.accessToken, maxRetries: 0, ...overrides };
}

/** Runs the CLI in-process with a hand-built context; captures stdout and stderr. */
export async function runWith(argv: string[], options: RunOptions): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        append(chunk.toString());
        callback();
      },
    });
  const stdin = options.stdin === undefined ? new PassThrough() : Readable.from([options.stdin]);
  if (options.stdin === undefined) (stdin as PassThrough).end();
  Object.assign(stdin, { isTTY: options.isTTY ?? false });
  const ctx: CliContext = {
    cwd: options.cwd,
    env: options.env ?? {},
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin,
    onSignal: () => () => undefined,
  };
  const code = await runCli(argv, ctx);
  return { code, stdout, stderr };
}

/** A CLI bound to a sandbox: writes a config (the sandbox's `api` plus `extra`) and runs commands in its folder. */
export function cliFor(sandbox: Sandbox, extra: Record<string, unknown> = {}) {
  const dir = writeConfig({ api: apiFor(sandbox), ...extra });
  return {
    dir,
    run: (argv: string[], options: Omit<RunOptions, 'cwd'> = {}) => runWith(argv, { cwd: dir, ...options }),
  };
}
