import type { NotifyResult } from '../notify/notify.js';
import type { DocumentKind } from '../state/store.js';
import type { PlanAction } from './decide.js';
import type { MoveDecision } from './moves.js';

export type { PlanAction } from './decide.js';

/**
 * What happened to a document the plan said to send: `sent` (the chatbot's confirmation not awaited or not in yet),
 * then `ingested`, `ingest-failed`, `refused` or `unconfirmed` once the chatbot answered (or did not in time);
 * `failed` (the send failed), `vanished` (the file went away first), `cancelled` (the run stopped first).
 */
export type SendOutcome = 'sent' | 'ingested' | 'ingest-failed' | 'refused' | 'unconfirmed' | 'failed' | 'vanished' | 'cancelled';

/** One line of a sync report. */
export interface ReportEntry {
  action: PlanAction;
  source: string;
  key: string;
  kind: DocumentKind;
  bytes: number;
  /** Why the plan decided this: "content changed", "unsupported type .exe", "same content as docs/a.md", ... */
  reason: string;
  /** For a move: where the document was before (`source:key`). */
  movedFrom?: string;
  /** For a document to send: what happened when it was sent (absent in a dry run). */
  outcome?: SendOutcome;
  error?: string;
  /** The send's message ID (64-bit, decimal text). */
  msgId?: string;
}

export interface SyncCounts {
  new: number;
  changed: number;
  moved: number;
  unchanged: number;
  removed: number;
  skipped: number;
  failed: number;
  /** Documents `/message/send` accepted in this run. */
  sent: number;
  /** Of those (and of earlier runs' documents confirmed now): what the chatbot confirmed. */
  ingested: number;
  /** ... what it could not ingest. */
  ingestFailed: number;
  /** ... what it refused. */
  refused: number;
  /** ... what it did not confirm in time (or could not be tied to its document). */
  unconfirmed: number;
  /** Documents deleted from the knowledge base (left their source, replaced, or failed). */
  deleted: number;
  /** Documents that left their sources but were not deleted because of `sync.maxDelete`. */
  deleteBlocked: number;
  /** Bytes of the documents sent. */
  bytesSent: number;
  /** Bytes of the documents to send (the plan's total). */
  bytesPlanned: number;
}

export type SyncOutcome = 'ok' | 'partial' | 'failed' | 'aborted';

/** The result of a sync run (or of a dry run's plan). */
export interface SyncReport {
  runId: number | undefined;
  dryRun: boolean;
  /** Sources this run covered. */
  sources: string[];
  startedAt: string;
  durationMs: number;
  outcome: SyncOutcome;
  counts: SyncCounts;
  /**
   * Every document except unchanged ones (unless asked for), in the order they were decided; a document to send
   * carries its outcome. Empty when the run was asked not to collect entries (they went to `onEvent` only).
   */
  entries: ReportEntry[];
  /** The error that stopped the run, if one did. */
  error?: string;
  /** Why no document that left its source was deleted (`sync.maxDelete`), when that happened. */
  deleteBlocked?: string;
  /** Problems of the knowledge-base lifecycle worth a warning (the chatbot runs no commands, ...). */
  warnings?: string[];
  /** What the `notify` section sent about this run (`syncOnce` and the daemon; absent when not configured). */
  notify?: NotifyResult;
}

export function emptyCounts(): SyncCounts {
  return {
    new: 0,
    changed: 0,
    moved: 0,
    unchanged: 0,
    removed: 0,
    skipped: 0,
    failed: 0,
    sent: 0,
    ingested: 0,
    ingestFailed: 0,
    refused: 0,
    unconfirmed: 0,
    deleted: 0,
    deleteBlocked: 0,
    bytesSent: 0,
    bytesPlanned: 0,
  };
}

/** The report entry of a decision (`bytes`: the document's size as observed, or as last recorded). */
export function entryOf(source: string, decision: MoveDecision): ReportEntry {
  const kind = decision.action === 'removed' ? decision.previous.kind : decision.item.kind;
  const bytes = decision.action === 'removed' ? (decision.previous.size ?? 0) : decision.item.size;
  const entry: ReportEntry = { action: decision.action, source, key: decision.key, kind, bytes, reason: decision.reason };
  if (decision.action === 'moved') entry.movedFrom = `${decision.from.source}:${decision.from.key}`;
  return entry;
}

/**
 * The report as a fold over the plan's decisions and the sends' outcomes. Entries are kept (in decision order) only
 * when `collect` says so; counts always. With `onEntry` the entries stream instead: each is handed over once it is
 * settled (its send ended and, when the chatbot's answer is awaited, that answer came or the run ended), so that a
 * report of any size takes memory for the entries still on their way only.
 */
export class ReportBuilder {
  readonly counts = emptyCounts();
  readonly entries: ReportEntry[] = [];
  readonly #collect: boolean;
  readonly #listUnchanged: boolean;
  readonly #onEntry: ((entry: ReportEntry) => void) | undefined;
  /** Streaming: the decisions of the batch being planned, until `batchPlanned` says which of them are sent. */
  #batch: ReportEntry[] = [];
  /** Streaming: entries whose send, or the chatbot's answer to it, is still to come (in decision order). */
  readonly #open = new Set<ReportEntry>();
  /** Streaming: of those, the sent ones whose confirmation is awaited. */
  readonly #awaiting = new Set<ReportEntry>();

  constructor(options: { collect: boolean; listUnchanged: boolean; onEntry?: ((entry: ReportEntry) => void) | undefined }) {
    this.#collect = options.collect;
    this.#listUnchanged = options.listUnchanged;
    this.#onEntry = options.onEntry;
  }

  /** Whether entries stream out (`onEntry`) rather than being collected. */
  get streams(): boolean {
    return this.#onEntry !== undefined;
  }

  /**
   * Counts a decision; returns its entry (kept when collecting and not an unchanged one, unless those are asked for).
   * A streamed entry waits for `batchPlanned`, which tells whether it is sent.
   */
  decided(source: string, decision: MoveDecision): ReportEntry {
    const entry = entryOf(source, decision);
    this.countDecision(entry);
    if (entry.action !== 'unchanged' || this.#listUnchanged) {
      if (this.#onEntry) this.#batch.push(entry);
      else if (this.#collect) this.entries.push(entry);
    }
    return entry;
  }

  /** Keeps (or streams at once) an entry that is settled when decided: a problem of an observation, a skip. */
  settledEntry(entry: ReportEntry): void {
    if (this.#onEntry) this.#onEntry(entry);
    else if (this.#collect) this.entries.push(entry);
  }

  /**
   * Streaming: the batch whose decisions came since the last call is planned; the entries of `sending` wait for
   * their sends, the others are handed over now (in decision order).
   */
  batchPlanned(sending: ReadonlySet<ReportEntry>): void {
    const batch = this.#batch;
    this.#batch = [];
    for (const entry of batch) {
      if (sending.has(entry)) this.#open.add(entry);
      else this.#onEntry?.(entry);
    }
  }

  /** A sent entry whose confirmation is awaited: streamed when it comes (`confirmed`), or at the end (`flush`). */
  awaitConfirmation(entry: ReportEntry): void {
    if (this.#open.has(entry)) this.#awaiting.add(entry);
  }

  /** Streaming: hands over every entry not handed over yet (the run ended), in decision order. */
  flush(): void {
    const rest = [...this.#batch, ...this.#open];
    this.#batch = [];
    this.#open.clear();
    this.#awaiting.clear();
    for (const entry of rest) this.#onEntry?.(entry);
  }

  #settled(entry: ReportEntry): void {
    if (this.#awaiting.has(entry) || !this.#open.delete(entry)) return;
    this.#onEntry?.(entry);
  }

  /** Counts a decision that is not otherwise reported (an unchanged document in a folder known to be unchanged). */
  countDecision(entry: Pick<ReportEntry, 'action' | 'bytes'>, sendsBytes = entry.action === 'new' || entry.action === 'changed'): void {
    this.counts[entry.action]++;
    if (sendsBytes) this.counts.bytesPlanned += entry.bytes;
  }

  /** Records what the chatbot said of a document (on its entry, when this run sent it and kept its entry). */
  confirmed(outcome: 'ingested' | 'ingest-failed' | 'refused' | 'unconfirmed', entry: ReportEntry | undefined, reason?: string): void {
    if (outcome === 'ingested') this.counts.ingested++;
    else if (outcome === 'ingest-failed') this.counts.ingestFailed++;
    else if (outcome === 'refused') this.counts.refused++;
    else this.counts.unconfirmed++;
    if (entry) {
      entry.outcome = outcome;
      if (reason !== undefined) entry.error = reason;
      this.#awaiting.delete(entry);
      this.#settled(entry);
    }
  }

  /** Records a send's outcome on its entry. */
  sendFinished(entry: ReportEntry, outcome: SendOutcome, detail: { bytes?: number; msgId?: string | undefined; error?: string } = {}): void {
    entry.outcome = outcome;
    if (detail.msgId !== undefined) entry.msgId = detail.msgId;
    if (detail.error !== undefined) entry.error = detail.error;
    if (outcome === 'sent') {
      this.counts.sent++;
      this.counts.bytesSent += detail.bytes ?? entry.bytes;
    } else if (outcome === 'failed') {
      this.counts.failed++;
    }
    this.#settled(entry);
  }
}
