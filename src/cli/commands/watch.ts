import { type ControlServer, startControlServer } from '../../daemon/control-socket.js';
import { type Daemon, type ReloadResult, startDaemon } from '../../daemon/daemon.js';
import { createLogger, type LogFormat } from '../../daemon/logger.js';
import { formatSystemdStatus, SystemdNotifier } from '../../daemon/systemd-notify.js';
import { UsageError } from '../../errors.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { isJournalStream } from '../journal-stream.js';
import { loadCliConfig } from '../load-config.js';
import { preloadLaterModules } from '../preload-modules.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The options of `lanying-kb watch`. */
export interface WatchCommandOptions {
  /** `auto`: readable lines on a terminal, JSON otherwise (journald). */
  logFormat?: 'auto' | LogFormat;
  /** pino level name. @default 'info' ('debug' with --verbose) */
  logLevel?: string;
}

/**
 * `lanying-kb watch`: the long-running daemon. Logs go to stdout (JSON unless stdout is a terminal; with syslog
 * priority prefixes when stdout is the journal). SIGTERM or SIGINT stops it gracefully (exit 0); a second one ends the
 * process at once. SIGHUP, or `lanying-kb reload` through the control socket, reloads the configuration.
 * Under systemd (`Type=notify`) it reports READY/RELOADING/STOPPING, a STATUS line, and pings the watchdog.
 * Exit 2 when the configuration is invalid or another lanying-kb holds the state folder.
 */
export async function watchCommand(options: WatchCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  if (options.logFormat !== undefined && !['auto', 'json', 'pretty'].includes(options.logFormat)) {
    throw new UsageError(`--log-format must be auto, json or pretty (got "${options.logFormat}")`);
  }
  if (options.logLevel !== undefined && !LOG_LEVELS.includes(options.logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${options.logLevel}")`);
  }
  // The handlers are in place before anything starts, so that an early signal is not the default action.
  let daemon: Daemon | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let reloadRequested = false;
  let logger: ReturnType<typeof createLogger> | undefined;
  const notifier = new SystemdNotifier({
    env: ctx.env,
    pid: process.pid,
    onError: (error) => logger?.warn({ event: 'systemd-notify-failed', error: error.message }, `cannot notify systemd: ${error.message}`),
  });
  const status = () => (daemon ? formatSystemdStatus(daemon.status()) : 'starting');
  let reloading = 0;
  let reloads: Promise<unknown> = Promise.resolve();
  /** One reload at a time, each framed by RELOADING=1 and READY=1 for systemd. */
  const reload = (running: Daemon): Promise<ReloadResult> => {
    const run = async () => {
      reloading++;
      notifier.reloading('reloading the configuration');
      let result: ReloadResult;
      try {
        result = await running.reload();
      } finally {
        reloading--;
        if (!stopRequested) notifier.ready(status());
      }
      // `lanying-kb reload` (ExecReload=) gets its answer once systemd has READY=1.
      await notifier.flush(5000);
      return result;
    };
    const next = reloads.then(run, run);
    reloads = next;
    return next;
  };

  const stopOffs: (() => void)[] = [];
  const stop = (signal: NodeJS.Signals) => {
    // Note: with these handlers gone, a second SIGINT/SIGTERM gets the default action and ends the process at once.
    // The state stays consistent: every write is an SQLite transaction (WAL); interrupted sends stay pending.
    for (const off of stopOffs.splice(0)) off();
    stopRequested = signal;
    logger?.info({ event: 'signal', signal }, `${signal} received: stopping (send it again to exit at once)`);
    notifier.stopping(`stopping (${signal})`);
    void daemon?.stop();
  };
  stopOffs.push(ctx.onSignal('SIGTERM', () => stop('SIGTERM')));
  stopOffs.push(ctx.onSignal('SIGINT', () => stop('SIGINT')));
  const hupOff = ctx.onSignal('SIGHUP', () => {
    if (!daemon) {
      reloadRequested = true;
      return;
    }
    logger?.info({ event: 'signal', signal: 'SIGHUP' }, 'SIGHUP received: reloading the configuration');
    void reload(daemon);
  });

  let control: ControlServer | undefined;
  try {
    const config = await loadCliConfig(globals, ctx);
    const format: LogFormat = options.logFormat === 'json' || options.logFormat === 'pretty' ? options.logFormat : globals.json || !ctx.stdout.isTTY ? 'json' : 'pretty';
    const journal = isJournalStream(ctx.env.JOURNAL_STREAM, (ctx.stdout as { fd?: number }).fd);
    logger = createLogger({ destination: ctx.stdout, format, level: options.logLevel ?? (globals.verbose ? 'debug' : 'info'), syslogPrefix: journal });
    if (stopRequested) return EXIT.OK;
    await preloadLaterModules();
    // The tick runs on the event loop (a blocked loop sends no watchdog ping); it also asks the daemon for its status,
    // so a daemon whose status() throws is not reported healthy. The start and reload timeouts are extended while
    // the first reconcile or a reload runs, never the stop timeout.
    let stopped = false;
    notifier.startTicking({
      healthy: () => {
        if (stopped) return false;
        daemon?.status();
        return true;
      },
      status,
      extendTimeout: () => !stopRequested && (!daemon?.isReady || reloading > 0),
    });
    const running = await startDaemon({ config, logger, reload: () => loadCliConfig(globals, ctx) });
    daemon = running;
    void running.stopped.then(() => (stopped = true));
    try {
      control = await startControlServer(running.config.sync.stateDir, { reload: () => reload(running) });
    } catch (error) {
      logger.warn({ event: 'control-socket-failed', error: (error as Error).message }, `no control socket: ${(error as Error).message}`);
    }
    if (stopRequested) stop(stopRequested);
    else if (reloadRequested) void reload(running);
    void running.ready.then(() => {
      if (running.isReady && !stopRequested) notifier.ready(status());
    });
    await running.stopped;
    return EXIT.OK;
  } finally {
    for (const off of stopOffs.splice(0)) off();
    hupOff();
    await control?.close();
    await notifier.close();
  }
}
