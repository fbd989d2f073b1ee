import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/resolve.js';
import { type Daemon, type DaemonOptions, startDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/daemon/logger.js';
import type { MessageState, Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { StateStore } from '../../src/state/store.js';
import { useSandbox } from '../helpers/sandbox.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI (`npm test` builds it first). */
export const BUILT_CLI = `${root}dist/cli/bundle/lanying-kb.js`;

export interface DaemonEnv {
  sandbox: Sandbox;
  /** The config's folder; the state lives in `<dir>/.lanying-kb`. */
  dir: string;
  /** The `docs` source's folder (created). */
  docs: string;
  raw: Record<string, unknown>;
  configFile: string;
  /** The resolved configuration of `raw` (or of `override`). */
  config(override?: Record<string, unknown>): ResolvedConfig;
  /** Writes `raw` (or `override`) as the config file. */
  writeConfig(override?: Record<string, unknown>): void;
  /** File messages (documents) the chatbot received, oldest first. */
  sends(): MessageState[];
  /** The `path` metadata of every document sent, in order (one entry per message). */
  sentPaths(): string[];
  /** Opens the state database read-only (closed when the test ends). */
  state(): StateStore;
  /** Reads the state database once (opened and closed again): for polling. */
  read<T>(fn: (store: StateStore) => T): T;
  /** Writes a file below `docs`. */
  write(rel: string, content: string): string;
}

/** Fast timings for tests. */
export const FAST_DAEMON = { debounceMs: 100, shutdownTimeoutMs: 5000 };

/** A sandbox, a `docs` folder source and a config (written to `lanying-kb.config.json`). */
export async function daemonEnv(
  options: { sandbox?: SandboxOptions; daemon?: Record<string, unknown>; sync?: Record<string, unknown>; sources?: (docs: string) => unknown[]; api?: Record<string, unknown> } = {},
): Promise<DaemonEnv> {
  const sandbox = await useSandbox(options.sandbox);
  const dir = tmpDir('lkb-daemon-');
  const docs = path.join(dir, 'docs');
  mkdirSync(docs);
  const snippet = sandbox.configSnippet();
  const raw: Record<string, unknown> = {
    api: { ...snippet.api, maxRetries: 1, timeoutMs: 5000, ...options.api },
    knowledgeBase: snippet.knowledgeBase,
    sources: options.sources ? options.sources(docs) : [{ type: 'folder', name: 'docs', path: 'docs' }],
    sync: { confirmPollInterval: 20, commandTimeout: 5000, ...options.sync },
    daemon: { ...FAST_DAEMON, ...options.daemon },
  };
  const configFile = path.join(dir, 'lanying-kb.config.json');
  const kb = sandbox.knowledgeBase;
  // Document messages only (files, and URL texts): not the /bluevector commands that confirm and delete them.
  const sends = () =>
    sandbox
      .state()
      .messages.filter((m) => m.to_id === kb.chatbotUserId && m.from_user_id === kb.adminUserIds[0] && (m.content_type === 4 || (m.content_type === 0 && !m.content.startsWith('/'))));
  const env: DaemonEnv = {
    sandbox,
    dir,
    docs,
    raw,
    configFile,
    config: (override) => parseConfig(override ?? raw, { baseDir: dir, filepath: configFile, env: {} }),
    writeConfig: (override) => writeFileSync(configFile, JSON.stringify(override ?? raw, null, 2)),
    sends,
    sentPaths: () => sends().map((m) => (JSON.parse(m.ext) as { ai: { metadata: { path: string } } }).ai.metadata.path),
    state: () => {
      const store = StateStore.open(path.join(dir, '.lanying-kb'), { readonly: true });
      onTestFinished(() => store.close());
      return store;
    },
    read: (fn) => {
      const store = StateStore.open(path.join(dir, '.lanying-kb'), { readonly: true });
      try {
        return fn(store);
      } finally {
        store.close();
      }
    },
    write: (rel, content) => {
      const file = path.join(docs, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
  };
  env.writeConfig();
  return env;
}

/** Log lines a test daemon wrote (parsed JSON). */
export interface LogSink {
  lines: Record<string, unknown>[];
  destination: { write(chunk: string): void };
}

export function logSink(): LogSink {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    destination: {
      write(chunk: string) {
        for (const line of chunk.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  };
}

/** Starts a daemon in this process, stopped when the test ends. */
export async function useDaemon(config: ResolvedConfig, options: Partial<DaemonOptions> & { logs?: LogSink } = {}): Promise<Daemon> {
  const logs = options.logs ?? logSink();
  const daemon = await startDaemon({ config, logger: createLogger({ destination: logs.destination, level: 'debug' }), retryDelayMs: 300, ...options });
  onTestFinished(() => daemon.stop());
  return daemon;
}

/** Polls until `check` is true, or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition', pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keys of the files `settle()` writes; leave them out where a test lists documents. */
export const isSentinel = (key: string): boolean => /^zz-settled-\d+\.bin$/.test(key);
let sentinels = 0;

/**
 * Waits until the daemon has handled every change made to the `docs` folder before this call, and nothing is left
 * to do: no path waiting, no job, no request or ingestion at the sandbox. The moment to check that something did NOT
 * happen, instead of sleeping. It writes a sentinel file that the source reports but never sends (an unsupported
 * type) and waits until the state records it as skipped: file events reach the daemon in the order they were made,
 * and path batches of a source run in that order, so nothing made before it is still on its way.
 */
export async function settle(env: DaemonEnv, daemon: Daemon): Promise<void> {
  const key = `zz-settled-${++sentinels}.bin`;
  env.write(key, 'a sentinel');
  await waitFor(() => env.read((store) => store.get('docs', key)?.status === 'skipped'), 10_000, `the sentinel ${key} to be handled`);
  await daemon.whenIdle();
  await env.sandbox.idle();
}

/** How many times each value occurs. */
export function tally(values: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
  return map;
}

/** A `lanying-kb watch` child process (the built CLI). */
export interface WatchProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a log line matching `predicate`. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number, what?: string): Promise<Record<string, unknown>>;
}

/**
 * Spawns `node dist/cli/bundle/lanying-kb.js watch --config FILE` (or the CLI file `cli`) in `cwd` (with PATH and `env`
 * as its environment); killed (SIGKILL) when the test ends if still running.
 */
export function spawnWatch(cwd: string, configFile: string, extraArgs: string[] = [], env: Record<string, string> = {}, cli = BUILT_CLI): WatchProcess {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (npm test does)`);
  const child = spawn(process.execPath, [cli, 'watch', '--config', configFile, ...extraArgs], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
      nl = partial.indexOf('\n');
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited.then(() => undefined);
  });
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog: async (predicate, timeoutMs = 15_000, what = 'a log line') => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find(predicate);
        if (found) return found;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the daemon exited (${child.exitCode ?? child.signalCode}) before ${what}; stderr: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; logs: ${logs.map((l) => JSON.stringify(l)).slice(-20).join('\n')}`);
        await sleep(20);
      }
    },
  };
}
