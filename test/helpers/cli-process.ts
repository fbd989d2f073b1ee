import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { withoutFileOverride } from './permissions.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI: `npm test` builds it first. */
export const CLI_ENTRY = `${root}dist/cli/bundle/lanying-kb.js`;

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  cwd: string;
  /** Extra environment; the child gets only PATH besides. */
  env?: Record<string, string>;
  input?: string;
  /** Subject to file permissions even when the suite runs as root (see `permissions.ts`). */
  unprivileged?: boolean;
}

function command(args: string[], options: SpawnOptions): [string, string[]] {
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run "npm run build" (npm test does it first)`);
  if (options.unprivileged) return withoutFileOverride([process.execPath, CLI_ENTRY, ...args]);
  return [process.execPath, [CLI_ENTRY, ...args]];
}

/** Starts the real `lanying-kb` process; it is killed when the test finishes if still running. */
export function startCli(args: string[], options: SpawnOptions): { child: ChildProcess; done: Promise<ProcessRun>; output: () => { stdout: string; stderr: string } } {
  const [bin, argv] = command(args, options);
  const child = spawn(bin, argv, { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.end(options.input ?? '');
  const done = new Promise<ProcessRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Runs the real `lanying-kb` process to its end. */
export function runCliProcess(args: string[], options: SpawnOptions): Promise<ProcessRun> {
  return startCli(args, options).done;
}
