import type { ApiTransport } from '../request.js';

/** Base of every resource: holds the client. Each method is a thin, typed wrapper of one API call. */
export abstract class Resource {
  protected readonly client: ApiTransport;
  constructor(client: ApiTransport) {
    this.client = client;
  }
}
