import { spawn } from 'node:child_process';
import type { DaemonStatus } from './live-status.js';

/**
 * The service side of systemd's notification protocol (sd_notify(3)): `READY=1` once the first reconcile finished,
 * `RELOADING=1` with `MONOTONIC_USEC=` when a reload starts and `READY=1` when it ended, `STOPPING=1`, `STATUS=`
 * lines for `systemctl status`, `EXTEND_TIMEOUT_USEC=` while starting or reloading, and `WATCHDOG=1` pings.
 *
 * The protocol is one datagram per message, sent to the `AF_UNIX` `SOCK_DGRAM` socket named by `$NOTIFY_SOCKET`,
 * holding newline-separated `KEY=VALUE` lines. Node.js cannot send a unix datagram: `dgram` knows only UDP, and
 * `net` only stream sockets (nodejs/node#29339, #61933). The npm packages that can (`sd-notify`, `unix-dgram`) are
 * native addons that compile at install time. So each message is handed to `systemd-notify`, which ships with
 * systemd itself and sends exactly the lines it is given as one datagram; it waits (a barrier) until the manager
 * took the message, so the manager can still tell which unit sent it. As the sender is then a child process, the
 * units set `NotifyAccess=all`.
 *
 * Library code never reads the environment: the CLI passes `process.env`.
 */

/** Sends one message (its `KEY=VALUE` lines) to the notify socket. */
export type NotifySender = (lines: string[]) => Promise<void>;

/** Options of `SystemdNotifier`. */
export interface SystemdNotifierOptions {
  /** The service's environment: `NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`. */
  env: Readonly<Record<string, string | undefined>>;
  /** This process's PID (to check `WATCHDOG_PID`). */
  pid: number;
  /** @default runs `systemd-notify` for each message */
  send?: NotifySender | undefined;
  /** `CLOCK_MONOTONIC` in microseconds, for `MONOTONIC_USEC`. @default from `process.hrtime.bigint()` (monotonic on Linux) */
  monotonicMicros?: (() => bigint) | undefined;
  /** A message could not be sent (logged by the caller; the daemon goes on). */
  onError?: ((error: Error) => void) | undefined;
  /** How often STATUS and EXTEND_TIMEOUT_USEC are sent when there is no watchdog. @default 5000 */
  tickMs?: number | undefined;
}

/** What the periodic tick asks the daemon. */
export interface TickSources {
  /** False skips the watchdog ping: systemd then restarts the service when no ping comes within `WatchdogSec=`. */
  healthy: () => boolean;
  /** The STATUS= text (sent when it changed). */
  status: () => string;
  /** True while starting or reloading: the manager's timeout is extended as long as ticks keep coming. */
  extendTimeout: () => boolean;
}

/** The watchdog period systemd asks for (`WATCHDOG_USEC`, for this PID), in milliseconds; undefined when off. */
export function watchdogTimeoutMs(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (!usec || !/^\d+$/.test(usec) || Number(usec) === 0) return undefined;
  // WATCHDOG_PID says which process the watchdog is for (a child that inherited the variables is not it).
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Number(usec) / 1000;
}

/** One `KEY=VALUE` line; a value is one line (line breaks become spaces), as the protocol has no escaping. */
export function notifyLine(key: string, value: string | number | bigint): string {
  return `${key}=${String(value).replace(/[\r\n]+/g, ' ')}`;
}

/** The `STATUS=` text of a running daemon: documents queued and the last run. */
export function formatSystemdStatus(status: DaemonStatus): string {
  const queued = status.queue.waiting + status.queue.pendingPaths;
  const queue = `${queued} document(s) queued, ${status.queue.inFlight} uploading`;
  if (status.stopping) return `stopping; ${queue}`;
  if (!status.ready) return `first reconcile of ${status.sources.length} source(s); ${queue}`;
  let last: { at: string; outcome: string | null; name: string } | undefined;
  for (const source of status.sources) {
    if (source.lastReconcileAt && (!last || source.lastReconcileAt > last.at)) last = { at: source.lastReconcileAt, outcome: source.lastOutcome, name: source.name };
  }
  const failing = status.sources.filter((s) => s.lastOutcome === 'failed').length;
  const lastRun = last ? `last run ${last.at}${last.outcome ? ` ${last.outcome}` : ''} (${last.name})` : 'no run yet';
  return `watching ${status.sources.length} source(s); ${queue}; ${lastRun}${failing ? `; ${failing} source(s) failing` : ''}`;
}

/** Runs `systemd-notify LINE...` with `NOTIFY_SOCKET` set: one datagram holding the lines. */
export function systemdNotifySender(socket: string, command = 'systemd-notify', timeoutMs = 10_000): NotifySender {
  return (lines) =>
    new Promise((resolve, reject) => {
      // Note: only NOTIFY_SOCKET is passed on; the command is found on the default search path (/usr/bin:/bin).
      const child = spawn(command, lines, { env: { NOTIFY_SOCKET: socket }, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        if (stderr.length < 2000) stderr += chunk.toString();
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'ENOENT' ? new Error(`${command} is not installed (it comes with systemd): the service manager gets no notifications`) : error);
      });
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`${command} ${signal ? `was ended by ${signal}` : `exited with ${code}`}${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}`));
      });
    });
}

interface Queued {
  lines: string[];
  /** Periodic messages: a newer one replaces one still waiting. */
  tick: boolean;
}

/**
 * Tells systemd what the daemon does. Does nothing when `NOTIFY_SOCKET` is not set (not a `Type=notify` service).
 * Messages are sent one at a time, in order.
 */
export class SystemdNotifier {
  readonly enabled: boolean;
  /** The watchdog period in ms (from `WATCHDOG_USEC`), when systemd asked for pings. */
  readonly watchdogMs: number | undefined;
  readonly #send: NotifySender;
  readonly #monotonic: () => bigint;
  readonly #onError: (error: Error) => void;
  readonly #tickMs: number;
  readonly #queue: Queued[] = [];
  #sending: Promise<void> | undefined;
  #broken = false;
  #timer: NodeJS.Timeout | undefined;
  #lastStatus: string | undefined;

  constructor(options: SystemdNotifierOptions) {
    const socket = options.env.NOTIFY_SOCKET;
    this.enabled = Boolean(socket);
    this.watchdogMs = this.enabled ? watchdogTimeoutMs(options.env, options.pid) : undefined;
    this.#send = options.send ?? systemdNotifySender(socket ?? '');
    this.#monotonic = options.monotonicMicros ?? (() => process.hrtime.bigint() / 1000n);
    this.#onError = options.onError ?? (() => {});
    // Pings at half the watchdog period, as sd_watchdog_enabled(3) advises.
    this.#tickMs = this.watchdogMs !== undefined ? Math.max(1, Math.floor(this.watchdogMs / 2)) : (options.tickMs ?? 5000);
  }

  /** Startup finished (or a reload did). */
  ready(status?: string): void {
    this.#enqueue([notifyLine('READY', 1), ...this.#statusLines(status, true)]);
  }

  /** A reload starts; `ready()` says when it ended. */
  reloading(status?: string): void {
    this.#enqueue([notifyLine('RELOADING', 1), notifyLine('MONOTONIC_USEC', this.#monotonic()), ...this.#statusLines(status, true)]);
  }

  /** The daemon is stopping. */
  stopping(status?: string): void {
    this.#enqueue([notifyLine('STOPPING', 1), ...this.#statusLines(status, true)]);
  }

  /** A new STATUS= text (sent only when it changed). */
  status(text: string): void {
    const lines = this.#statusLines(text, false);
    if (lines.length) this.#enqueue(lines, true);
  }

  /**
   * Every tick (half the watchdog period, or `tickMs`): `WATCHDOG=1` while `healthy()`, the status when it changed,
   * and `EXTEND_TIMEOUT_USEC` while `extendTimeout()`. The timer runs on the event loop, so a blocked loop pings no
   * more and systemd restarts the service after `WatchdogSec=`.
   */
  startTicking(sources: TickSources): void {
    if (!this.enabled || this.#timer) return;
    const tick = () => {
      const lines: string[] = [];
      let healthy: boolean;
      try {
        healthy = sources.healthy();
        lines.push(...this.#statusLines(sources.status(), false));
        if (sources.extendTimeout()) lines.push(notifyLine('EXTEND_TIMEOUT_USEC', this.#tickMs * 3 * 1000));
      } catch (error) {
        healthy = false;
        this.#onError(error instanceof Error ? error : new Error(String(error)));
      }
      if (healthy && this.watchdogMs !== undefined) lines.unshift(notifyLine('WATCHDOG', 1));
      if (lines.length) this.#enqueue(lines, true);
    };
    this.#timer = setInterval(tick, this.#tickMs);
    tick();
  }

  /** Stops the tick and waits (up to `timeoutMs`) for the messages still queued. */
  async close(timeoutMs = 5000): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush(timeoutMs);
  }

  /** Resolves when every queued message was sent (or failed), or after `timeoutMs`. */
  async flush(timeoutMs = Infinity): Promise<void> {
    const drained = async () => {
      while (this.#sending) await this.#sending;
    };
    if (timeoutMs === Infinity) return drained();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  #statusLines(text: string | undefined, force: boolean): string[] {
    if (text === undefined || (!force && text === this.#lastStatus)) return [];
    this.#lastStatus = text;
    return [notifyLine('STATUS', text)];
  }

  #enqueue(lines: string[], tick = false): void {
    if (!this.enabled || this.#broken) return;
    const last = this.#queue[this.#queue.length - 1];
    if (tick && last?.tick) {
      // A newer tick replaces one still waiting, keeping a status line the newer one does not repeat.
      const keys = new Set(lines.map((l) => l.slice(0, l.indexOf('='))));
      last.lines = [...lines, ...last.lines.filter((l) => !keys.has(l.slice(0, l.indexOf('='))))];
    } else {
      this.#queue.push({ lines, tick });
    }
    this.#sending ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        try {
          await this.#send(next.lines);
        } catch (error) {
          const err = error instanceof Error ? error : new Error(String(error));
          if (/is not installed/.test(err.message)) {
            this.#broken = true;
            this.#queue.length = 0;
          }
          this.#onError(err);
        }
      }
    } finally {
      this.#sending = undefined;
    }
  }
}
