/**
 * A sync run through the library, as the CLI will run it once it streams its report: `syncOnce` with
 * `collectEntries: false` (entries go to `onEvent` only, counted here, not kept), so that its memory is the engine's.
 * Prints the report (counts, duration, outcome) as JSON. For (h): the first sync and the dry run of each tree.
 * Usage: node scripts/bench/sync-library.mjs CONFIG.json [--dry-run] [--no-wait]
 */
import { loadConfig, syncOnce } from '../../dist/index.js';

const [file, ...flags] = process.argv.slice(2);
const config = await loadConfig({ file });
let events = 0;
const report = await syncOnce({ config, dryRun: flags.includes('--dry-run'), wait: !flags.includes('--no-wait'), collectEntries: false, onEvent: () => void events++ });
process.stdout.write(`${JSON.stringify({ outcome: report.outcome, counts: report.counts, durationMs: report.durationMs, entries: report.entries.length, events })}\n`);
