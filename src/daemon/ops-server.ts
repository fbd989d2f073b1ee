import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

/** What the ops server asks the daemon for. */
export interface OpsHandlers {
  /** True once the first reconcile finished. */
  ready(): boolean;
  /** The Prometheus exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The `/status` JSON. */
  status(): unknown;
}

/** A running ops server. */
export interface OpsServer {
  /** The address it listens on (the real port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The daemon's ops HTTP server: `GET /healthz` (200 while the process runs), `GET /readyz` (503 until the first
 * reconcile finished, then 200), `GET /metrics` (Prometheus text) and `GET /status` (JSON). Read-only: anything
 * else is a 404 (or 405 for another method). Bind it to loopback unless something else protects it.
 */
export async function startOpsServer(options: { host: string; port: number; handlers: OpsHandlers }): Promise<OpsServer> {
  const { handlers } = options;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'application/json; charset=utf-8', `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const known = ['/healthz', '/readyz', '/metrics', '/status'].includes(pathname);
    if (!known) return send(res, 404, 'text/plain; charset=utf-8', 'not found (try /healthz, /readyz, /metrics, /status)\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    switch (pathname) {
      case '/healthz':
        return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      case '/readyz':
        return handlers.ready() ? send(res, 200, 'text/plain; charset=utf-8', 'ready\n') : send(res, 503, 'text/plain; charset=utf-8', 'not ready: the first reconcile has not finished\n');
      case '/metrics': {
        const { contentType, body } = await handlers.metrics();
        return send(res, 200, contentType, body);
      }
      default:
        return send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(handlers.status(), null, 2)}\n`);
    }
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    url: `http://${hostForUrl}:${address.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
