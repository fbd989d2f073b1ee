/**
 * The chaos suite's world: a sandbox on 127.0.0.1, a work folder with a folder source and a config, and the real CLI
 * (`dist/cli/bundle/lanying-kb.js`) started, killed and started again against them. What counts is what the sandbox's knowledge
 * base holds at the end: a duplicate is a second document of one version of one file, a loss is a file whose current
 * version has no document after a clean final run.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import type { FaultRule, Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { CLI_ENTRY, type ProcessRun } from '../helpers/cli-process.js';
import { withoutFileOverride } from '../helpers/permissions.js';
import { useSandbox } from '../helpers/sandbox.js';
import { tmpDir } from '../helpers/tmp-dir.js';

/** `npm run chaos` sets LANYING_KB_CHAOS=full: the counts of the issue; otherwise the short version of `npm test`. */
export const FULL = process.env.LANYING_KB_CHAOS === 'full';

/** One line of the table. */
export interface ChaosRow {
  scenario: string;
  /** Trials: kills, races, fault runs, damaged states. */
  trials: number;
  duplicates: number;
  losses: number;
  seconds: number;
  notes: string;
}

/** A small seeded random generator (mulberry32), so that a run can be repeated from its seed. */
export function randomFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A started CLI process. */
export interface CliProcess {
  child: ChildProcess;
  done: Promise<ProcessRun>;
  /** True while it runs. */
  running(): boolean;
  /** Kills it with SIGKILL (if it still runs); resolves when it is gone. */
  kill(): Promise<ProcessRun>;
  stdout(): string;
}

export interface WorldOptions {
  /** Files written at the start. @default 20 */
  files?: number;
  sandbox?: SandboxOptions;
  faults?: FaultRule[];
  /** Merged into the config's sections. */
  api?: Record<string, unknown>;
  sync?: Record<string, unknown>;
  daemon?: Record<string, unknown>;
  /** Extra keys of the folder source. */
  source?: Record<string, unknown>;
}

/** A sandbox, a folder source and a config file, for the real CLI. */
export class ChaosWorld {
  readonly sandbox: Sandbox;
  readonly dir: string;
  readonly docs: string;
  readonly stateDir: string;
  readonly configFile: string;
  readonly #raw: Record<string, unknown>;
  #serial = 0;

  private constructor(sandbox: Sandbox, dir: string, options: WorldOptions) {
    this.sandbox = sandbox;
    this.dir = dir;
    this.docs = path.join(dir, 'docs');
    this.stateDir = path.join(dir, '.lanying-kb');
    this.configFile = path.join(dir, 'lanying-kb.config.json');
    const snippet = sandbox.configSnippet();
    this.#raw = {
      api: { ...snippet.api, maxRetries: 3, timeoutMs: 5000, ...options.api },
      knowledgeBase: snippet.knowledgeBase,
      sources: [{ type: 'folder', name: 'docs', path: 'docs', ...options.source }],
      sync: { concurrency: 4, confirmPollInterval: '50ms', confirmTimeout: '20s', ...options.sync },
      daemon: { debounceMs: 50, shutdownTimeoutMs: 2000, ...options.daemon },
    };
    mkdirSync(this.docs, { recursive: true });
    writeFileSync(this.configFile, JSON.stringify(this.#raw, null, 2));
  }

  static async create(options: WorldOptions = {}): Promise<ChaosWorld> {
    const sandbox = await useSandbox({ ...options.sandbox, faults: options.faults ?? [] });
    const world = new ChaosWorld(sandbox, tmpDir('lkb-chaos-'), options);
    world.addFiles(options.files ?? 20, 'start');
    return world;
  }

  /** Writes `n` new Markdown files (a few hundred bytes each). */
  addFiles(n: number, prefix: string): string[] {
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = `${prefix}-${this.#serial++}.md`;
      const sub = i % 3 === 0 ? 'sub' : '';
      const file = path.join(this.docs, sub, name);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `# ${name}\n\n${'Words of a document to sync. '.repeat(10)}\n`);
      names.push(file);
    }
    return names;
  }

  /** Appends a line to an existing file (a new version), picked by `random`. */
  changeFile(random: () => number): void {
    const files = this.files();
    const file = files[Math.floor(random() * files.length)];
    if (file) appendFileSync(path.join(this.docs, file), `\nchanged ${this.#serial++}\n`);
  }

  /** The source's files (relative keys), with `/` separators. */
  files(): string[] {
    const out: string[] = [];
    const walk = (dir: string, prefix: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(path.join(dir, entry.name), `${prefix}${entry.name}/`);
        else if (entry.name.endsWith('.md')) out.push(`${prefix}${entry.name}`);
      }
    };
    if (existsSync(this.docs)) walk(this.docs, '');
    return out.sort();
  }

  /** Starts `lanying-kb ARGS` in the world's folder. */
  start(args: string[], options: { unprivileged?: boolean } = {}): CliProcess {
    const argv = [process.execPath, CLI_ENTRY, ...args];
    const [bin, rest] = options.unprivileged ? withoutFileOverride(argv) : [argv[0] as string, argv.slice(1)];
    const child = spawn(bin, rest, { cwd: this.dir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<ProcessRun>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    const running = () => child.exitCode === null && child.signalCode === null;
    onTestFinished(() => {
      if (running()) child.kill('SIGKILL');
    });
    return {
      child,
      done,
      running,
      kill: async () => {
        if (running()) child.kill('SIGKILL');
        return done;
      },
      stdout: () => stdout,
    };
  }

  run(args: string[], options: { unprivileged?: boolean } = {}): Promise<ProcessRun> {
    return this.start(args, options).done;
  }

  /** A clean run: no faults, `sync` to its end (exit 0 expected), then the chatbot idle. */
  async finalSync(): Promise<ProcessRun> {
    this.sandbox.setFaults([]);
    await this.idle();
    const run = await this.run(['sync']);
    await this.idle();
    return run;
  }

  /** The sandbox idle; when it is not, the error names the requests still being handled. */
  async idle(timeoutMs = 20_000): Promise<void> {
    try {
      await this.sandbox.idle(timeoutMs);
    } catch (error) {
      const open = this.sandbox
        .state()
        .requests.filter((r) => r.duration_ms === undefined)
        .map((r) => `${r.method} ${r.path}${r.fault ? ` (${r.fault})` : ''}`);
      throw new Error(`${(error as Error).message}: ${open.join(', ')}`, { cause: error });
    }
  }

  /** Duplicates and losses in the knowledge base (see the file's comment). */
  count(): { duplicates: number; losses: number; documents: number; lost: string[]; duplicated: string[] } {
    const documents = this.sandbox.state().knowledgeBase.documents.filter((d) => d.metadata.source === 'docs');
    const perVersion = new Map<string, number>();
    const alive = new Set<string>();
    for (const doc of documents) {
      const version = `${doc.metadata.path}@${doc.metadata.sha256}`;
      perVersion.set(version, (perVersion.get(version) ?? 0) + 1);
      if (doc.status !== 'error') alive.add(version);
    }
    const duplicated = [...perVersion].filter(([, n]) => n > 1).map(([v, n]) => `${v} ×${n}`);
    const lost: string[] = [];
    for (const key of this.files()) {
      const content = readFileSync(path.join(this.docs, key));
      if (content.length === 0) continue;
      const version = `${key}@${createHash('sha256').update(content).digest('hex')}`;
      if (!alive.has(version)) lost.push(key);
    }
    const duplicates = [...perVersion.values()].reduce((sum, n) => sum + (n - 1), 0);
    return { duplicates, losses: lost.length, documents: documents.length, lost, duplicated };
  }

  /** Waits until `check` holds (polling every 20 ms), or throws after `timeoutMs`. */
  static async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(20);
    }
  }

  /** The PID the state lock's owner file names, if any. */
  lockHolder(): number | undefined {
    try {
      return (JSON.parse(readFileSync(path.join(this.stateDir, 'lock'), 'utf8')) as { pid?: number }).pid;
    } catch {
      return undefined;
    }
  }

  stateFile(): string {
    return path.join(this.stateDir, 'state.db');
  }

  removeWal(): void {
    rmSync(`${this.stateFile()}-wal`, { force: true });
    rmSync(`${this.stateFile()}-shm`, { force: true });
  }

  stateSize(): number {
    return statSync(this.stateFile()).size;
  }
}

/** A failed run must say what went wrong in one line: never a stack trace, never "unexpected error". */
export function isCleanFailure(run: ProcessRun): boolean {
  return !/\n\s+at |unexpected error/.test(run.stderr);
}

/** The table, as Markdown. */
export function formatTable(rows: readonly ChaosRow[]): string {
  const lines = ['| scenario | trials | duplicates | losses | seconds | notes |', '|---|---:|---:|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.scenario} | ${r.trials} | ${r.duplicates} | ${r.losses} | ${r.seconds.toFixed(1)} | ${r.notes} |`);
  const sum = (f: (r: ChaosRow) => number) => rows.reduce((s, r) => s + f(r), 0);
  lines.push(`| **total** | ${sum((r) => r.trials)} | ${sum((r) => r.duplicates)} | ${sum((r) => r.losses)} | ${sum((r) => r.seconds).toFixed(1)} | |`);
  return lines.join('\n');
}
