/**
 * Runs child processes and measures them: wall time (from spawn to exit, measured here), peak RSS and CPU time
 * (from GNU `/usr/bin/time`, or by polling `/proc/<pid>/status` VmHWM where that is missing), and runs
 * several commands interleaved, hyperfine-style.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summarise } from './stats.mjs';

const GNU_TIME = '/usr/bin/time';
let timeFileCounter = 0;

/** Whether GNU time (Debian package `time`) is there: it reports a child's peak RSS exactly. */
export function hasGnuTime() {
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How peak RSS is measured on this machine. */
export function rssMethod() {
  return hasGnuTime() ? 'GNU time (`/usr/bin/time -f %M`): the child\'s exact peak RSS' : 'polling /proc/<pid>/status VmHWM every 10 ms (a lower bound)';
}

/** The process GNU time started (its only child), or the pid itself when it has none (yet). */
function measuredPid(pid) {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length > 0 ? Number(children[0]) : pid;
  } catch {
    return pid;
  }
}

function readRssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function readHwmKb(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs one command to its end.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, stdout?: string, stderr?: string, timeoutMs?: number, allowFail?: boolean, sampleRssMs?: number }} [options]
 *   `stdout` / `stderr`: a file to write to (default /dev/null). `sampleRssMs`: read the measured process's RSS
 *   (/proc/<pid>/status VmRSS) this often over its whole run: `rssSeries` holds [ms since start, kB] pairs.
 * @returns {Promise<{ wallMs: number, maxRssKb: number, userMs: number|undefined, sysMs: number|undefined, exitCode: number|null, signal: string|null, rssSeries?: [number, number][] }>}
 */
export async function measure(cmd, args, options = {}) {
  const useTime = hasGnuTime();
  const timeFile = useTime ? path.join(os.tmpdir(), `lanying-kb-bench-time-${process.pid}-${timeFileCounter++}.txt`) : undefined;
  const outFd = fs.openSync(options.stdout ?? '/dev/null', 'w');
  const errFd = fs.openSync(options.stderr ?? '/dev/null', 'w');
  const argv = useTime ? ['-f', '%M %U %S', '-o', timeFile, cmd, ...args] : args;
  const started = performance.now();
  let child;
  try {
    child = spawn(useTime ? GNU_TIME : cmd, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', outFd, errFd] });
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
  let polledKb = 0;
  const poll = useTime ? undefined : setInterval(() => (polledKb = Math.max(polledKb, readHwmKb(child.pid))), 10);
  /** @type {[number, number][] | undefined} */
  const rssSeries = options.sampleRssMs ? [] : undefined;
  let target;
  const sampler = rssSeries
    ? setInterval(() => {
        target ??= useTime ? (() => { const p = measuredPid(child.pid); return p === child.pid ? undefined : p; })() : child.pid;
        const kb = target === undefined ? undefined : readRssKb(target);
        if (kb !== undefined) rssSeries.push([Math.round(performance.now() - started), kb]);
      }, options.sampleRssMs)
    : undefined;
  const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
  const { code, signal } = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c, s) => resolve({ code: c, signal: s }));
  });
  const wallMs = performance.now() - started;
  if (poll) clearInterval(poll);
  if (sampler) clearInterval(sampler);
  if (timer) clearTimeout(timer);
  let maxRssKb = polledKb;
  let userMs;
  let sysMs;
  if (timeFile) {
    const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
    fs.rmSync(timeFile, { force: true });
    const [rss, user, sys] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
    maxRssKb = rss ?? 0;
    userMs = user * 1000;
    sysMs = sys * 1000;
  }
  // GNU time exits with the command's status.
  const result = { wallMs, maxRssKb, userMs, sysMs, exitCode: code, signal, ...(rssSeries ? { rssSeries } : {}) };
  if (!options.allowFail && (code !== 0 || signal)) {
    const err = options.stderr ? fs.readFileSync(options.stderr, 'utf8').slice(-2000) : '';
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${code ?? signal})${err ? `:\n${err}` : ''}`);
  }
  return result;
}

/**
 * Runs commands interleaved (A B C, A B C, ...) after `warmup` unmeasured rounds, like hyperfine does for
 * each command but without letting one command's runs bunch together in time.
 * @param {{ name: string, cmd: string, args: string[], stdout?: string, cwd?: string, check?: (i: number) => void, sampleRssMs?: number }[]} commands
 * @param {{ runs: number, warmup?: number, onRun?: (name: string, i: number, r: object) => void }} options
 */
export async function interleave(commands, { runs, warmup = 1, onRun }) {
  const samples = new Map(commands.map((c) => [c.name, []]));
  for (let round = -warmup; round < runs; round++) {
    for (const c of commands) {
      const r = await measure(c.cmd, c.args, { cwd: c.cwd, stdout: c.stdout, stderr: c.stderr, sampleRssMs: c.sampleRssMs });
      c.check?.(round);
      if (round < 0) continue;
      samples.get(c.name).push(r);
      onRun?.(c.name, round, r);
    }
  }
  const out = {};
  for (const c of commands) {
    const runsOf = samples.get(c.name);
    out[c.name] = {
      command: [c.cmd, ...c.args].join(' '),
      wallMs: summarise(runsOf.map((r) => r.wallMs)),
      maxRssKb: Math.max(...runsOf.map((r) => r.maxRssKb)),
      cpuMs: summarise(runsOf.map((r) => (r.userMs ?? 0) + (r.sysMs ?? 0))),
      ...(c.sampleRssMs ? { rssSeries: runsOf.at(-1)?.rssSeries ?? [] } : {}),
    };
  }
  return out;
}
