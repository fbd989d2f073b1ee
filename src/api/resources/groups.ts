import type { RequestOptions } from '../request.js';
import { Resource } from './resource.js';

export interface GroupInfo {
  group_id: number;
  name: string;
  owner_id: number;
  type?: number;
  status?: number;
  description?: string;
  capacity?: number;
  count?: number;
  created_at?: number;
  updated_at?: number;
  [field: string]: unknown;
}

export interface CreateGroupInput {
  name: string;
  description?: string;
  avatar?: string;
  /** 0 private, 2 chatroom. */
  type?: number;
  /** Users invited at creation. */
  user_list?: number[];
}

export interface InviteResult {
  user_id: number;
  result: 'success' | 'fail' | string;
  reason?: string;
}

export interface GroupMember {
  user_id: number;
  display_name?: string;
  join_time?: number;
  expired_time?: number;
}

export interface MemberPage {
  members: GroupMember[];
  /** Pass it back to get the next page; undefined on the last page. */
  cursor: string | undefined;
  total: number | undefined;
}

/** Groups. Mutations act as a user (`actAs`): the owner for create and destroy, a member for invite. */
export class Groups extends Resource {
  /** `POST /group/create`: the acting user becomes the owner. */
  async create(input: CreateGroupInput, options: RequestOptions & { actAs: number }): Promise<GroupInfo> {
    return (await this.client.call<GroupInfo>({ ...options, method: 'POST', path: '/group/create', body: input })).data;
  }

  /** `POST /group/invite`: one result per user. */
  async invite(groupId: number, userIds: number[], options: RequestOptions & { actAs: number; reason?: string }): Promise<InviteResult[]> {
    const body = { group_id: groupId, user_list: userIds, ...(options.reason ? { reason: options.reason } : {}) };
    return (await this.client.call<InviteResult[]>({ ...options, method: 'POST', path: '/group/invite', body })).data ?? [];
  }

  /** `GET /group/member_list`: one page. */
  async members(groupId: number, page: { cursor?: string | undefined; limit?: number | undefined } = {}, options?: RequestOptions): Promise<MemberPage> {
    const res = await this.client.get<GroupMember[]>('/group/member_list', { group_id: groupId, cursor: page.cursor, limit: page.limit }, options);
    const cursor = res.cursor === undefined || res.cursor === null || res.cursor === '' ? undefined : String(res.cursor);
    return { members: res.data ?? [], cursor, total: res.total };
  }

  /** Every member, page after page, following `cursor` to the last page. */
  async *allMembers(groupId: number, page: { limit?: number } = {}, options?: RequestOptions): AsyncGenerator<GroupMember> {
    let cursor: string | undefined;
    const seen = new Set<string>();
    do {
      const result = await this.members(groupId, { cursor, limit: page.limit }, options);
      yield* result.members;
      cursor = result.cursor;
      // Note: a server that hands back a cursor it already gave would loop forever; stop instead.
      if (cursor !== undefined) {
        if (seen.has(cursor)) return;
        seen.add(cursor);
      }
    } while (cursor !== undefined);
  }

  /** `GET /group/info`. */
  async info(groupId: number, options?: RequestOptions): Promise<GroupInfo> {
    return (await this.client.get<GroupInfo>('/group/info', { group_id: groupId }, options)).data;
  }

  /** `POST /group/destroy`: only the owner may. */
  async destroy(groupId: number, options: RequestOptions & { actAs: number }): Promise<boolean> {
    return (await this.client.call<boolean>({ ...options, method: 'POST', path: '/group/destroy', query: { group_id: groupId } })).data;
  }
}
