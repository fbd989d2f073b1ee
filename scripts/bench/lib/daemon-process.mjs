/* global fetch */
/**
 * `lanying-kb watch` as a child process for the daemon benchmarks (e), (f) and (g): started with a config whose
 * `daemon.http` listens on 127.0.0.1 port 0 (the port is read from `daemon.json` in the state folder), ready when
 * `/readyz` answers 200 (after the first reconcile). Its CPU time and memory are read from /proc/<pid>, which does
 * not disturb it.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`; 100 on Linux). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a process (all its threads) in ms, from /proc/<pid>/stat; undefined once it is gone. */
export function cpuMsOf(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** VmRSS, VmHWM, RssAnon, RssFile (kB) and the thread count of a process, from /proc/<pid>/status. */
export function memoryOf(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), rssAnonKb: kb('RssAnon'), rssFileKb: kb('RssFile'), threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? NaN) };
  } catch {
    return undefined;
  }
}

/** How many inotify watches a process holds (the `inotify wd:` lines of its inotify descriptors' fdinfo). */
export function inotifyWatchesOf(pid) {
  let watches = 0;
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      let target;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.includes('inotify')) continue;
      const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      watches += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    }
  } catch {
    return undefined;
  }
  return watches;
}

/**
 * Samples a process's CPU time and memory every `everyMs` for `windowMs` (from now).
 * @returns {Promise<{ windowMs: number, cpuMs: number, samples: { t: number, cpuMs: number, rssKb: number, rssAnonKb: number, rssFileKb: number }[], end: object }>}
 */
export async function sampleProcess(pid, { windowMs, everyMs = 1000 }) {
  const t0 = performance.now();
  const cpu0 = cpuMsOf(pid);
  const samples = [];
  const take = () => {
    const m = memoryOf(pid);
    const c = cpuMsOf(pid);
    if (!m || c === undefined) throw new Error(`process ${pid} exited during the measurement window`);
    samples.push({ t: Math.round(performance.now() - t0), cpuMs: c - cpu0, rssKb: m.rssKb, rssAnonKb: m.rssAnonKb, rssFileKb: m.rssFileKb });
  };
  take();
  for (let next = everyMs; next <= windowMs; next += everyMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + next - performance.now())));
    take();
  }
  const end = memoryOf(pid);
  const last = samples[samples.length - 1];
  return { windowMs: last.t, cpuMs: last.cpuMs, samples, end };
}

/**
 * Starts `lanying-kb watch --config FILE` (JSON logs to `logFile`) and waits until `/readyz` answers 200.
 * @param {{ node: string, cli: string, config: string, stateDir: string, logFile: string, cwd?: string, readyTimeoutMs?: number }} options
 */
export async function startDaemonProcess({ node, cli, config, stateDir, logFile, cwd, readyTimeoutMs = 10 * 60_000 }) {
  const daemonFile = path.join(stateDir, 'daemon.json');
  fs.rmSync(daemonFile, { force: true });
  const out = fs.openSync(logFile, 'w');
  const startedAt = Date.now();
  const t0 = performance.now();
  let child;
  try {
    child = spawn(node, [cli, 'watch', '--config', config, '--log-format', 'json'], { cwd, stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // RSS every 100 ms until ready (reading /proc does not disturb the process), to tell which start-up phase peaks.
  const startupSamples = [];
  const sampler = setInterval(() => {
    const m = memoryOf(child.pid);
    if (m) startupSamples.push({ at: Date.now(), rssKb: m.rssKb });
  }, 100);
  let exit;
  void exited.then((e) => (exit = e));
  const tail = () => {
    clearInterval(sampler);
    return fs.readFileSync(logFile, 'utf8').slice(-3000);
  };
  const deadline = t0 + readyTimeoutMs;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // The ops server's port: `daemon.json` (written once the server listens, before the first reconcile).
  let url;
  while (!url) {
    if (exit) throw new Error(`lanying-kb watch exited (${exit.code ?? exit.signal}) before it started:\n${tail()}`);
    if (performance.now() > deadline) throw new Error(`lanying-kb watch did not start in ${readyTimeoutMs} ms:\n${tail()}`);
    try {
      const info = JSON.parse(fs.readFileSync(daemonFile, 'utf8'));
      if (info.pid === child.pid && info.http) url = `http://${info.http.host}:${info.http.port}`;
    } catch {
      // not written yet
    }
    if (!url) await sleep(50);
  }
  // Ready: /readyz answers 200 after the first reconcile (polled every 100 ms until then, never afterwards).
  let readyMs;
  while (readyMs === undefined) {
    if (exit) throw new Error(`lanying-kb watch exited (${exit.code ?? exit.signal}) before it was ready:\n${tail()}`);
    if (performance.now() > deadline) throw new Error(`lanying-kb watch was not ready in ${readyTimeoutMs} ms:\n${tail()}`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) readyMs = performance.now() - t0;
    } catch {
      // not listening yet
    }
    if (readyMs === undefined) await sleep(100);
  }
  clearInterval(sampler);

  return {
    pid: child.pid,
    url,
    startedAt,
    /** From spawn to the first 200 of /readyz (100 ms polling). */
    readyMs: Math.round(readyMs),
    /** { at (ms since the epoch), rssKb } every 100 ms from spawn to ready. */
    startupSamples,
    logFile,
    /** The JSON log lines so far. */
    logLines() {
      return fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return {};
          }
        });
    },
    async get(route) {
      const res = await fetch(`${url}${route}`);
      if (!res.ok) throw new Error(`GET ${route}: HTTP ${res.status}`);
      return route === '/metrics' ? res.text() : res.json();
    },
    /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit and how long the stop took. */
    async stop(timeoutMs = 60_000) {
      const s0 = performance.now();
      if (!exit) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const e = await exited;
      clearTimeout(timer);
      return { ...e, stopMs: Math.round(performance.now() - s0) };
    },
  };
}

/** The time (ms since the epoch) of the first log line with `event`, or undefined. */
export function logTime(lines, event) {
  const line = lines.find((l) => l.event === event);
  return line?.time ? Date.parse(line.time) : undefined;
}
