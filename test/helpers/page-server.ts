import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { onTestFinished } from 'vitest';

/** What the server answers on one path. */
export interface PageSpec {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string | number | string[]>;
  /** Sent with `res.end()`, with a Content-Length unless `headers` has one. */
  body?: string | Buffer;
  /** Sent one by one with `chunkIntervalMs` between them (chunked, no Content-Length unless set). */
  chunks?: (string | Buffer)[];
  chunkIntervalMs?: number;
  /** Wait this long before sending the headers. */
  delayMs?: number;
  /** Never answer at all. */
  hang?: boolean;
}

/** A request the server received. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export type PageHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local HTTP server on 127.0.0.1 whose answers a test sets per path; anything else is a 404. */
export interface PageServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The absolute URL of a path. */
  url(path: string): string;
  /** Sets what a path (with its query, e.g. `/a?x=1`; the path alone matches any query) answers. */
  set(path: string, spec: PageSpec | PageHandler): void;
  /** Every request received, in order. */
  requests: SeenRequest[];
  /** The requests received for a path (without its query). */
  requestsTo(path: string): SeenRequest[];
  /** A dedicated undici Agent, destroyed by `close()`. */
  dispatcher: Agent;
  close(): Promise<void>;
}

/** Starts a page server on 127.0.0.1 port 0. Prefer {@link usePageServer} in tests. */
export async function startPageServer(): Promise<PageServer> {
  const routes = new Map<string, PageSpec | PageHandler>();
  const requests: SeenRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const pathOnly = url.split('?')[0] ?? url;
    requests.push({ method: req.method ?? 'GET', path: url, headers: req.headers });
    const route = routes.get(url) ?? routes.get(pathOnly);
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    if (typeof route === 'function') {
      route(req, res);
      return;
    }
    if (route.hang) return;
    const respond = () => {
      const headers: Record<string, string | number | string[]> = { ...route.headers };
      const hasLength = Object.keys(headers).some((name) => name.toLowerCase() === 'content-length');
      if (!route.chunks && !hasLength) headers['content-length'] = Buffer.byteLength(route.body ?? '');
      res.writeHead(route.status ?? 200, headers);
      if (route.chunks) {
        const chunks = [...route.chunks];
        const next = () => {
          if (res.destroyed) return;
          const chunk = chunks.shift();
          if (chunk === undefined) {
            res.end();
            return;
          }
          res.write(chunk);
          later(route.chunkIntervalMs ?? 0, next);
        };
        next();
        return;
      }
      res.end(route.body ?? '');
    };
    if (route.delayMs) later(route.delayMs, respond);
    else respond();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const dispatcher = new Agent();

  return {
    origin,
    url: (path) => `${origin}${path}`,
    set: (path, spec) => {
      routes.set(path, spec);
    },
    requests,
    requestsTo: (path) => requests.filter((r) => (r.path.split('?')[0] ?? r.path) === path),
    dispatcher,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatcher.destroy();
    },
  };
}

/** Starts a page server that is closed when the current test finishes. */
export async function usePageServer(): Promise<PageServer> {
  const server = await startPageServer();
  onTestFinished(() => server.close());
  return server;
}
