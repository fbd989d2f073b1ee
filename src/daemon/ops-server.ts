import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo, isIP, type Socket } from 'node:net';

/** What the ops server asks the daemon for. */
export interface OpsHandlers {
  /** True once the first reconcile finished. */
  ready(): boolean;
  /** Why the daemon works only in part (a source it cannot read), or undefined: then `/readyz` answers 503. */
  degraded?(): string | undefined;
  /** The Prometheus exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The `/status` JSON. */
  status(): unknown;
  /** The status page (`/`), a whole HTML document; without it `/` is a 404. */
  page?(): string;
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

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  host: string;
  port: number;
  handlers: OpsHandlers;
  /**
   * When set, `/`, `/status` and `/metrics` need it: `Authorization: Bearer <token>`, or HTTP Basic with the token as
   * the password (any user name), which a browser asks for. Never logged.
   */
  token?: string | undefined;
  /** Host names a request's Host header may name, besides loopback names, IP literals of the bound address and `host`. */
  allowedHosts?: readonly string[] | undefined;
  /** Warnings worth a log line (binding a non-loopback address without a token). */
  onWarning?: ((message: string) => void) | undefined;
  /** Limits, for tests. @default OPS_SERVER_LIMITS */
  limits?: Partial<OpsServerLimits> | undefined;
}

/** See {@link OPS_SERVER_LIMITS}. */
export interface OpsServerLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * How the ops server protects itself from idle and slow clients: a monitoring endpoint must answer while someone
 * holds a thousand connections open, without the process running out of file descriptors.
 */
export const OPS_SERVER_LIMITS: Readonly<OpsServerLimits> = Object.freeze({
  /** Open connections at most; at the limit, the longest-idle connection is closed for a new one. */
  maxConnections: 64,
  /** A request's headers must arrive within this. */
  headersTimeoutMs: 10_000,
  /** A whole request must arrive within this. */
  requestTimeoutMs: 15_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** A connection that sends nothing for this long is closed. */
  idleTimeoutMs: 15_000,
});

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.', 'ip6-localhost', 'ip6-loopback']);

/**
 * The daemon's ops HTTP server: `GET /` (the status page, when `handlers.page` is given), `GET /healthz` (200 while
 * the process runs), `GET /readyz` (503 until the first reconcile finished, then 200; 503 `degraded: ...` while a
 * source cannot be read), `GET /metrics` (Prometheus text) and `GET /status` (JSON). Read-only: anything
 * else is a 404 (or 405 for another method).
 *
 * Hardened for a monitoring endpoint: at most `maxConnections` connections (the longest-idle one is closed to make
 * room, so that a flood of idle connections never locks out `/healthz`), header, request, keep-alive and idle
 * timeouts, a Host header check against DNS rebinding (403 unless the Host is a loopback name, an IP address of the
 * bound interface, `host` or one of `allowedHosts`), and an optional token for `/`, `/status` and `/metrics`.
 * Binding another address than loopback is reported through `onWarning`.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { handlers } = options;
  const limits: OpsServerLimits = { ...OPS_SERVER_LIMITS, ...options.limits };
  const tokenDigest = options.token === undefined ? undefined : digest(options.token);
  // Connections in the order they last became idle (a Map keeps insertion order); busy ones are not in it.
  const idle = new Map<Socket, number>();
  const sockets = new Set<Socket>();
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => {
      const socket = req.socket;
      idle.delete(socket);
      res.on('close', () => {
        if (!socket.destroyed && sockets.has(socket)) idle.set(socket, Date.now());
      });
      void handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, 'application/json; charset=utf-8', `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
        else res.destroy();
      });
    },
  );
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());

  let allowedHosts: Set<string> = new Set();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) return send(res, 403, 'text/plain; charset=utf-8', 'forbidden: this Host is not allowed (see daemon.http.allowedHosts)\n');
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const known = ['/healthz', '/readyz', '/metrics', '/status'].includes(pathname) || (pathname === '/' && handlers.page !== undefined);
    if (!known) return send(res, 404, 'text/plain; charset=utf-8', 'not found (try /, /healthz, /readyz, /metrics, /status)\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    // The page shows what /status shows (file names, errors): the same token guards it.
    if ((pathname === '/' || pathname === '/metrics' || pathname === '/status') && !authorized(req.headers.authorization)) {
      // A browser asks for a password on a Basic challenge (and sends it again on every reload); scripts send Bearer.
      res.setHeader('www-authenticate', pathname === '/' ? 'Basic realm="lanying-kb", charset="UTF-8"' : 'Bearer realm="lanying-kb"');
      return send(res, 401, 'text/plain; charset=utf-8', 'unauthorized: send Authorization: Bearer <daemon.http.token> (or Basic with the token as the password)\n');
    }
    switch (pathname) {
      case '/': {
        for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
        return send(res, 200, 'text/html; charset=utf-8', (handlers.page as () => string)());
      }
      case '/healthz':
        return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      case '/readyz': {
        if (!handlers.ready()) return send(res, 503, 'text/plain; charset=utf-8', 'not ready: the first reconcile has not finished\n');
        const degraded = handlers.degraded?.();
        return degraded === undefined ? send(res, 200, 'text/plain; charset=utf-8', 'ready\n') : send(res, 503, 'text/plain; charset=utf-8', `degraded: ${oneLineText(degraded)}\n`);
      }
      case '/metrics': {
        const { contentType, body } = await handlers.metrics();
        return send(res, 200, contentType, body);
      }
      default:
        return send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(handlers.status(), null, 2)}\n`);
    }
  }

  function authorized(header: string | undefined): boolean {
    if (tokenDigest === undefined) return true;
    const presented = presentedToken(header);
    return presented !== undefined && timingSafeEqual(digest(presented), tokenDigest);
  }

  function hostAllowed(header: string | undefined): boolean {
    // No Host at all: not a browser (HTTP/1.0 tools); a rebinding attack always carries the attacker's name.
    if (header === undefined) return true;
    const host = hostName(header);
    if (host === undefined) return false;
    return LOOPBACK_NAMES.has(host) || host.endsWith('.localhost') || allowedHosts.has(host) || ipAllowed(host);
  }

  function ipAllowed(host: string): boolean {
    if (isIP(host) === 0) return false;
    const bound = (server.address() as AddressInfo).address;
    // An IP address in the Host header cannot be rebound; only the addresses the server answers on make sense.
    return isLoopbackAddress(host) || bound === '0.0.0.0' || bound === '::' || sameAddress(host, bound);
  }

  server.on('connection', (socket) => {
    if (sockets.size >= limits.maxConnections) {
      const [oldest] = idle.keys();
      if (oldest) {
        idle.delete(oldest);
        sockets.delete(oldest);
        oldest.destroy();
      } else {
        // Every connection is busy with a request: this one cannot be served now.
        socket.destroy();
        return;
      }
    }
    sockets.add(socket);
    idle.set(socket, Date.now());
    socket.on('close', () => {
      sockets.delete(socket);
      idle.delete(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  allowedHosts = new Set([options.host, ...(options.allowedHosts ?? [])].map((h) => hostName(h) ?? h.toLowerCase()));
  const warning = exposureWarning(address.address, tokenDigest !== undefined);
  if (warning) options.onWarning?.(warning);
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

/** Text for a response line: control characters (a file name's line break) as escapes. */
function oneLineText(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * What the status page is sent with: a policy that lets it load nothing and run nothing (its only style is inline),
 * so that even a name that escaped escaping could not run a script; never framed; no referrer.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
});

/** The token of an `Authorization` header: `Bearer <token>`, or `Basic base64(user:token)` (the user name is ignored). */
function presentedToken(header: string | undefined): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The host part of a Host header (`name:port`, `[v6]:port`), lower-cased; undefined when malformed. */
function hostName(header: string): string | undefined {
  const text = header.trim().toLowerCase();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end > 0 ? text.slice(1, end) : undefined;
  }
  if (isIP(text) === 6) return text;
  const colon = text.lastIndexOf(':');
  const host = colon >= 0 ? text.slice(0, colon) : text;
  return host === '' ? undefined : host;
}

/** The warning for an ops server bound to `address`, or undefined for a loopback address. */
export function exposureWarning(address: string, hasToken: boolean): string | undefined {
  if (isLoopbackAddress(address)) return undefined;
  return (
    `the ops server listens on ${address}, not only on loopback: anyone who can reach this address can read /healthz and /readyz` +
    (hasToken ? '' : ', the status page, /status and /metrics (set daemon.http.token to require a token for those)')
  );
}

/** 127.0.0.0/8, ::1 and ::ffff:127.x.x.x. */
export function isLoopbackAddress(address: string): boolean {
  const plain = address.replace(/^::ffff:/i, '');
  return plain === '::1' || /^127\.\d+\.\d+\.\d+$/.test(plain);
}

function sameAddress(a: string, b: string): boolean {
  const norm = (x: string) => x.replace(/^::ffff:/i, '').toLowerCase();
  return norm(a) === norm(b);
}
