/**
 * (g) The daemon's memory while watching: `lanying-kb watch` on the 100k-file tree (10k with --quick), sampled from
 * /proc/<pid>/status every second over the idle window after readiness (the run of (f)): the steady RSS (median
 * of the window's second half), the largest sample, and VmHWM (the peak since start, start-up included). Side by
 * side: the same reference processes as (f), and the daemon's heap after a forced garbage collection.
 */
import { idleDaemonRun, maxRssKb, steadyRssKb } from './lib/daemon-idle.mjs';
import { REFERENCE_NAMES } from './daemon-idle-cpu.mjs';
import { fmtMs, metCell } from './lib/format.mjs';

const GOAL_MB = 250;

export default {
  id: 'daemon-rss',
  letter: 'g',
  title: 'Daemon: RSS while watching 100k files',
  goal: `at most ${GOAL_MB} MB of RSS while watching 100k files (every VmRSS sample of the idle window after readiness)`,
  async run(ctx) {
    const run = await idleDaemonRun(ctx);
    return render(run, ctx.quick);
  },
};

/** kB (KiB, as /proc says) to MB (10^6 bytes). */
const mb = (kb) => Math.round((kb * 1024) / 1e6);

function render(run, quick) {
  const { window, files } = run;
  const steady = steadyRssKb(window);
  const max = maxRssKb(window);
  const met = mb(max) <= GOAL_MB;
  const quickNote = files === 100_000 ? '' : ' (goal is for 100k)';
  const summary = {
    head: ['process', 'steady RSS', 'largest RSS sample', 'VmHWM (peak since start)', 'inotify watches', 'goal', 'met?'],
    rows: [
      [
        `\`lanying-kb watch\`, ${files.toLocaleString('en')} files (${run.folders.toLocaleString('en')} folders)`,
        `${mb(steady)} MB`,
        `${mb(max)} MB`,
        `${mb(window.end.hwmKb)} MB`,
        run.atReady.inotifyWatches?.toLocaleString('en') ?? '?',
        `≤ ${GOAL_MB} MB${quickNote}`,
        metCell(met),
      ],
      ...Object.entries(run.references).map(([mode, r]) => [
        `reference: ${REFERENCE_NAMES[mode]}`,
        `${mb(steadyRssKb(r.window))} MB`,
        `${mb(maxRssKb(r.window))} MB`,
        `${mb(r.window.end.hwmKb)} MB`,
        r.atReady.inotifyWatches?.toLocaleString('en') ?? '?',
        '—',
        '—',
      ]),
    ],
  };
  const heap = run.daemonHeap.afterGc;
  const refs = run.references;
  const sections = [
    {
      title: 'How it was measured',
      text:
        `The run of (f): the real CLI on ${files.toLocaleString('en')} synced files, ready ${fmtMs(run.readyMs)} after spawn (watcher ${fmtMs(run.watchersMs)}, first reconcile ` +
        `${fmtMs(run.firstReconcileMs)}), then ${fmtMs(window.windowMs)} idle. VmRSS was read from /proc/<pid>/status every second of that window ("steady" is ` +
        'the median of its second half); VmHWM at its end is the highest RSS since the process started, start-up included. During start-up the RSS ' +
        `was read every 100 ms: it peaked at ${mb(run.startupPeaks.watchersKb)} MB while the watcher read the tree and at ${mb(run.startupPeaks.reconcileKb)} MB during the ` +
        'first reconcile. MB are 10^6 bytes. The reference processes ran afterwards, side by side, over a window of the same length.' +
        (quick ? ' Quick run: the smaller tree and a shorter window.' : ''),
    },
    {
      title: 'What stays in memory (heap after two forced garbage collections)',
      text:
        'Each process was asked for `process.memoryUsage()` after `gc()` twice (run with `--expose-gc`): the heap that is really in use, against RSS, which also ' +
        "holds V8's free heap pages, native memory (libuv handles, SQLite) and the mapped code. The daemon was started once more for this, inside the probe " +
        'process (`startDaemon` from dist/daemon/index.js, the same configuration without the ops server).',
      table: {
        head: ['process', 'heap used', 'heap total', 'external', 'RSS after GC', 'inotify watches'],
        rows: [
          ['the daemon (`startDaemon`, in a probe process)', heap, run.daemonHeap.atReady.inotifyWatches],
          ...Object.entries(refs).map(([mode, r]) => [REFERENCE_NAMES[mode], r.afterGc, r.atReady.inotifyWatches]),
        ].map(([name, m, watches]) => [name, `${m.heapUsedMB} MB`, `${m.heapTotalMB} MB`, `${m.externalMB} MB`, `${m.rssMB} MB`, watches?.toLocaleString('en') ?? '?']),
      },
    },
  ];
  sections.push({ title: 'Where the memory goes', text: whereItGoes(run, steady) });
  const raw = {
    files: run.files,
    folders: run.folders,
    windowMs: window.windowMs,
    steadyRssKb: steady,
    maxRssKb: max,
    hwmKb: window.end.hwmKb,
    goalMB: GOAL_MB,
    startupPeaks: run.startupPeaks,
    atReady: run.atReady,
    rssSamplesKb: window.samples.map((s) => ({ t: s.t, rssKb: s.rssKb, rssAnonKb: s.rssAnonKb, rssFileKb: s.rssFileKb })),
    daemonHeap: run.daemonHeap,
    references: Object.fromEntries(
      Object.entries(refs).map(([mode, r]) => [mode, { steadyRssKb: steadyRssKb(r.window), maxRssKb: maxRssKb(r.window), hwmKb: r.window.end.hwmKb, inotifyWatches: r.atReady.inotifyWatches, readyMs: r.ready.readyMs, afterGc: r.afterGc }]),
    ),
  };
  const result = { summary, met, sections, raw };
  if (!met) result.why = why(run, { steady, max });
  return result;
}

function whereItGoes(run, steady) {
  const refs = run.references;
  const heap = run.daemonHeap.afterGc;
  const parts = [];
  if (refs.idle) parts.push(`A Node process doing nothing holds ${mb(steadyRssKb(refs.idle.window))} MB of RSS; the daemon holds ${mb(steady)} MB while idle.`);
  parts.push(`After a forced collection the daemon's heap in use is ${heap.heapUsedMB} MB (its modules, the state database's connection, the metrics, the watcher), against ${refs.idle?.afterGc.heapUsedMB ?? '?'} MB for an empty Node process.`);
  if (refs.folders && refs.chokidar) {
    const perFile = (((refs.chokidar.afterGc.heapUsedMB - (refs.idle?.afterGc.heapUsedMB ?? 0)) * 1e6) / run.files / 1e3).toFixed(1);
    parts.push(
      `Watching ${run.files.toLocaleString('en')} files: \`fs.watch\` on the ${run.folders.toLocaleString('en')} folders alone takes ${mb(steadyRssKb(refs.folders.window))} MB of RSS and ${refs.folders.afterGc.heapUsedMB} MB of heap ` +
        `(${refs.folders.atReady.inotifyWatches?.toLocaleString('en')} inotify watches), chokidar with a watch per file ${mb(steadyRssKb(refs.chokidar.window))} MB of RSS and ${refs.chokidar.afterGc.heapUsedMB} MB of heap ` +
        `(${refs.chokidar.atReady.inotifyWatches?.toLocaleString('en')} watches; about ${perFile} kB of heap per file: an \`FSWatcher\` and its handle, listener closures, the file's last \`Stats\` and several copies of its path).`,
    );
  }
  parts.push(
    `VmHWM, ${mb(run.window.end.hwmKb)} MB, is the start-up: ${mb(run.startupPeaks.watchersKb)} MB while the watcher read the tree, ${mb(run.startupPeaks.reconcileKb)} MB during the first reconcile ` +
      "(the engine reads the state of every document and scans the tree: see (a) and (d)). V8 gives that memory back when it collects the reconcile's garbage, which it does once the process has been quiet for a while (see the RSS per slice in (f)).",
  );
  return parts.join(' ');
}

function why(run, { steady, max }) {
  const refs = run.references;
  const heap = run.daemonHeap.afterGc;
  const parts = [
    `The daemon's RSS while idle is ${mb(steady)} MB, its largest sample ${mb(max)} MB (goal ${GOAL_MB} MB), with ${run.files.toLocaleString('en')} files in ${run.folders.toLocaleString('en')} folders watched ` +
      `through ${run.atReady.inotifyWatches?.toLocaleString('en') ?? 'an unknown number of'} inotify watches; after a forced collection its heap holds ${heap.heapUsedMB} MB.`,
  ];
  if (run.atReady.inotifyWatches > run.folders + 1) {
    parts.push(
      `It watched every file (${run.watcherState}: polling, or chokidar because src/daemon/folder-watcher.ts was not used); chokidar alone holds ${mb(steadyRssKb(refs.chokidar.window))} MB on this tree.`,
    );
  }
  if (max > steady * 1.2) {
    parts.push(`The largest sample came before V8 collected the start-up's garbage (the first reconcile's records): ${mb(max)} MB against ${mb(steady)} MB afterwards.`);
  }
  parts.push('See "Where the memory goes" for the parts, side by side.');
  return parts.join(' ');
}
