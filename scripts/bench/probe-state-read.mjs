/**
 * Evidence for (a) and (d): what reading a recorded state costs, in one process each (argv[3] picks one).
 *   documentsOf  lanying-kb's own `StateStore.documentsOf(source)` (every column, a full record per row)
 *   lean         the same rows with only what an unchanged file needs (key, size, mtime, inode, status,
 *                hash = uploaded_hash): a possible fix, measured with better-sqlite3 directly
 *   scan         `scanFolder(source)`: the scanned files kept in memory
 * Prints { ms, retainedHeapMB, rssMB, rows } after a forced GC. Run with --expose-gc.
 * Usage: node --expose-gc scripts/bench/probe-state-read.mjs CONFIG.json documentsOf|lean|scan
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { loadConfig } from '../../dist/config/load.js';
import { scanFolder } from '../../dist/sync/folder-scan.js';
import { StateStore, STATE_DB_NAME } from '../../dist/sync/state-store.js';

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
} else if (what === 'lean') {
  const db = new Database(path.join(config.sync.stateDir, STATE_DB_NAME), { readonly: true });
  const rows = db
    .prepare("SELECT key, size, mtime_ms AS mtimeMs, inode, status, (hash IS NOT NULL AND hash = uploaded_hash) AS same FROM documents WHERE source = ?")
    .all(source.name);
  kept = new Map(rows.map((r) => [r.key, r]));
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
