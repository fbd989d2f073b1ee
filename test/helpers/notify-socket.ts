import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { tmpDir } from './tmp-dir.js';

/**
 * A fake `$NOTIFY_SOCKET`: a real unix datagram socket, bound and read by a small python3 program (Node.js cannot
 * open a unix datagram socket), which prints each datagram as a JSON line with the `CLOCK_MONOTONIC` time (in µs)
 * it arrived at. Reading without room for ancillary data closes the descriptor a barrier (`BARRIER=1`, which
 * systemd-notify sends to wait until the message was taken) carries, which is what systemd does with it.
 */
const READER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"listening": sys.argv[1]}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"at": time.monotonic_ns() // 1000, "text": data.decode("utf-8", "replace")}), flush=True)
`;

export interface NotifyMessage {
  /** CLOCK_MONOTONIC in µs when the datagram arrived. */
  at: number;
  /** The datagram as sent. */
  text: string;
  /** Its `KEY=VALUE` lines as a map (a repeated key keeps its last value). */
  fields: Record<string, string>;
}

export interface FakeNotifySocket {
  path: string;
  /** Every datagram so far, barriers included. */
  messages: NotifyMessage[];
  /** Datagrams without the `BARRIER=1` ones systemd-notify adds. */
  notifications(): NotifyMessage[];
  waitFor(predicate: (m: NotifyMessage) => boolean, timeoutMs: number, what: string): Promise<NotifyMessage>;
  /** `CLOCK_MONOTONIC` in µs as the reader's clock counts it now (to compare with MONOTONIC_USEC). */
  now(): Promise<number>;
}

/** Why the notify-protocol tests cannot run here, or undefined when they can. */
export function notifySkipReason(): string | undefined {
  for (const [command, args] of [
    ['python3', ['-c', 'import socket; socket.AF_UNIX']],
    ['systemd-notify', ['--help']],
  ] as const) {
    const probe = spawnSync(command, args, { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) return `${command} is not available here (apt-get install ${command === 'python3' ? 'python3' : 'systemd'})`;
  }
  return undefined;
}

export async function fakeNotifySocket(): Promise<FakeNotifySocket> {
  const file = path.join(tmpDir('lkb-notify-'), 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', READER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  const messages: NotifyMessage[] = [];
  let partial = '';
  let listening: () => void = () => {};
  const ready = new Promise<void>((resolve) => (listening = resolve));
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = JSON.parse(partial.slice(0, nl)) as { listening?: string; at?: number; text?: string };
      partial = partial.slice(nl + 1);
      if (line.listening) listening();
      else if (line.text !== undefined) {
        const fields: Record<string, string> = {};
        for (const l of line.text.split('\n')) {
          const eq = l.indexOf('=');
          if (eq > 0) fields[l.slice(0, eq)] = l.slice(eq + 1);
        }
        messages.push({ at: line.at ?? 0, text: line.text, fields });
      }
    }
  });
  await ready;
  const notifications = () => messages.filter((m) => m.fields.BARRIER !== '1');
  return {
    path: file,
    messages,
    notifications,
    waitFor: async (predicate, timeoutMs, what) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = notifications().find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got: ${JSON.stringify(notifications().map((m) => m.text))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    now: async () => {
      const out = spawnSync('python3', ['-c', 'import time; print(time.monotonic_ns() // 1000)'], { encoding: 'utf8' });
      return Number(out.stdout.trim());
    },
  };
}
