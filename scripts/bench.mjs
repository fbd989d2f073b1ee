#!/usr/bin/env node
/**
 * `npm run bench`: the sync benchmarks of lanying-kb (see docs/BENCHMARKS.md for what they measure).
 *
 *   node scripts/bench.mjs [--quick] [--large] [--only a,b,...] [--shapes LIST] [--sizes LIST] [--out DIR] [--keep]
 *
 *   --quick        smoke run: 10k files only, fewer repetitions; writes to bench-out/ unless --out is given
 *   --large        the scaling benchmark (h) also at 1M files per tree shape (hours: first syncs of a million files;
 *                  not for CI)
 *   --only LIST    run these benchmarks only (letters or ids: a/noop, b/hash, c/send, d/memory, e/daemon-latency,
 *                  f/daemon-idle-cpu, g/daemon-rss, h/scaling); results of the others already in DIR/benchmarks.json are kept,
 *                  each with the date and commit it was measured at (a quick run never writes over a full one)
 *   --shapes LIST  (h) on these tree shapes only (flat, nested, one-folder)
 *   --sizes LIST   (h) at these sizes only (files: 10k, 100k, 1M or numbers). With --shapes or --sizes, the cells of
 *                  (h) measured now replace the same shape and size in DIR/benchmarks.json and the others are kept,
 *                  each with its own commit and date: the million-file rows can be run one shape at a time
 *   --out DIR      where benchmarks.json and BENCHMARKS.md go (default docs/, or bench-out/ with --quick)
 *   --keep         keep the temporary folder (generated trees, configs, profiles) for inspection
 *
 * Imports the built code from dist/ (`npm run bench` builds first). Generated trees live in a temporary
 * folder that is removed at the end; sandboxes run as separate processes and are stopped at the end.
 *
 * Exit status: 0 when every goal measured was met, 3 when a goal was missed (listed at the end, loudly), 1 when a
 * benchmark failed to run. rclone (for (h)) is installed with apt-get when missing and this runs as root.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchContext, REPO_ROOT } from './bench/context.mjs';
import { describeMachine } from './bench/lib/machine.mjs';
import { round } from './bench/lib/stats.mjs';
import { selectBenchmarks } from './bench/registry.mjs';
import { renderReport } from './bench/report.mjs';

function parseArgs(argv) {
  const args = { quick: false, large: false, only: [], shapes: [], sizes: [], out: undefined, keep: false };
  const list = (a, i) => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--large') args.large = true;
    else if (a === '--keep') args.keep = true;
    else if (a === '--only' || a.startsWith('--only=')) args.only.push(...list(a, a.includes('=') ? i : ++i));
    else if (a === '--shapes' || a.startsWith('--shapes=')) args.shapes.push(...list(a, a.includes('=') ? i : ++i));
    else if (a === '--sizes' || a.startsWith('--sizes=')) args.sizes.push(...list(a, a.includes('=') ? i : ++i).map(parseSize));
    else if (a === '--out' || a.startsWith('--out=')) args.out = a.includes('=') ? a.slice(6) : argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/bench.mjs [--quick] [--large] [--only a,b,c,d,e,f,g,h] [--shapes flat,nested,one-folder] [--sizes 10k,100k,1M] [--out DIR] [--keep]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** `10k`, `1M` or a number of files. */
function parseSize(text) {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (!m) throw new Error(`--sizes: ${text} is not a number of files (10k, 100k, 1M or a number)`);
  return Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1_000 : 1_000_000);
}

const args = parseArgs(process.argv.slice(2));
const benchmarks = selectBenchmarks(args.only);
if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'bundle', 'lanying-kb.js'))) throw new Error('dist/ is missing: run `npm run build` (or `npm run bench`)');
const outDir = path.resolve(REPO_ROOT, args.out ?? (args.quick ? 'bench-out' : 'docs'));
fs.mkdirSync(outDir, { recursive: true });
const jsonFile = path.join(outDir, 'benchmarks.json');
const mdFile = path.join(outDir, 'BENCHMARKS.md');

// Results of benchmarks not run now are kept from the file already there (when it is of the same kind of run), so
// a partial run (`--only`) never erases results. A quick run does not write over a full run's file.
function readResults() {
  try {
    return JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch {
    return undefined;
  }
}
function refuseQuickOverFull(existing) {
  if (existing && existing.quick === false && args.quick) {
    console.error(`${path.relative(REPO_ROOT, jsonFile)} holds the results of a full run; a --quick run would replace them: give --out DIR`);
    process.exit(2);
  }
}
/** The results file as it was before this run (the cells of (h) not measured now are kept from it). */
const previous = readResults();
refuseQuickOverFull(previous);

const started = performance.now();
const log = (line) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}`);
const ctx = new BenchContext({ quick: args.quick, large: args.large, log, keep: args.keep, outDir, shapes: args.shapes, scaleSizes: args.sizes, previous });

let closing;
const close = () => (closing ??= ctx.close());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the sandboxes and removing ${ctx.tmp} ...`);
    close().finally(() => process.exit(130));
  });
}

const machine = describeMachine(REPO_ROOT, ctx.tmp);
/** The commit measured (each cell of (h) carries it: a partial run keeps cells of other commits). */
ctx.commit = machine.commit;
log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}; temporary folder ${ctx.tmp}`);
log(`running ${benchmarks.map((b) => `(${b.letter}) ${b.id}`).join(', ')}${args.quick ? ' (quick)' : ''}`);

/** This run's results (merged into the file's at the end). */
const fresh = {};
let failed = 0;
/** Goals this run missed: listed at the end, and the exit status says so. */
const missed = [];
try {
  for (const b of benchmarks) {
    const t0 = performance.now();
    const loadBefore = os.loadavg()[0];
    log(`── (${b.letter}) ${b.title} (load average ${loadBefore.toFixed(2)})`);
    try {
      const r = await b.run(ctx);
      const load = { before: round(loadBefore, 2), after: round(os.loadavg()[0], 2) };
      fresh[b.id] = { title: b.title, goal: b.goal, measuredAt: new Date().toISOString(), commit: machine.commit, durationMs: Math.round(performance.now() - t0), loadAverage: load, ...r };
      log(`   (${b.letter}) done in ${((performance.now() - t0) / 1000).toFixed(0)} s: goal ${r.met ? 'met' : r.met === false ? 'MISSED' : 'n/a'}`);
      if (r.met === false) missed.push(`(${b.letter}) ${b.title}: ${r.why ?? b.goal}`);
    } catch (error) {
      failed++;
      fresh[b.id] = { title: b.title, goal: b.goal, measuredAt: new Date().toISOString(), commit: machine.commit, error: error instanceof Error ? error.message : String(error) };
      log(`   (${b.letter}) FAILED: ${error instanceof Error ? error.stack : error}`);
    }
  }
} finally {
  await close();
}

// Merged with the file as it is now (read again: another run may have written it meanwhile).
const existing = readResults();
refuseQuickOverFull(existing);
const results = {};
if (existing && existing.quick === args.quick) {
  for (const [id, r] of Object.entries(existing.results ?? {})) {
    // Results from before each one carried its commit were measured at that file's commit.
    results[id] = { ...r, commit: r.commit ?? existing.machine?.commit };
  }
}
for (const [id, r] of Object.entries(fresh)) {
  const { error, measuredAt, commit } = r;
  // A failed run does not erase an earlier result: the result stays, with the failure noted.
  results[id] = error && results[id] && !results[id].error ? { ...results[id], laterFailure: { measuredAt, commit, error } } : r;
}
const data = {
  // Notes and side-by-side comparisons of builds are kept from the file (see scripts/bench/compare-builds.mjs).
  ...(existing?.notes ? { notes: existing.notes } : {}),
  ...(existing?.history ? { history: existing.history } : {}),
  generatedBy: 'scripts/bench.mjs',
  quick: args.quick,
  machine,
  durationMs: Math.round(performance.now() - started),
  options: { only: args.only, runs: ctx.runs, sizes: ctx.sizes, large: args.large, scaleSizes: ctx.scaleSizes, ...(args.shapes.length ? { shapes: args.shapes } : {}) },
  results,
};
fs.writeFileSync(jsonFile, `${JSON.stringify(data, null, 2)}\n`);
fs.writeFileSync(mdFile, renderReport(data));
log(`wrote ${path.relative(REPO_ROOT, mdFile)} and ${path.relative(REPO_ROOT, jsonFile)} in ${(data.durationMs / 1000).toFixed(0)} s`);
if (missed.length) {
  console.error(`\n${'!'.repeat(78)}\nGOALS MISSED (${missed.length}), at commit ${machine.commit}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}:`);
  for (const line of missed) console.error(`  - ${line}`);
  console.error('!'.repeat(78));
}
process.exitCode = failed ? 1 : missed.length ? 3 : 0;
