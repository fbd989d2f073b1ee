#!/usr/bin/env node
/**
 * Before and after: the same sync commands of several builds of lanying-kb, side by side in one run on the same tree
 * (the classic bench tree of (a) and (b): folders of 100 small .md/.txt files), so that the ratios between builds hold
 * on a busy machine too. For each build: a first sync against a fresh sandbox (peak RSS and RSS over the run), then
 * the no-op re-sync and the dry run on a fresh state, interleaved with the other builds, `find` and `sha256sum`.
 *
 *   node scripts/bench/compare-builds.mjs --builds bf477d0=/path/to/checkout,HEAD=. [--files 100000] [--runs 5]
 *     [--into docs/benchmarks.json]
 *
 * Each build directory must hold a built `dist/` (and its node_modules). `--into` records the result in that
 * benchmarks.json (`history`), which BENCHMARKS.md shows; otherwise it prints the table.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeMachine } from './lib/machine.mjs';
import { interleave, measure } from './lib/proc.mjs';
import { startSandboxProcess } from './lib/sandbox-process.mjs';
import { round } from './lib/stats.mjs';
import { fmtMs, kb2mib } from './lib/format.mjs';
import { markConfirmed } from './lib/settled-state.mjs';
import { generateTree } from './lib/tree.mjs';
import { REPO_ROOT } from './context.mjs';
import { renderReport } from './report.mjs';

const args = { builds: [], files: 100_000, runs: 5, into: undefined };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--builds') args.builds = argv[++i].split(',').map((b) => b.split('='));
  else if (a === '--files') args.files = Number(argv[++i]);
  else if (a === '--runs') args.runs = Number(argv[++i]);
  else if (a === '--into') args.into = path.resolve(argv[++i]);
  else throw new Error(`unknown argument ${a}`);
}
if (args.builds.length === 0) throw new Error('--builds name=DIR,... is required');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lanying-kb-compare-'));
const log = (line) => console.log(`[compare] ${line}`);
// The bundled CLI where the build has one (from scripts/bundle-cli.mjs), the modules of tsc in older builds.
const cli = (dir) => [path.join('dist', 'cli', 'bundle', 'lanying-kb.js'), path.join('dist', 'cli', 'main.js')].map((f) => path.join(path.resolve(dir), f)).find((f) => fs.existsSync(f));
const loads = [os.loadavg()[0]];
try {
  log(`tree of ${args.files.toLocaleString('en')} files ...`);
  const tree = generateTree(path.join(tmp, 'tree'), { folders: Math.ceil(args.files / 100), perFolder: Math.min(100, args.files), seed: args.files });
  const rows = {};
  const configs = {};
  for (const [name, dir] of args.builds) {
    const sandbox = await startSandboxProcess({ cli: cli(args.builds.at(-1)[1]), cwd: tmp });
    const conf = (id, stateDir, sync = {}) => {
      const file = path.join(tmp, `${name}-${id}.json`);
      fs.writeFileSync(file, JSON.stringify({ api: sandbox.config.api, knowledgeBase: sandbox.config.knowledgeBase, sources: [{ type: 'folder', name: 'docs', path: tree.root }], sync: { stateDir, ...sync } }));
      return file;
    };
    configs[name] = { synced: conf('synced', path.join(tmp, `state-${name}`), { concurrency: 64 }), fresh: conf('fresh', path.join(tmp, `none-${name}`)) };
    log(`${name}: first sync (CLI --json, concurrency 64) ...`);
    const out = path.join(tmp, `first-${name}.json`);
    // Builds that follow the chatbot's confirmations sync without waiting for them; their state is then marked
    // confirmed (see lib/settled-state.mjs), so that every build's no-op starts from a settled state.
    const follows = execFileSync(process.execPath, [cli(dir), 'sync', '--help'], { encoding: 'utf8' }).includes('--no-wait');
    const first = await measure(process.execPath, [cli(dir), 'sync', ...(follows ? ['--no-wait'] : []), '--config', configs[name].synced, '--json'], { stdout: out, stderr: `${out}.err`, timeoutMs: 4 * 3600_000, sampleRssMs: 500 });
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    await sandbox.stop();
    if (report.counts.sent !== tree.files) throw new Error(`${name}: the first sync sent ${report.counts.sent} of ${tree.files}`);
    if (follows) markConfirmed(path.join(tmp, `state-${name}`));
    rows[name] = { firstSync: { wallMs: round(first.wallMs), maxRssKb: first.maxRssKb, cpuMs: round((first.userMs ?? 0) + (first.sysMs ?? 0)), load: round(os.loadavg()[0], 2) } };
    log(`  ${fmtMs(first.wallMs)}, peak RSS ${kb2mib(first.maxRssKb)} MiB`);
  }
  loads.push(os.loadavg()[0]);
  log(`no-op re-syncs and dry runs, interleaved (${args.runs} runs) ...`);
  const noop = await interleave(
    [...args.builds.map(([name, dir]) => ({ name, cmd: process.execPath, args: [cli(dir), 'sync', '--config', configs[name].synced, '--json'] })), { name: 'find', cmd: 'find', args: [tree.root, '-type', 'f', '-printf', '%s %T@\n'] }],
    { runs: args.runs, warmup: 1 },
  );
  loads.push(os.loadavg()[0]);
  const dry = await interleave(
    [
      ...args.builds.map(([name, dir]) => ({ name, cmd: process.execPath, args: [cli(dir), 'sync', '--config', configs[name].fresh, '--dry-run', '--json'] })),
      { name: 'sha256sum', cmd: 'sh', args: ['-c', `find '${tree.root}' -type f -print0 | xargs -0 sha256sum > /dev/null`] },
    ],
    { runs: args.runs, warmup: 1 },
  );
  loads.push(os.loadavg()[0]);
  for (const [name] of args.builds) Object.assign(rows[name], { noop: noop[name], dryRun: dry[name] });
  const machine = describeMachine(REPO_ROOT, tmp);
  const ref = args.builds[0][0];
  const rel = (name, get) => (name === ref ? '1.00x' : `${(get(rows[name]) / get(rows[ref])).toFixed(2)}x`);
  const table = {
    head: ['build', 'no-op (median / min)', 'vs find', 'dry run (median / min)', 'vs sha256sum', 'first sync', 'peak RSS: no-op / dry run / first sync', 'CPU no-op / dry run', `no-op, dry run, first sync vs ${ref}`],
    rows: args.builds.map(([name]) => {
      const r = rows[name];
      return [
        name,
        `${fmtMs(r.noop.wallMs.median)} / ${fmtMs(r.noop.wallMs.min)}`,
        `${(r.noop.wallMs.median / noop.find.wallMs.median).toFixed(2)}x`,
        `${fmtMs(r.dryRun.wallMs.median)} / ${fmtMs(r.dryRun.wallMs.min)}`,
        `${(r.dryRun.wallMs.median / dry.sha256sum.wallMs.median).toFixed(2)}x`,
        fmtMs(r.firstSync.wallMs),
        `${kb2mib(r.noop.maxRssKb)} / ${kb2mib(r.dryRun.maxRssKb)} / ${kb2mib(r.firstSync.maxRssKb)} MiB`,
        `${fmtMs(r.noop.cpuMs.median)} / ${fmtMs(r.dryRun.cpuMs.median)}`,
        `${rel(name, (x) => x.noop.wallMs.median)}, ${rel(name, (x) => x.dryRun.wallMs.median)}, ${rel(name, (x) => x.firstSync.wallMs)}`,
      ];
    }),
  };
  const entry = {
    id: 'compare-builds',
    title: `Before and after, side by side: ${args.builds.map(([n]) => n).join(' vs ')} at ${args.files.toLocaleString('en')} files`,
    measuredAt: new Date().toISOString(),
    machine: { commit: machine.commit, cores: machine.cores, node: machine.node },
    loadAverage: loads.map((l) => round(l, 2)),
    text:
      `scripts/bench/compare-builds.mjs: the classic bench tree (folders of 100 small .md/.txt files), each build's CLI, the no-op and the dry run interleaved across builds (${args.runs} runs after a warm-up), ` +
      `the first sync of each build against a fresh sandbox process (concurrency 64). One-minute load average ${loads.map((l) => l.toFixed(2)).join(' → ')} over the run (2 cores, shared): compare the builds with each other and with find and sha256sum measured alongside, not with runs on a quiet machine.`,
    table,
    raw: { rows, find: noop.find, sha256sum: dry.sha256sum, files: tree.files, bytes: tree.bytes },
  };
  if (args.into) {
    const data = JSON.parse(fs.readFileSync(args.into, 'utf8'));
    data.history = [...(data.history ?? []).filter((h) => h.title !== entry.title), entry];
    fs.writeFileSync(args.into, `${JSON.stringify(data, null, 2)}\n`);
    fs.writeFileSync(path.join(path.dirname(args.into), 'BENCHMARKS.md'), renderReport(data));
    log(`recorded in ${args.into} and BENCHMARKS.md beside it`);
  }
  console.log(JSON.stringify(table, null, 1));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
