/**
 * Evidence for (a) and (d): what reading a recorded state costs, in one process each (argv[3] picks one).
 *   documentsOf  `StateStore.documentsOf(source)` (every column, a full record per row)
 *   known        `StateStore.folderDigest(source, dir)` for every folder: what a no-op reads when no folder changed
 *   scan         `scanFolder(source)`: the scanned files kept in memory
 * Prints { ms, retainedHeapMB, rssMB, rows } after a forced GC. Run with --expose-gc.
 * Usage: node --expose-gc scripts/bench/probe-state-read.mjs CONFIG.json documentsOf|known|scan
 */
import { loadConfig } from '../../dist/config/load.js';
import { scanFolder } from '../../dist/sources/folder/scan.js';
import { StateStore } from '../../dist/state/store.js';

const [configFile, what] = process.argv.slice(2);
const config = await loadConfig({ file: configFile, cwd: process.cwd(), env: process.env });
const source = config.sources[0];
globalThis.gc();
const heapBefore = process.memoryUsage().heapUsed;
const started = performance.now();
let kept;
if (what === 'documentsOf') {
  const store = StateStore.open(config.sync.stateDir, { readonly: true });
  kept = store.documentsOf(source.name);
} else if (what === 'known') {
  const store = StateStore.open(config.sync.stateDir, { readonly: true });
  kept = store.dirsOf(source.name).map((dir) => store.folderDigest(source.name, dir));
} else if (what === 'scan') {
  kept = await scanFolder(source, { excludeDirs: [config.sync.stateDir] });
} else {
  throw new Error(`unknown probe ${what}`);
}
const ms = performance.now() - started;
globalThis.gc();
const mem = process.memoryUsage();
const rows = kept.size ?? kept.length;
process.stdout.write(`${JSON.stringify({ what, rows, ms: Math.round(ms), retainedHeapMB: Math.round((mem.heapUsed - heapBefore) / 1e5) / 10, rssMB: Math.round(mem.rss / 1e5) / 10 })}\n`);
