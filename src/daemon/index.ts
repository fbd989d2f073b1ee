/**
 * `lanying-kb/daemon`: the long-running watch daemon and its logger. A separate entry point, so that importing the
 * core (`lanying-kb`) loads none of it (chokidar, prom-client, pino).
 *
 * ```ts
 * import { loadConfig } from 'lanying-kb';
 * import { createLogger, startDaemon } from 'lanying-kb/daemon';
 *
 * const daemon = await startDaemon({ config: await loadConfig({ file: 'kb.json' }), logger: createLogger({ destination: process.stdout }) });
 * await daemon.ready;
 * process.once('SIGTERM', () => void daemon.stop());
 * ```
 */
export { startDaemon, type Daemon, type DaemonOptions, type ReloadResult } from './daemon.js';
export type { DaemonStatus, LiveSourceStatus, LiveStatus } from './live-status.js';
export { createLogger, silentLogger, type CreateLoggerOptions, type LogFormat, type Logger } from './logger.js';
