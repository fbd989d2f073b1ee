import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadUndici } from '../api/lazy-modules.js';
import type { ResolvedConfig } from '../config/resolve.js';
import type { StatusSummary } from '../state/status-summary.js';
import type { WatchState } from '../sources/types.js';
import type { RateSnapshot } from './rate-meter.js';
import { escapeControl } from '../util/terminal-text.js';
import { formatDuration } from '../util/units.js';

/** The file in the state folder where a running daemon says where its ops server listens. */
export const DAEMON_FILE_NAME = 'daemon.json';

/** What `daemon.json` holds. */
export interface DaemonFile {
  pid: number;
  startedAt: string;
  http?: { host: string; port: number } | undefined;
}

/** One source as the running daemon sees it. */
export interface LiveSourceStatus {
  name: string;
  /** The source type (`folder`, `urls`, ...). */
  type: string;
  /**
   * Watched sources: their watcher; the others: `scheduled` (observed again every poll interval, e.g.
   * `refreshInterval`); `unavailable`: the source cannot be read now (an unmounted folder, ...; see `lastError`).
   */
  state: WatchState | 'scheduled' | 'unavailable';
  lastReconcileAt: string | null;
  lastOutcome: string | null;
  lastError: string | null;
  /** Changed paths waiting (debouncing, or for the engine). */
  pendingPaths: number;
  /** URL sources: when they are checked next. */
  nextRefreshAt: string | null;
}

/** The daemon's own part of `/status`. */
export interface DaemonStatus {
  pid: number;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  stateDir: string;
  configFile: string | null;
  /** The first reconcile finished. */
  ready: boolean;
  stopping: boolean;
  /** What the engine does now. */
  current: { kind: string; sources: string[]; paths?: number; since: string } | null;
  queue: { waiting: number; inFlight: number; pendingPaths: number };
  /** Documents sent and failed, and bytes sent, over the last few minutes. */
  rate: RateSnapshot;
  lastSuccessAt: string | null;
  nextReconcileAt: string | null;
  sources: LiveSourceStatus[];
}

/** `GET /status`: what `lanying-kb status` shows (from the state database) plus the daemon's live view. */
export interface LiveStatus extends StatusSummary {
  stateFile: string | null;
  daemon: DaemonStatus;
}

/** Writes `daemon.json` (mode 0600) into the state folder. */
export function writeDaemonFile(stateDir: string, info: DaemonFile): void {
  writeFileSync(path.join(stateDir, DAEMON_FILE_NAME), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** Removes `daemon.json` when it is this process's. */
export function removeDaemonFile(stateDir: string, pid: number): void {
  const file = readDaemonFile(stateDir);
  if (file && file.pid === pid) rmSync(path.join(stateDir, DAEMON_FILE_NAME), { force: true });
}

/** What `daemon.json` says, or undefined when there is none (or it cannot be read). */
export function readDaemonFile(stateDir: string): DaemonFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path.join(stateDir, DAEMON_FILE_NAME), 'utf8')) as DaemonFile;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks the running daemon (`daemon.http` of the configuration) for its `/status`. Undefined when `daemon.http` is
 * not set, nothing answers within `timeoutMs`, or what answers is a daemon of another state folder. With port 0,
 * the port the daemon wrote to `daemon.json` is used.
 */
export async function fetchLiveStatus(config: Pick<ResolvedConfig, 'daemon' | 'sync'>, options: { timeoutMs?: number } = {}): Promise<LiveStatus | undefined> {
  const http = config.daemon.http;
  if (!http) return undefined;
  const port = http.port !== 0 ? http.port : readDaemonFile(config.sync.stateDir)?.http?.port;
  if (!port) return undefined;
  const host = http.host === '0.0.0.0' ? '127.0.0.1' : http.host === '::' ? '::1' : http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/status`;
  try {
    const { request } = await loadUndici();
    const headers = http.token === undefined ? undefined : { authorization: `Bearer ${http.token}` };
    const res = await request(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 1000), headersTimeout: options.timeoutMs ?? 1000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) return undefined;
    const body = JSON.parse(text) as LiveStatus;
    if (!body.daemon || path.resolve(body.daemon.stateDir) !== path.resolve(config.sync.stateDir)) return undefined;
    return body;
  } catch {
    return undefined;
  }
}

/** The daemon's part of `lanying-kb status`, as lines. */
export function formatDaemonStatus(daemon: DaemonStatus): string[] {
  const lines: string[] = [];
  const state = daemon.stopping ? 'stopping' : daemon.ready ? 'running' : 'starting (first reconcile)';
  lines.push(`Daemon: pid ${daemon.pid}, ${state}, up ${formatDuration(daemon.uptimeSeconds * 1000)}, lanying-kb ${daemon.version}`);
  const doing = daemon.current
    ? `${daemon.current.kind} of ${daemon.current.sources.join(', ') || 'every source'}${daemon.current.paths !== undefined ? ` (${daemon.current.paths} paths)` : ''} since ${daemon.current.since}`
    : 'idle';
  lines.push(`  now: ${doing}`);
  lines.push(`  queue: ${daemon.queue.waiting} waiting, ${daemon.queue.inFlight} uploading, ${daemon.queue.pendingPaths} changed paths pending`);
  lines.push(`  last success: ${daemon.lastSuccessAt ?? 'none yet'}; next full reconcile: ${daemon.nextReconcileAt ?? '-'}`);
  for (const s of daemon.sources) {
    const parts: string[] = [s.state];
    if (s.lastReconcileAt) parts.push(`last reconcile ${s.lastReconcileAt} (${s.lastOutcome ?? '?'})`);
    if (s.pendingPaths) parts.push(`${s.pendingPaths} pending`);
    if (s.nextRefreshAt) parts.push(`next check ${s.nextRefreshAt}`);
    if (s.lastError) parts.push(`error: ${escapeControl(s.lastError)}`);
    lines.push(`  ${escapeControl(s.name)} (${s.type}): ${parts.join(', ')}`);
  }
  return lines;
}
