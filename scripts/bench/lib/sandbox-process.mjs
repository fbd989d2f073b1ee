/* global fetch */
/**
 * The sandbox in a separate process (`lanying-kb sandbox --port 0 --json`), so that its CPU time is not the
 * measured process's. Faults are set and traffic dropped through its control routes (`/_sandbox/...`).
 */
import { spawn } from 'node:child_process';

/**
 * @param {{ cli: string, cwd: string }} options
 * @returns {Promise<{ url: string, config: object, pid: number, setFaults(rules: object[]): Promise<void>,
 *   reset(): Promise<void>, state(): Promise<object>, stop(): Promise<void> }>}
 */
/** The sandbox process's heap limit (MB). */
const SANDBOX_HEAP_MB = 12_288;

export async function startSandboxProcess({ cli, cwd }) {
  // The sandbox keeps every message and document in memory. A first sync of a million files (at 52e05a7) stopped at
  // 493k files with its connections refused: the sandbox process was gone, likely at V8's default heap limit
  // (4 GB here). Its stderr was not shown; it is now.
  const child = spawn(process.execPath, [`--max-old-space-size=${SANDBOX_HEAP_MB}`, cli, 'sandbox', '--port', '0', '--json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let started = false;
  child.stderr.on('data', (d) => (err = (err + d).slice(-20_000)));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // A sandbox that dies under a run says why, at once: the run would only see its connections refused.
  child.on('exit', (code, signal) => {
    if (started && !stopping) console.error(`the sandbox process exited during the run (${code ?? signal}):\n${err.slice(-4000)}`);
  });
  let stopping = false;
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sandbox did not start in 20 s: ${err}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      try {
        const parsed = JSON.parse(out);
        clearTimeout(timer);
        resolve(parsed);
      } catch {
        // not complete yet
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox exited (${code}): ${err}`));
    });
  });
  started = true;
  child.stdout.resume();
  const url = info.url;
  const control = async (method, route, body) => {
    const res = await fetch(`${url}/_sandbox/${route}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`sandbox ${method} ${route}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    url,
    config: info.config,
    pid: child.pid,
    setFaults: async (rules) => void (await control('POST', 'faults', { rules })),
    reset: async () => void (await control('POST', 'reset')),
    state: () => control('GET', 'state'),
    stop: async () => {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
