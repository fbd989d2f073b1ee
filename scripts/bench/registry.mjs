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

export const BENCHMARKS = [
  noop,
  hash,
  send,
  memory,
  // Daemon benchmarks (to be added as modules like the ones above):
  {
    id: 'daemon-latency',
    letter: 'e',
    planned: true,
    title: 'Daemon: latency from the last write to the message reaching the sandbox',
    goal: 'over 200 edits (not measured yet)',
  },
  { id: 'daemon-idle-cpu', letter: 'f', planned: true, title: 'Daemon: idle CPU while watching 100k files', goal: 'not measured yet' },
  { id: 'daemon-rss', letter: 'g', planned: true, title: 'Daemon: RSS while watching 100k files', goal: 'not measured yet' },
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
