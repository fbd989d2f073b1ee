import { type Daemon, startDaemon } from '../../daemon/daemon.js';
import { createLogger, type LogFormat } from '../../daemon/logger.js';
import { UsageError } from '../../errors.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The options of `lanying-kb watch`. */
export interface WatchCommandOptions {
  /** `auto`: readable lines on a terminal, JSON otherwise (journald). */
  logFormat?: 'auto' | LogFormat;
  /** pino level name. @default 'info' ('debug' with --verbose) */
  logLevel?: string;
}

/**
 * `lanying-kb watch`: the long-running daemon. Logs go to stdout (JSON unless stdout is a terminal). SIGTERM or
 * SIGINT stops it gracefully (exit 0); a second one ends the process at once. SIGHUP reloads the configuration.
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
  const stopOffs: (() => void)[] = [];
  const stop = (signal: NodeJS.Signals) => {
    // Note: with these handlers gone, a second SIGINT/SIGTERM gets the default action and ends the process at once.
    // The state stays consistent: every write is an SQLite transaction (WAL); interrupted sends stay pending.
    for (const off of stopOffs.splice(0)) off();
    stopRequested = signal;
    logger?.info({ event: 'signal', signal }, `${signal} received: stopping (send it again to exit at once)`);
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
    void daemon.reload();
  });

  try {
    const config = await loadCliConfig(globals, ctx);
    const format: LogFormat = options.logFormat === 'json' || options.logFormat === 'pretty' ? options.logFormat : globals.json || !ctx.stdout.isTTY ? 'json' : 'pretty';
    logger = createLogger({ destination: ctx.stdout, format, level: options.logLevel ?? (globals.verbose ? 'debug' : 'info') });
    if (stopRequested) return EXIT.OK;
    daemon = await startDaemon({ config, logger, reload: () => loadCliConfig(globals, ctx) });
    if (stopRequested) stop(stopRequested);
    else if (reloadRequested) void daemon.reload();
    await daemon.stopped;
    return EXIT.OK;
  } finally {
    for (const off of stopOffs.splice(0)) off();
    hupOff();
  }
}
