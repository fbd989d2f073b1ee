import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestLogEntry } from './types.js';

/** One HTTP request being served: the raw objects, the parsed URL and its request-log entry. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  pathname: string;
  /** Undefined for control routes, which are not logged. */
  log: RequestLogEntry | undefined;
  /** Set when the answer went out on the raw socket instead (an incomplete body), so the handler must not write. */
  abandoned: boolean;
  /** A JSON body read ahead of the handler (so that a faulted send still logs its transaction_id). */
  preloaded?: { data: Buffer; tooLarge: boolean; parsed?: unknown };
}

/** Whether the response can still be written. */
export function canRespond(ex: Exchange): boolean {
  return !ex.abandoned && !ex.res.headersSent && !ex.res.destroyed && !ex.req.socket.destroyed;
}

/** One request header's value (the first, when it was sent twice). */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
