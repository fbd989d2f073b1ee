/**
 * Reference processes for (f) and (g), each doing one part of what the daemon does, measured from outside like the
 * daemon (CPU time and RSS from /proc) over the same idle window:
 *   idle      nothing but a Node process kept alive by a timer (what any Node process costs)
 *   metrics   the daemon's Prometheus metrics alone (`createMetrics` from dist/daemon/metrics.js, with the default
 *             process metrics): its timers are all an idle daemon has besides the watcher
 *   chokidar  chokidar 5 on the folder with the options src/daemon/watcher.ts gives it (every file and folder gets
 *             an inotify watch and a handle of its own); the daemon's watcher on Linux until it got its own
 *   folders   an `fs.watch` on every folder and none on files (inotify reports a file's writes on its folder's
 *             watch): what src/daemon/folder-watcher.ts does on Linux, without the daemon around it
 *   daemon    the whole daemon in this process (`startDaemon` from dist/daemon/index.js, silent logger)
 * Prints one JSON line when ready ({ mode, readyMs, ... }). Then reads commands on stdin, one a line: `gc` (two
 * forced garbage collections, then prints the heap and RSS as a JSON line; needs --expose-gc) and `exit`.
 * Usage: node --expose-gc scripts/bench/probe-watch.mjs CONFIG.json idle|metrics|chokidar|folders|daemon
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const [configFile, mode] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
const root = path.resolve(path.dirname(configFile), config.sources[0].path);
const started = performance.now();
const keepAlive = setInterval(() => {}, 2 ** 30);
let close = async () => {};
const ready = { mode };

if (mode === 'idle') {
  // nothing else
} else if (mode === 'metrics') {
  const { createMetrics } = await import('../../dist/daemon/metrics.js');
  const metrics = createMetrics({ queueDepth: () => 0, inFlight: () => 0, pendingPaths: () => 0, ready: () => true, watcherStates: () => [] });
  ready.metricLines = (await metrics.render()).body.split('\n').length;
} else if (mode === 'chokidar') {
  const { watch } = await import('chokidar');
  const watcher = watch(root, {
    persistent: true,
    ignoreInitial: true,
    followSymlinks: false,
    usePolling: false,
    interval: 2000,
    binaryInterval: 2000,
    alwaysStat: true,
    ignorePermissionErrors: true,
    ignored: (p) => path.basename(p).startsWith('.'),
  });
  await new Promise((resolve, reject) => {
    watcher.once('ready', resolve);
    watcher.once('error', reject);
  });
  close = () => watcher.close();
} else if (mode === 'folders') {
  const watchers = [];
  const walk = (dir) => {
    watchers.push(fs.watch(dir, { persistent: true }, () => {}));
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory() && !entry.name.startsWith('.')) walk(path.join(dir, entry.name));
  };
  walk(root);
  ready.folders = watchers.length;
  close = async () => watchers.forEach((w) => w.close());
} else if (mode === 'daemon') {
  const { loadConfig } = await import('../../dist/index.js');
  const { startDaemon } = await import('../../dist/daemon/index.js');
  const resolved = await loadConfig({ file: configFile, cwd: process.cwd(), env: process.env });
  const daemon = await startDaemon({ config: { ...resolved, daemon: { ...resolved.daemon, http: undefined } }, notify: false });
  await daemon.ready;
  ready.watcherStates = daemon.status().sources.map((s) => s.state);
  close = () => daemon.stop();
} else {
  throw new Error(`unknown mode ${mode}`);
}

ready.readyMs = Math.round(performance.now() - started);
process.stdout.write(`${JSON.stringify(ready)}\n`);

const mb = (bytes) => Math.round(bytes / 1e5) / 10;
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.trim() === 'gc') {
    globalThis.gc?.();
    globalThis.gc?.();
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ gc: Boolean(globalThis.gc), rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers) })}\n`);
  } else if (line.trim() === 'exit') {
    break;
  }
}
await close();
clearInterval(keepAlive);
process.exit(0);
