/**
 * What the benchmarks share: the temporary folder (removed at the end), the generated trees, a sandbox in its
 * own process, and the state of a first full sync of each tree (so that the no-op re-sync of (a) and the peak
 * RSS of (d) do not each pay for it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync, spawnSync } from 'node:child_process';
import { measure } from './lib/proc.mjs';
import { markConfirmed } from './lib/settled-state.mjs';
import { startSandboxProcess } from './lib/sandbox-process.mjs';
import { generateShapedTree, generateTree } from './lib/tree.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'bundle', 'lanying-kb.js');

export class BenchContext {
  /**
   * @param {{ quick: boolean, log: (line: string) => void, keep?: boolean, large?: boolean, outDir?: string, shapes?: string[], scaleSizes?: number[], previous?: object }} options
   * `shapes` and `scaleSizes` narrow the scaling benchmark (h) to some of its cells; `previous` is the results file as
   * it was before this run (the cells of (h) not measured now are kept from it).
   */
  constructor({ quick, log, keep = false, large = false, outDir = REPO_ROOT, shapes = [], scaleSizes = [], previous }) {
    this.quick = quick;
    this.large = large;
    /** Where the report and its figures go. */
    this.outDir = outDir;
    /** Tree sizes (files) of the scaling benchmark: 1M only with `--large` (a first sync of a million files takes hours). */
    this.scaleSizes = scaleSizes.length ? scaleSizes : quick ? [10_000] : large ? [10_000, 100_000, 1_000_000] : [10_000, 100_000];
    /** Tree shapes of the scaling benchmark (all when empty). */
    this.scaleShapes = shapes;
    /** Whether (h) measures only some of its cells (the others are kept from the results file). */
    this.scalePartial = shapes.length > 0 || scaleSizes.length > 0;
    this.previous = previous?.quick === quick ? previous : undefined;
    this.log = log;
    this.keep = keep;
    this.node = process.execPath;
    this.cli = CLI;
    this.repoRoot = REPO_ROOT;
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lanying-kb-bench-'));
    /** Tree sizes (files) of the scan benchmarks. */
    this.sizes = quick ? [10_000] : [10_000, 100_000];
    /** Interleaved measured runs per command (after one warm-up round). */
    this.runs = quick ? 3 : 5;
    this.#trees = new Map();
    this.#synced = new Map();
    this.#sandboxes = [];
  }

  #trees;
  #synced;
  #sandboxes;
  #sharedSandbox;

  /** A folder under the temporary root. */
  dir(name) {
    const p = path.join(this.tmp, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  }

  /** A generated tree of `files` files (100 per folder), made once per run. */
  tree(files) {
    let tree = this.#trees.get(files);
    if (!tree) {
      this.log(`generating a tree of ${files.toLocaleString('en')} files ...`);
      tree = generateTree(path.join(this.tmp, `tree-${files}`), { folders: Math.ceil(files / 100), perFolder: Math.min(100, files), seed: files });
      this.log(`  ${(tree.bytes / 1e6).toFixed(1)} MB in ${tree.ms} ms`);
      this.#trees.set(files, tree);
    }
    return tree;
  }

  /** A generated tree of one of the shapes of `SHAPES` (scripts/bench/lib/tree.mjs), made once per run. */
  shapedTree(shape, files, largeFiles) {
    const id = `${shape}-${files}`;
    let tree = this.#trees.get(id);
    if (!tree) {
      this.log(`generating a ${shape} tree of ${files.toLocaleString('en')} files ...`);
      tree = generateShapedTree(path.join(this.tmp, `shape-${id}`), { shape, files, seed: files + shape.length, largeFiles });
      this.log(`  ${(tree.bytes / 1e6).toFixed(1)} MB in ${tree.folders.toLocaleString('en')} folders, ${tree.ms} ms`);
      this.#trees.set(id, tree);
    }
    return tree;
  }

  /** Removes a shaped tree (room on the disk for the next one). */
  dropShapedTree(shape, files) {
    const id = `${shape}-${files}`;
    const tree = this.#trees.get(id);
    if (tree && !this.keep) fs.rmSync(tree.root, { recursive: true, force: true });
    this.#trees.delete(id);
  }

  /**
   * rclone: found on PATH, or installed from the distribution's packages (`apt-get install -y rclone`) when this runs
   * as root on a system with apt-get. Returns `{ path, version, how }`, or `{ path: undefined, reason }`.
   */
  rclone() {
    if (this.#rclone) return this.#rclone;
    const find = () => spawnSync('sh', ['-c', 'command -v rclone'], { encoding: 'utf8' }).stdout.trim() || undefined;
    let found = find();
    let how = 'found on PATH';
    let reason = 'not on PATH';
    if (!found && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0) {
      this.log('rclone is not on PATH: apt-get install -y rclone ...');
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      let install = spawnSync('apt-get', ['install', '-y', 'rclone'], { encoding: 'utf8', env });
      if (install.status !== 0) {
        spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
        install = spawnSync('apt-get', ['install', '-y', 'rclone'], { encoding: 'utf8', env });
      }
      found = find();
      how = 'installed by the bench with apt-get';
      if (!found) reason = `apt-get install rclone failed: ${(install.stderr || install.stdout || '').trim().split('\n').pop()}`;
    } else if (!found) {
      reason = 'not on PATH, and the bench is not root with apt-get to install it';
    }
    if (!found) {
      this.log(`rclone: not installed (${reason}); its rows say so`);
      return (this.#rclone = { path: undefined, reason });
    }
    let version = 'rclone';
    try {
      version = execFileSync(found, ['version'], { encoding: 'utf8' }).split('\n')[0].trim();
    } catch {
      // the version stays unknown
    }
    this.log(`rclone: ${version} (${how})`);
    return (this.#rclone = { path: found, version, how });
  }

  #rclone;

  /** Starts a sandbox in its own process; stopped by `close()`. */
  async startSandbox() {
    const sandbox = await startSandboxProcess({ cli: this.cli, cwd: this.tmp });
    this.#sandboxes.push(sandbox);
    return sandbox;
  }

  /** The sandbox without faults that the first syncs and the no-op re-syncs talk to. */
  async sharedSandbox() {
    this.#sharedSandbox ??= await this.startSandbox();
    return this.#sharedSandbox;
  }

  /**
   * Writes a config file for a folder source and returns its path.
   * `daemon`: the config's `daemon` section (for `lanying-kb watch`), left out when not given.
   * @param {{ name: string, sandbox: { config: object }, folder: string, stateDir: string, sync?: object, api?: object, daemon?: object }} spec
   */
  writeConfig({ name, sandbox, folder, stateDir, sync = {}, api = {}, daemon }) {
    const config = {
      api: { ...sandbox.config.api, ...api },
      knowledgeBase: sandbox.config.knowledgeBase,
      sources: [{ type: 'folder', name: 'docs', path: folder }],
      sync: { stateDir, ...sync },
      ...(daemon ? { daemon } : {}),
    };
    const file = path.join(this.dir('configs'), `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  }

  /**
   * The state of a first full sync of the `files` tree, made once: the CLI against the shared sandbox (no added
   * latency), `sync.concurrency` 64, `--no-wait`, its documents then marked confirmed. Returns the config to re-sync
   * with, its state folder and what the first sync cost.
   */
  async syncedState(files) {
    let synced = this.#synced.get(files);
    if (synced) return synced;
    const tree = this.tree(files);
    const sandbox = await this.sharedSandbox();
    const stateDir = path.join(this.tmp, `state-${files}`);
    const config = this.writeConfig({ name: `synced-${files}`, sandbox, folder: tree.root, stateDir, sync: { concurrency: 64 } });
    this.log(`first full sync of ${files.toLocaleString('en')} files to the sandbox (concurrency 64, no added latency) ...`);
    const out = path.join(this.tmp, `first-sync-${files}.json`);
    const errFile = path.join(this.tmp, `first-sync-${files}.err`);
    // Without waiting for the chatbot's confirmations; the state is then marked confirmed (see settled-state.mjs).
    const r = await measure(this.node, [this.cli, 'sync', '--no-wait', '--config', config, '--json'], { stdout: out, stderr: errFile, timeoutMs: 30 * 60_000 });
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    fs.rmSync(out);
    if (report.counts.sent !== tree.files || report.outcome !== 'ok') {
      throw new Error(`the first sync of ${files} files sent ${report.counts.sent} (outcome ${report.outcome}, ${report.counts.failed} failed)`);
    }
    markConfirmed(stateDir);
    synced = {
      config,
      tree,
      stateDir,
      firstSync: {
        files: tree.files,
        bytes: tree.bytes,
        concurrency: 64,
        wallMs: Math.round(r.wallMs),
        engineMs: report.durationMs,
        docsPerSecond: Math.round((tree.files / r.wallMs) * 1000),
        maxRssKb: r.maxRssKb,
        cpuMs: Math.round((r.userMs ?? 0) + (r.sysMs ?? 0)),
      },
    };
    this.log(`  ${synced.firstSync.wallMs} ms, ${synced.firstSync.docsPerSecond} documents/s, peak RSS ${Math.round(r.maxRssKb / 1024)} MiB`);
    this.#synced.set(files, synced);
    return synced;
  }

  /** Stops the sandboxes and removes the temporary folder. */
  async close() {
    await Promise.allSettled(this.#sandboxes.map((s) => s.stop()));
    this.#sandboxes = [];
    if (!this.keep) fs.rmSync(this.tmp, { recursive: true, force: true });
    else this.log(`kept ${this.tmp}`);
  }
}
