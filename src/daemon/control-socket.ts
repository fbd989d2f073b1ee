import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LanyingKbError } from '../errors.js';
import type { ReloadResult } from './daemon.js';

/**
 * The daemon's control socket: a unix stream socket in the state folder (mode 0600, in a folder only the daemon's
 * user may enter) through which `lanying-kb reload` asks the running daemon to reload and waits for its answer.
 * systemd's `ExecReload=` runs that command, so `systemctl reload` returns when the reload is done and fails when
 * the new configuration was refused.
 *
 * The protocol: one JSON line each way. Request `{"command":"reload"}`; answer the `ReloadResult`
 * (`{"ok":true,"added":[],"removed":[],"changed":[]}` or `{"ok":false,"error":"..."}`).
 */

/** The socket's file name in the state folder. */
export const CONTROL_SOCKET_NAME = 'control.sock';

/** The longest unix socket path Linux accepts (`sun_path` is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;
/** A request is one short line. */
const MAX_REQUEST_BYTES = 4096;
/** Time to send the request line. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Connections served at once. */
const MAX_CONNECTIONS = 8;

export function controlSocketPath(stateDir: string): string {
  return path.join(stateDir, CONTROL_SOCKET_NAME);
}

/** What the control socket can do. */
export interface ControlHandlers {
  reload: () => Promise<ReloadResult>;
}

export interface ControlServer {
  readonly path: string;
  /** Stops listening (the socket file is removed) and closes open connections. */
  close(): Promise<void>;
}

/**
 * Listens on `<stateDir>/control.sock`. The caller holds the state folder's lock, so a socket file already there
 * was left by a daemon that died: it is replaced.
 */
export async function startControlServer(stateDir: string, handlers: ControlHandlers): Promise<ControlServer> {
  const file = controlSocketPath(stateDir);
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH) {
    throw new LanyingKbError(`${file}: the path is longer than a unix socket allows (${MAX_SOCKET_PATH} bytes); \`lanying-kb reload\` cannot reach this daemon (SIGHUP still reloads it)`);
  }
  rmSync(file, { force: true });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, handlers);
  });
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(file, 0o600);
  return {
    path: file,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function serve(socket: net.Socket, handlers: ControlHandlers): void {
  let received = '';
  let answered = false;
  socket.setEncoding('utf8');
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    if (answered) return;
    received += chunk;
    const newline = received.indexOf('\n');
    if (newline < 0) {
      if (received.length > MAX_REQUEST_BYTES) socket.destroy();
      return;
    }
    answered = true;
    socket.setTimeout(0);
    void answer(received.slice(0, newline), handlers).then((reply) => {
      if (!socket.destroyed) socket.end(`${JSON.stringify(reply)}\n`);
    });
  });
}

async function answer(line: string, handlers: ControlHandlers): Promise<ReloadResult | { ok: false; error: string }> {
  let command: unknown;
  try {
    command = (JSON.parse(line) as { command?: unknown }).command;
  } catch {
    return { ok: false, error: 'the request is not JSON' };
  }
  if (command !== 'reload') return { ok: false, error: `unknown command ${JSON.stringify(command)}` };
  try {
    return await handlers.reload();
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), added: [], removed: [], changed: [] };
  }
}

/**
 * Asks the daemon that runs with `stateDir` to reload its configuration and waits for its answer (a reload waits for
 * the operation in progress, so this can take as long as that). A `LanyingKbError` when no daemon answers.
 */
export function requestReload(stateDir: string): Promise<ReloadResult> {
  const file = controlSocketPath(stateDir);
  return new Promise((resolve, reject) => {
    const socket = net.connect(file);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ command: 'reload' })}\n`));
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.message;
      const why = code === 'ENOENT' || code === 'ECONNREFUSED' ? 'no lanying-kb watch is running with this state folder' : `cannot connect (${code})`;
      reject(new LanyingKbError(`${file}: ${why}`, { cause: error }));
    });
    socket.on('end', () => {
      const line = received.split('\n')[0] ?? '';
      try {
        const reply = JSON.parse(line) as ReloadResult;
        resolve({ ok: reply.ok === true, error: reply.error, added: reply.added ?? [], removed: reply.removed ?? [], changed: reply.changed ?? [] });
      } catch {
        reject(new LanyingKbError(`${file}: the daemon closed the connection without an answer`));
      }
    });
  });
}
