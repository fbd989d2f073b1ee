import type Database from 'better-sqlite3';

/** One hour of the send history: documents the chatbot accepted and documents that failed in it. */
export interface SendHour {
  /** The hour's start, ISO 8601 (UTC). */
  hour: string;
  sent: number;
  failed: number;
}

const HOUR_MS = 3_600_000;
/** Hours kept; older ones are dropped when a new hour starts. */
const KEEP_HOURS = 24 * 31;

/**
 * The `send_hours` table of the state database (state migration 7): per clock hour, how many documents were sent and
 * how many failed, for the status page's chart. A row per hour with any activity, kept a month. Reached as
 * `StateStore.sendHistory`. A read-only store (a dry run, `status`) records nothing.
 */
export class SendHistory {
  readonly #db: Database.Database;
  readonly #add: Database.Statement;
  readonly #range: Database.Statement;
  readonly #prune: Database.Statement;
  #lastHour = -1;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#add = db.prepare(
      'INSERT INTO send_hours (hour, sent, failed) VALUES (?, ?, ?) ON CONFLICT (hour) DO UPDATE SET sent = sent + excluded.sent, failed = failed + excluded.failed',
    );
    this.#range = db.prepare('SELECT hour, sent, failed FROM send_hours WHERE hour >= ? AND hour <= ? ORDER BY hour');
    this.#prune = db.prepare('DELETE FROM send_hours WHERE hour < ?');
  }

  /** Counts one document sent or failed at `at` (ms since the epoch). */
  record(outcome: 'sent' | 'failed', at: number = Date.now()): void {
    if (this.#db.readonly) return;
    const hour = Math.floor(at / HOUR_MS);
    this.#add.run(hour, outcome === 'sent' ? 1 : 0, outcome === 'failed' ? 1 : 0);
    if (hour !== this.#lastHour) {
      this.#lastHour = hour;
      this.#prune.run(hour - KEEP_HOURS);
    }
  }

  /** The last `hours` hours up to and including the one of `now`, oldest first, hours without activity as zeros. */
  lastHours(hours: number, now: number = Date.now()): SendHour[] {
    const last = Math.floor(now / HOUR_MS);
    const first = last - hours + 1;
    const rows = new Map((this.#range.all(first, last) as { hour: number; sent: number; failed: number }[]).map((r) => [r.hour, r]));
    const out: SendHour[] = [];
    for (let h = first; h <= last; h++) {
      const row = rows.get(h);
      out.push({ hour: new Date(h * HOUR_MS).toISOString(), sent: row?.sent ?? 0, failed: row?.failed ?? 0 });
    }
    return out;
  }
}
