/**
 * The benchmarks `npm run bench` knows, in the order they run. Each module exports a default object:
 *
 *   { id, letter, title, goal, run(ctx) }
 *
 * where `run(ctx: BenchContext)` returns { summary: { head, rows }, met: boolean | null, sections?: [{ title?,
 * text?, table?: { head, rows } }], why?: string, raw: {...} }. The report generator (report.mjs) prints any such
 * result without knowing the benchmark, so a new benchmark is one module plus one line here.
 *
 * An entry with `planned: true` and no module is listed in the report as not measured yet.
 */
import noop from './sync-noop.mjs';
import hash from './sync-hash.mjs';
import send from './send-latency.mjs';
import memory from './memory.mjs';
import daemonLatency from './daemon-latency.mjs';
import daemonIdleCpu from './daemon-idle-cpu.mjs';
import daemonRss from './daemon-rss.mjs';
import lifecycle from './lifecycle.mjs';

export const BENCHMARKS = [
  noop,
  hash,
  send,
  memory,
  // The daemon: (f) and (g) share one run of `lanying-kb watch` (scripts/bench/lib/daemon-idle.mjs).
  daemonLatency,
  daemonIdleCpu,
  daemonRss,
  lifecycle,
];

/** Picks benchmarks by id or letter (`--only a,hash`); all runnable ones when `only` is empty. */
export function selectBenchmarks(only) {
  const runnable = BENCHMARKS.filter((b) => !b.planned);
  if (!only || only.length === 0) return runnable;
  const chosen = [];
  for (const name of only) {
    const b = BENCHMARKS.find((x) => x.id === name || x.letter === name);
    if (!b) throw new Error(`unknown benchmark "${name}" (known: ${BENCHMARKS.map((x) => `${x.letter}/${x.id}`).join(', ')})`);
    if (b.planned) throw new Error(`benchmark "${name}" is planned but not written yet`);
    if (!chosen.includes(b)) chosen.push(b);
  }
  return BENCHMARKS.filter((b) => chosen.includes(b));
}
