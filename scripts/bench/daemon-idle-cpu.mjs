/**
 * (f) The daemon's CPU time while idle: `lanying-kb watch` on the 100k-file tree (10k with --quick), after a first
 * sync recorded it, measured from the first 200 of `/readyz` for 60 s (10 s with --quick) in which nothing changes:
 * user + system time of all its threads from /proc/<pid>/stat. Side by side over a window of the same length:
 * reference processes doing parts of the daemon's work (see probe-watch.mjs). The run is shared with (g).
 */
import { cpuSlices, idleDaemonRun } from './lib/daemon-idle.mjs';
import { CLK_TCK } from './lib/daemon-process.mjs';
import { round } from './lib/stats.mjs';
import { fmtMs, metCell } from './lib/format.mjs';

/** "About zero": at most this share of one core over the window. */
const GOAL_PCT = 0.1;

export default {
  id: 'daemon-idle-cpu',
  letter: 'f',
  title: 'Daemon: idle CPU while watching 100k files',
  goal: `about zero: at most ${GOAL_PCT} % of one core (${(GOAL_PCT / 100) * 60_000} ms of CPU time in 60 s) after readiness, with 100k files watched and nothing changing`,
  async run(ctx) {
    const run = await idleDaemonRun(ctx);
    return render(run, ctx.quick);
  },
};

export const REFERENCE_NAMES = {
  idle: '`node` doing nothing (a timer keeps it alive)',
  metrics: "the daemon's Prometheus metrics alone (`createMetrics`, default process metrics included)",
  chokidar: "chokidar 5 on the same tree with the daemon's options (a watch per file and per folder; the daemon's watcher on Linux before src/daemon/folder-watcher.ts)",
  folders: '`fs.watch` on every folder, none on files (what src/daemon/folder-watcher.ts does, alone)',
};

const pctOf = (cpuMs, windowMs) => (100 * cpuMs) / windowMs;
const perMinute = (cpuMs, windowMs) => (cpuMs * 60_000) / windowMs;

function render(run, quick) {
  const { window, files } = run;
  const pct = pctOf(window.cpuMs, window.windowMs);
  const met = run.fallback === null && pct <= GOAL_PCT;
  const quickNote = files === 100_000 ? '' : ' (goal is for 100k)';
  const label = `\`lanying-kb watch\`, ${files.toLocaleString('en')} files (${run.folders.toLocaleString('en')} folders)`;
  const summary = {
    head: ['process', `CPU time over ${fmtMs(window.windowMs)}`, 'share of one core', 'goal', 'met?'],
    rows: [
      [label, fmtMs(window.cpuMs), `${pct.toFixed(3)} %`, `≤ ${GOAL_PCT} %${quickNote}`, metCell(met)],
      ...Object.entries(run.references).map(([mode, r]) => [
        `reference: ${REFERENCE_NAMES[mode]}`,
        fmtMs(r.window.cpuMs),
        `${pctOf(r.window.cpuMs, r.window.windowMs).toFixed(3)} %`,
        '—',
        '—',
      ]),
    ],
  };
  const slices = cpuSlices(window, window.windowMs >= 30_000 ? 10_000 : 2_000);
  const sections = [
    {
      title: 'How it was measured',
      text:
        `The real CLI (\`lanying-kb watch --config F\`, JSON logs to a file) on the generated tree of ${files.toLocaleString('en')} files, whose state a first ` +
        `\`lanying-kb sync\` recorded, so the daemon's first reconcile sent nothing. It was ready (\`/readyz\` 200) ${fmtMs(run.readyMs)} after spawn: ` +
        `${fmtMs(run.watchersMs)} until its watcher had read the tree, then ${fmtMs(run.firstReconcileMs)} for the first reconcile. From that moment nothing ` +
        `touched it for ${fmtMs(window.windowMs)} (no file changed, no request to its ops server) while the benchmark read /proc/<pid>/stat (user + system time of ` +
        `all threads, in ${1000 / CLK_TCK} ms clock ticks) every second. It held ${run.atReady.inotifyWatches?.toLocaleString('en') ?? 'an unknown number of'} inotify watches; its watcher ` +
        `state was \`${run.watcherState}\`${run.fallback ? ` (it fell back to polling: ${run.fallback.code}, ${run.fallback.reason})` : ''}. ` +
        'The reference processes ran afterwards, side by side, over a window of the same length from their own readiness (scripts/bench/probe-watch.mjs).' +
        (quick ? ' Quick run: the smaller tree and a shorter window.' : ''),
    },
    {
      title: 'CPU time of the daemon per slice of the window',
      table: {
        head: ['from', 'to', 'CPU time', 'RSS at the end'],
        rows: slices.map((s) => [`${(s.from / 1000).toFixed(0)} s`, `${(s.to / 1000).toFixed(0)} s`, fmtMs(s.cpuMs), `${Math.round((s.rssKbAtEnd * 1024) / 1e6)} MB`]),
      },
    },
  ];
  const raw = { ...pick(run), cpuPct: round(pct, 4), goalPct: GOAL_PCT, slices };
  const result = { summary, met, sections, raw };
  if (!met) result.why = why(run, pct, slices);
  return result;
}

/** What of the shared run (f) keeps in its raw numbers. */
function pick(run) {
  return {
    files: run.files,
    folders: run.folders,
    windowMs: run.window.windowMs,
    cpuMs: run.window.cpuMs,
    readyMs: run.readyMs,
    watchersMs: run.watchersMs,
    firstReconcileMs: run.firstReconcileMs,
    inotifyWatches: run.atReady.inotifyWatches,
    watcherState: run.watcherState,
    fallback: run.fallback,
    clockTickMs: 1000 / CLK_TCK,
    samples: run.window.samples.map((s) => ({ t: s.t, cpuMs: s.cpuMs })),
    references: Object.fromEntries(Object.entries(run.references).map(([mode, r]) => [mode, { cpuMs: r.window.cpuMs, windowMs: r.window.windowMs, readyMs: r.ready.readyMs }])),
  };
}

function why(run, pct, slices) {
  const { window } = run;
  const parts = [];
  if (run.fallback) parts.push(`The watcher fell back to polling (${run.fallback.code}): it stats every watched path every 2 s, which is not idle.`);
  parts.push(`Over the ${fmtMs(window.windowMs)} after readiness the daemon used ${fmtMs(window.cpuMs)} of CPU (${pct.toFixed(3)} % of one core; goal ${GOAL_PCT} %, ${fmtMs((GOAL_PCT / 100) * window.windowMs)}).`);
  // The slice in which the RSS fell the most: a full garbage collection that gave the start-up's memory back.
  const drops = slices.map((s, i) => ({ i, s, dropKb: (i === 0 ? window.samples[0].rssKb : slices[i - 1].rssKbAtEnd) - s.rssKbAtEnd }));
  const drop = drops.sort((a, b) => b.dropKb - a.dropKb)[0];
  const sum = (list) => list.reduce((total, s) => total + s.cpuMs, 0);
  if (drop && mbOf(drop.dropKb) > 20) {
    const before = slices.slice(0, drop.i);
    const msBefore = before.length ? before[before.length - 1].to - before[0].from : 0;
    const cpuBefore = sum(before);
    const cpuFrom = sum(slices.slice(drop.i));
    parts.push(
      `In the ${(drop.s.from / 1000).toFixed(0)}–${(drop.s.to / 1000).toFixed(0)} s slice the RSS fell by ${mbOf(drop.dropKb)} MB: a full garbage collection, which V8 runs on its own once ` +
        "a process has gone quiet (its memory reducer), gave back the start-up's garbage (the first reconcile's records, see (g)). From that slice to the end of the window " +
        `the daemon used ${fmtMs(cpuFrom)}, the collection and its sweeping included.` +
        (msBefore > 0
          ? ` Before it, idle but not yet collected, it used ${fmtMs(cpuBefore)} in ${fmtMs(msBefore)} (${fmtMs(perMinute(cpuBefore, msBefore))} per minute, ${pctOf(cpuBefore, msBefore).toFixed(3)} % of one core` +
            `${pctOf(cpuBefore, msBefore) <= GOAL_PCT ? ': within the goal' : ': above the goal too'}).`
          : ''),
    );
  } else {
    parts.push(`No slice stands out: ${fmtMs(perMinute(window.cpuMs, window.windowMs))} per minute.`);
  }
  const metrics = run.references.metrics;
  if (metrics) {
    parts.push(
      `Side by side, the daemon's metrics alone take ${fmtMs(perMinute(metrics.window.cpuMs, metrics.window.windowMs))} per minute (prom-client's event-loop-delay histogram samples with a timer, ` +
        `every 100 ms since src/daemon/metrics.ts sets it; prom-client's default of 10 ms cost about five times as much), and a Node process doing nothing takes ${fmtMs(perMinute(run.references.idle?.window.cpuMs ?? 0, window.windowMs))}.`,
    );
  }
  return parts.join(' ');
}

const mbOf = (kb) => Math.round((kb * 1024) / 1e6);
