/**
 * The idle daemon run that (f) and (g) share: `lanying-kb watch` on the largest generated tree (100k files; 10k
 * with --quick) after a first full sync recorded it, so that its first reconcile sends nothing. From the first 200
 * of `/readyz` on, nothing touches it: its CPU time and RSS are read from /proc every second over the idle window
 * (60 s; 10 s with --quick). Then, after the daemon stopped, reference processes (scripts/bench/probe-watch.mjs)
 * run side by side over a window of the same length, and the daemon runs once more inside a probe process for a
 * heap measurement after a forced garbage collection. Made once per benchmark run, whichever of (f) and (g) asks
 * first.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { inotifyWatchesOf, logTime, memoryOf, sampleProcess, startDaemonProcess } from './daemon-process.mjs';
import { fmtMs } from './format.mjs';

const WINDOW_MS = 60_000;
const QUICK_WINDOW_MS = 10_000;
/** Reference processes measured over the window, side by side (see probe-watch.mjs). */
const REFERENCES = ['idle', 'metrics', 'chokidar', 'folders'];

const runs = new WeakMap();

/** The shared run of (f) and (g) for this benchmark context (started on the first call). */
export function idleDaemonRun(ctx) {
  let run = runs.get(ctx);
  if (!run) {
    run = measureIdleDaemon(ctx);
    runs.set(ctx, run);
  }
  return run;
}

async function measureIdleDaemon(ctx) {
  const files = Math.max(...ctx.sizes);
  const windowMs = ctx.quick ? QUICK_WINDOW_MS : WINDOW_MS;
  const synced = await ctx.syncedState(files);
  const sandbox = await ctx.sharedSandbox();
  const config = ctx.writeConfig({
    name: `watch-idle-${files}`,
    sandbox,
    folder: synced.tree.root,
    stateDir: synced.stateDir,
    daemon: { http: { host: '127.0.0.1', port: 0 } },
  });

  ctx.log(`(f/g) lanying-kb watch on ${files.toLocaleString('en')} synced files; idle window ${windowMs / 1000} s after /readyz ...`);
  const daemon = await startDaemonProcess({ node: ctx.node, cli: ctx.cli, config, stateDir: synced.stateDir, logFile: path.join(ctx.tmp, `watch-idle-${files}.log`), cwd: ctx.tmp });
  let window;
  let atReady;
  let status;
  let stopped;
  try {
    atReady = { ...memoryOf(daemon.pid), inotifyWatches: inotifyWatchesOf(daemon.pid) };
    window = await sampleProcess(daemon.pid, { windowMs, everyMs: 1000 });
    // After the window: one look at the live status (the watcher's state), which the window must not see.
    status = await daemon.get('/status');
  } finally {
    stopped = await daemon.stop();
  }
  const lines = daemon.logLines();
  const startedAt = logTime(lines, 'started');
  const watchersReadyAt = logTime(lines, 'reconcile-started');
  const readyAt = logTime(lines, 'ready');
  const finished = lines.find((l) => l.event === 'reconcile-finished');
  const fallback = lines.find((l) => l.event === 'watch-fallback');
  // Peak RSS of the start-up phases, from the 100 ms samples: watchers starting, then the first reconcile.
  const peakKb = (from, to) => Math.max(0, ...daemon.startupSamples.filter((s) => s.at >= (from ?? 0) && s.at < (to ?? Infinity)).map((s) => s.rssKb));
  const startupPeaks = { watchersKb: peakKb(undefined, watchersReadyAt), reconcileKb: peakKb(watchersReadyAt, undefined) };
  const watcherState = status?.daemon?.sources?.[0]?.state;
  if (finished && (finished.sent !== 0 || finished.unchanged !== files)) throw new Error(`the daemon's first reconcile was not a no-op: ${JSON.stringify(finished)}`);
  ctx.log(
    `  ready ${fmtMs(daemon.readyMs)} after spawn (watchers ${fmtMs(watchersReadyAt - startedAt)}, first reconcile ${fmtMs(readyAt - watchersReadyAt)}); ` +
      `idle: ${Math.round(window.cpuMs)} ms CPU, RSS ${Math.round(window.samples.at(-1).rssKb / 1024)} MiB, VmHWM ${Math.round(window.end.hwmKb / 1024)} MiB; ${atReady.inotifyWatches} inotify watches; watcher ${watcherState}`,
  );

  ctx.log(`(f/g) reference processes side by side (${REFERENCES.join(', ')}), same window ...`);
  const probes = await Promise.all(REFERENCES.map((mode) => startProbe(ctx, config, mode)));
  let references;
  try {
    for (const p of probes) p.atReady = { ...memoryOf(p.pid), inotifyWatches: inotifyWatchesOf(p.pid) };
    const windows = await Promise.all(probes.map((p) => sampleProcess(p.pid, { windowMs, everyMs: 1000 })));
    references = {};
    for (const [i, p] of probes.entries()) references[p.mode] = { ready: p.ready, atReady: p.atReady, window: windows[i], afterGc: await p.command('gc') };
  } finally {
    await Promise.all(probes.map((p) => p.stop()));
  }
  for (const [mode, r] of Object.entries(references)) {
    ctx.log(`  ${mode}: ready ${fmtMs(r.ready.readyMs)}, ${Math.round(r.window.cpuMs)} ms CPU, RSS ${Math.round(r.window.samples.at(-1).rssKb / 1024)} MiB, heap after GC ${r.afterGc.heapUsedMB} MB, ${r.atReady.inotifyWatches} watches`);
  }

  ctx.log('(f/g) the daemon inside a probe process: heap after a forced GC ...');
  const inProcess = await startProbe(ctx, config, 'daemon');
  let daemonHeap;
  try {
    daemonHeap = { ready: inProcess.ready, atReady: { ...memoryOf(inProcess.pid), inotifyWatches: inotifyWatchesOf(inProcess.pid) }, afterGc: await inProcess.command('gc') };
  } finally {
    await inProcess.stop();
  }
  ctx.log(`  heap after GC ${daemonHeap.afterGc.heapUsedMB} MB, RSS ${daemonHeap.afterGc.rssMB} MB`);

  return {
    files,
    folders: synced.tree.folders,
    windowMs,
    readyMs: daemon.readyMs,
    watchersMs: watchersReadyAt && startedAt ? watchersReadyAt - startedAt : null,
    firstReconcileMs: readyAt && watchersReadyAt ? readyAt - watchersReadyAt : null,
    watcherState: watcherState ?? null,
    fallback: fallback ? { code: fallback.code, reason: fallback.reason } : null,
    atReady,
    startupPeaks,
    window,
    stop: stopped,
    references,
    daemonHeap,
  };
}

/** Starts probe-watch.mjs in `mode` and waits for its ready line. */
async function startProbe(ctx, config, mode) {
  const script = path.join(ctx.repoRoot, 'scripts', 'bench', 'probe-watch.mjs');
  const errFile = path.join(ctx.tmp, `probe-watch-${mode}.err`);
  const err = fs.openSync(errFile, 'w');
  let child;
  try {
    child = spawn(ctx.node, ['--expose-gc', script, config, mode], { cwd: ctx.repoRoot, stdio: ['pipe', 'pipe', err] });
  } finally {
    fs.closeSync(err);
  }
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (what) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    try {
      const { value, done } = await lines.next();
      if (done) throw new Error(`probe ${mode} ended before ${what}: ${fs.readFileSync(errFile, 'utf8').slice(-2000)}`);
      return JSON.parse(value);
    } finally {
      clearTimeout(timer);
    }
  };
  const ready = await next('it was ready');
  return {
    mode,
    pid: child.pid,
    ready,
    async command(cmd) {
      child.stdin.write(`${cmd}\n`);
      return next(cmd);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.stdin.end('exit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU time per slice of the window (ms), from the 1 s samples. */
export function cpuSlices(window, sliceMs) {
  const out = [];
  let prev = window.samples[0];
  for (const s of window.samples) {
    if (s.t - prev.t >= sliceMs - 500 || s === window.samples.at(-1)) {
      if (s !== prev) out.push({ from: prev.t, to: s.t, cpuMs: s.cpuMs - prev.cpuMs, rssKbAtEnd: s.rssKb });
      prev = s;
    }
  }
  return out;
}

/** Steady RSS: the median of the samples in the second half of the window (kB). */
export function steadyRssKb(window) {
  const half = window.samples.filter((s) => s.t >= window.windowMs / 2).map((s) => s.rssKb).sort((a, b) => a - b);
  return half[Math.floor(half.length / 2)];
}

/** The largest VmRSS sample of the window (kB). */
export function maxRssKb(window) {
  return Math.max(...window.samples.map((s) => s.rssKb));
}
