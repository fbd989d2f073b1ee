import type { SyncEvent } from '../sync/engine.js';
import { escapeControl } from '../util/terminal-text.js';
import { formatBytes, formatDuration } from '../util/units.js';
import type { CliContext } from './context.js';

/** How far a run got, phase by phase: fed with the engine's events, read by the progress line and the stats lines. */
export class RunProgress {
  readonly #started: number;
  readonly #now: () => number;
  /** Per source: entries a scan listed, or URLs fetched; `items` once the source knows how many it hands over. */
  readonly #observing = new Map<string, { phase: 'scan' | 'fetch'; done: number; total: number | undefined; items: number | undefined; bytes: number }>();
  #checked = 0;
  /** Sends done and planned so far; `planned` is final once every source was observed. */
  #sendsDone = 0;
  #sendsTotal = 0;
  #bytesDone = 0;
  #bytesTotal = 0;
  #failed = 0;
  #planned = false;
  /** Documents sent in this run, and what the chatbot confirmed (any outcome) so far. */
  #sentOk = 0;
  #confirmed = 0;
  readonly #rates = { listed: new Rate(), fetched: new Rate(), checked: new Rate(), sent: new Rate(), bytes: new Rate() };

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#started = now();
  }

  onEvent(event: SyncEvent): void {
    const now = this.#now();
    switch (event.type) {
      case 'observed': {
        this.#observing.set(event.source, { phase: event.phase, done: event.done, total: event.total, items: event.items, bytes: event.bytes ?? 0 });
        this.#rates.listed.sample(now, this.#sum('scan'));
        this.#rates.fetched.sample(now, this.#sum('fetch'));
        break;
      }
      case 'checked':
        this.#checked += event.items;
        this.#rates.checked.sample(now, this.#checked);
        break;
      case 'decision':
        if (event.entry.action === 'failed') this.#failed++;
        break;
      case 'failed':
        this.#failed++;
        break;
      case 'sent':
        this.#sentOk++;
        break;
      case 'confirmed':
        this.#confirmed++;
        if (event.confirmation.outcome !== 'ingested') this.#failed++;
        break;
      case 'progress':
        this.#sendsDone = event.done;
        this.#sendsTotal = event.total;
        this.#bytesDone = event.bytesDone;
        this.#bytesTotal = event.bytesTotal;
        this.#rates.sent.sample(now, event.done);
        this.#rates.bytes.sample(now, event.bytesDone);
        break;
      case 'planned':
        this.#planned = true;
        this.#sendsTotal = Math.max(this.#sendsTotal, event.toSend);
        this.#bytesTotal = Math.max(this.#bytesTotal, event.bytes);
        break;
    }
  }

  /** Nothing happened yet that is worth a line. */
  get idle(): boolean {
    return this.#observing.size === 0 && this.#checked === 0 && this.#sendsTotal === 0;
  }

  /** One line: the phases under way, each with its count, rate and (when the total is known) ETA. */
  describe(): string {
    const now = this.#now();
    const parts: string[] = [formatDuration(now - this.#started)];
    for (const [source, o] of this.#observing) {
      const finished = o.phase === 'scan' ? o.items !== undefined : o.total !== undefined && o.done >= o.total;
      if (finished) continue;
      if (o.phase === 'scan') parts.push(`scanning ${escapeControl(source)}: ${count(o.done)} entries (${perSecond(this.#rates.listed.rate(now))})`);
      else parts.push(`fetching ${escapeControl(source)}: ${count(o.done)}/${count(o.total ?? 0)} URLs, ${formatBytes(o.bytes)} (${withEta(this.#rates.fetched.rate(now), (o.total ?? 0) - o.done)})`);
    }
    const items = this.#knownItems();
    if (this.#checked > 0 || items !== undefined) {
      const total = items === undefined ? '' : `/${count(items)}`;
      const rate = this.#rates.checked.rate(now);
      const eta = rate <= 0 ? '' : ` (${items === undefined ? perSecond(rate) : withEta(rate, items - this.#checked)})`;
      if (items === undefined || this.#checked < items) parts.push(`checking ${count(this.#checked)}${total}${eta}`);
      else parts.push(`checked ${count(this.#checked)}`);
    }
    if (this.#sendsTotal > 0) {
      const left = this.#sendsTotal - this.#sendsDone;
      const rate = this.#rates.sent.rate(now);
      const bytesRate = this.#rates.bytes.rate(now);
      const eta = this.#planned ? withEta(rate, left) : perSecond(rate);
      parts.push(`sending ${count(this.#sendsDone)}/${count(this.#sendsTotal)}${this.#planned ? '' : '+'}, ${formatBytes(this.#bytesDone)}/${formatBytes(this.#bytesTotal)} (${eta}, ${formatBytes(Math.round(bytesRate))}/s)`);
    }
    if (this.#confirmed > 0 || (this.#planned && this.#sentOk > 0 && this.#sendsDone >= this.#sendsTotal)) {
      parts.push(`confirmed ${count(this.#confirmed)}/${count(this.#sentOk)} by the chatbot`);
    }
    if (this.#failed > 0) parts.push(`${count(this.#failed)} failed`);
    return parts.join(' · ');
  }

  /** Documents the sources hand over in all, once every source that was observed said so. */
  #knownItems(): number | undefined {
    let sum = 0;
    for (const o of this.#observing.values()) {
      if (o.items === undefined) return undefined;
      sum += o.items;
    }
    return this.#observing.size === 0 ? undefined : sum;
  }

  #sum(phase: 'scan' | 'fetch'): number {
    let sum = 0;
    for (const o of this.#observing.values()) if (o.phase === phase) sum += o.done;
    return sum;
  }
}

/** A rate over the last few seconds, from samples of a growing count. */
class Rate {
  readonly #samples: { at: number; value: number }[] = [];
  static readonly WINDOW_MS = 10_000;

  sample(at: number, value: number): void {
    const last = this.#samples.at(-1);
    if (last && at - last.at < 100) {
      last.value = value;
      return;
    }
    this.#samples.push({ at, value });
    while (this.#samples.length > 2 && at - (this.#samples[1] as { at: number }).at > Rate.WINDOW_MS) this.#samples.shift();
  }

  /** Per second; 0 until two samples are some time apart. */
  rate(now: number): number {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last === first) return 0;
    // A count that stopped growing slows down: the time since the last sample counts too.
    const span = Math.max(last.at, now) - first.at;
    return span > 0 ? ((last.value - first.value) * 1000) / span : 0;
  }
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function perSecond(rate: number): string {
  return `${rate >= 10 ? Math.round(rate).toLocaleString('en-US') : rate.toFixed(1)}/s`;
}

function withEta(rate: number, left: number): string {
  if (left <= 0 || rate <= 0) return perSecond(rate);
  return `${perSecond(rate)}, ETA ${formatDuration((left / rate) * 1000)}`;
}

/** Options of {@link startProgressDisplay}. */
export interface ProgressDisplayOptions {
  /** Show a progress line when stderr is a terminal. */
  progressLine: boolean;
  /** When stderr is not a terminal: a stats line every this many milliseconds (0: none). */
  statsIntervalMs: number;
}

/** The progress line (on a terminal) or the stats lines (otherwise), on stderr. */
export interface ProgressDisplay {
  onEvent(event: SyncEvent): void;
  /** Writes a line (already escaped, or JSON) to `stream`, taking the progress line out of its way. */
  print(stream: NodeJS.WritableStream, line: string): void;
  stop(): void;
}

/**
 * Shows a run's progress on stderr: on a terminal, one line redrawn every 200 ms (taken away before any other line is
 * printed, and at the end); when stderr is not a terminal (cron, CI), a line `lanying-kb: stats: ...` every
 * `statsIntervalMs`, as rclone's `--stats` does.
 */
export function startProgressDisplay(ctx: CliContext, options: ProgressDisplayOptions): ProgressDisplay {
  const progress = new RunProgress();
  const tty = ctx.stderr.isTTY === true;
  let shown = false;
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    if (shown) ctx.stderr.write('\r\x1b[2K');
    shown = false;
  };
  if (tty && options.progressLine) {
    timer = setInterval(() => {
      if (progress.idle) return;
      const columns = (ctx.stderr as { columns?: number }).columns || 120;
      const text = progress.describe();
      ctx.stderr.write(`\r\x1b[2K${text.length >= columns ? `${text.slice(0, Math.max(10, columns - 2))}…` : text}`);
      shown = true;
    }, 200);
  } else if (!tty && options.statsIntervalMs > 0) {
    timer = setInterval(() => {
      if (!progress.idle) ctx.stderr.write(`lanying-kb: stats: ${progress.describe()}\n`);
    }, options.statsIntervalMs);
  }
  timer?.unref();
  return {
    onEvent: (event) => progress.onEvent(event),
    print: (stream, line) => {
      if (shown && (stream === ctx.stderr || (stream as { isTTY?: boolean }).isTTY)) clear();
      stream.write(`${line}\n`);
    },
    stop: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
    },
  };
}
