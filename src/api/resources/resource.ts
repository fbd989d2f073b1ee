import type { LanyingClient } from '../client.js';

/** Base of every resource: holds the client. Each method is a thin, typed wrapper of one API call. */
export abstract class Resource {
  protected readonly client: LanyingClient;
  constructor(client: LanyingClient) {
    this.client = client;
  }
}
