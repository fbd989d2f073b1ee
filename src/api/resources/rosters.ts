import type { RequestOptions } from '../request.js';
import { Resource } from './resource.js';

export interface RosterEntry {
  user_id: number;
  name?: string;
  [field: string]: unknown;
}

/** Friends ("rosters"), through the quick-start's admin paths. */
export class Rosters extends Resource {
  /** `POST /user/add_roster`: `userId` adds every ID in `friendIds` as a friend. */
  async add(userId: number, friendIds: number[], options?: RequestOptions): Promise<boolean> {
    const res = await this.client.call<boolean>({ ...options, method: 'POST', path: '/user/add_roster', body: { list: friendIds }, actAs: userId });
    return res.data;
  }

  /** `GET /user/rosters`: the friends of `userId`. */
  async list(userId: number, options?: RequestOptions): Promise<RosterEntry[]> {
    const res = await this.client.get<RosterEntry[]>('/user/rosters', undefined, { ...options, actAs: userId });
    return res.data ?? [];
  }
}
