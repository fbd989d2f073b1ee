/**
 * The benchmarks of scanning (no-op re-sync, memory, the daemon at rest) measure a state whose documents the chatbot
 * has confirmed. Confirming 100k documents through the sandbox's chatbot (a notice, a `metadata get` and its answer
 * each) would take an hour of setup and measure nothing they are about, so their first sync runs with `--no-wait`
 * and this marks its documents `ingested`, as the confirmations would have (with stand-in document IDs: nothing the
 * benchmarks do deletes or reads them). Benchmark (i) measures the confirmations themselves.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

// The repository's own better-sqlite3 (the one the built CLI uses).
const require = createRequire(new URL('../../../package.json', import.meta.url));

/** Marks every `sent` document of the state in `stateDir` as `ingested`; returns how many. */
export function markConfirmed(stateDir) {
  const Database = require('better-sqlite3');
  const db = new Database(path.join(stateDir, 'state.db'));
  try {
    const now = Date.now();
    return db.prepare("UPDATE documents SET status = 'ingested', doc_id = 'bench-' || lower(hex(randomblob(8))), ingested_at = ? WHERE status = 'sent'").run(now).changes;
  } finally {
    db.close();
  }
}
