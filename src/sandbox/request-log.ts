import type { RequestLogEntry } from './types.js';

/** The most entries kept; older ones are dropped first (a long benchmark must not grow memory without bound). */
export const REQUEST_LOG_LIMIT = 20_000;

/** Every request the sandbox served, oldest first. Entries hold no token, no query string and no body. */
export class RequestLog {
  #entries: RequestLogEntry[] = [];

  start(entry: RequestLogEntry): RequestLogEntry {
    this.#entries.push(entry);
    if (this.#entries.length > REQUEST_LOG_LIMIT) this.#entries.splice(0, this.#entries.length - REQUEST_LOG_LIMIT);
    return entry;
  }

  entries(): RequestLogEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  clear(): void {
    this.#entries = [];
  }
}
