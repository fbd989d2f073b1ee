import { ApiFailure, badParam } from '../envelope.js';
import type { ApiRoute, RouteInput } from '../router.js';
import type { GroupRecord, SandboxStore } from '../store.js';
import { objectBody, optionalIdList, optionalInt, optionalString, queryInt, requiredId, requiredIdList, requiredString } from '../validate.js';

/**
 * Groups. Who may do what with the admin token:
 * - with a `user_id` header, the call acts as that user: create (the user becomes owner), invite (must be a
 *   member: 20002), destroy (must be the owner: 20013), and reads (must be a member: 20002);
 * - without one, the token is the app administrator: it may read any group (info, member_list), but every
 *   mutation needs an acting user (10002). The notes are silent; read-only app access is the stricter reading.
 */

/** The default and largest page of `/group/member_list` (the quick start: "可选，默认1000", server-api-quick-start.md:328). */
export const MEMBER_PAGE_LIMIT = 1000;

export function groupObject(group: GroupRecord, capacity: number): Record<string, unknown> {
  return {
    group_id: group.group_id,
    name: group.name,
    description: group.description,
    avatar: group.avatar,
    owner_id: group.owner_id,
    type: group.type,
    status: 0,
    capacity,
    count: group.members.size,
    apply_approval: 1,
    member_invite: true,
    member_modify: false,
    read_ack: false,
    history_visible: false,
    hide_member_info: false,
    ban_expire_time: 0,
    msg_mute_mode: 0,
    msg_push_mode: 0,
    ext: '',
    created_at: group.created_at,
    updated_at: group.updated_at,
  };
}

export function findGroup(store: SandboxStore, groupId: number): GroupRecord {
  const group = store.groups.get(groupId);
  if (!group) throw new ApiFailure(20001, `group ${groupId} does not exist`);
  return group;
}

function requireMember(group: GroupRecord, userId: number): void {
  if (!group.members.has(userId)) throw new ApiFailure(20002, `user ${userId} is not a member of group ${group.group_id}`);
}

function create({ ctx, body, actingUser }: RouteInput) {
  const owner = actingUser('POST /group/create');
  const input = objectBody(body);
  const { limits } = ctx.options;
  const name = requiredString(input, 'name', { nonEmpty: true, maxLength: limits.groupNameMaxChars });
  const description = optionalString(input, 'description', { maxLength: limits.groupDescriptionMaxChars }) ?? '';
  const avatar = optionalString(input, 'avatar') ?? '';
  const type = optionalInt(input, 'type', [0, 2]) ?? 0;
  const invitees = optionalIdList(input, 'user_list', { max: limits.groupCapacity }) ?? [];
  for (const id of invitees) {
    if (!ctx.store.users.has(id)) throw new ApiFailure(10000, `user ${id} (user_list) does not exist`);
  }
  if (new Set([owner, ...invitees]).size > limits.groupCapacity) throw new ApiFailure(20010);
  const group = ctx.store.addGroup({ name, description, avatar, owner_id: owner, type });
  ctx.store.groups.set(group.group_id, group);
  for (const id of invitees) if (!group.members.has(id)) ctx.store.addMember(group, id);
  return { data: groupObject(group, limits.groupCapacity) };
}

function invite({ ctx, body, actingUser }: RouteInput) {
  const inviter = actingUser('POST /group/invite');
  const input = objectBody(body);
  const groupId = requiredId(input, 'group_id');
  const capacity = ctx.options.limits.groupCapacity;
  const list = requiredIdList(input, 'user_list', { max: capacity });
  optionalString(input, 'reason', { maxLength: 1024 });
  const group = findGroup(ctx.store, groupId);
  requireMember(group, inviter);
  const data = list.map((userId) => {
    if (!ctx.store.users.has(userId)) return { user_id: userId, result: 'fail', reason: 'user does not exist' };
    if (group.members.has(userId)) return { user_id: userId, result: 'fail', reason: 'already a member' };
    if (group.members.size >= capacity) return { user_id: userId, result: 'fail', reason: 'group member limit reached' };
    ctx.store.addMember(group, userId);
    return { user_id: userId, result: 'success', reason: '' };
  });
  return { data };
}

function readableGroup({ ctx, query, caller }: RouteInput): GroupRecord {
  const group = findGroup(ctx.store, queryInt(query, 'group_id', { required: true, id: true }));
  if (caller.actingUserId !== undefined) requireMember(group, caller.actingUserId);
  return group;
}

/** An opaque cursor: where the next page starts in the group's join order. */
function encodeCursor(groupId: number, afterSeq: number): string {
  return Buffer.from(`members:${groupId}:${afterSeq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, groupId: number): number {
  const match = /^members:(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || Number(match[1]) !== groupId) throw badParam('cursor is not valid for this group');
  return Number(match[2]);
}

function memberList(input: RouteInput) {
  const group = readableGroup(input);
  const limit = queryInt(input.query, 'limit', { min: 1, max: MEMBER_PAGE_LIMIT }) ?? MEMBER_PAGE_LIMIT;
  const cursor = input.query.get('cursor');
  const afterSeq = cursor ? decodeCursor(cursor, group.group_id) : 0;
  const remaining = [...group.members.values()].filter((m) => m.seq > afterSeq).sort((a, b) => a.seq - b.seq);
  const page = remaining.slice(0, limit);
  const siblings: Record<string, unknown> = { total: group.members.size, version: 0 };
  const last = page[page.length - 1];
  // The last page has no cursor at all.
  if (remaining.length > page.length && last) siblings.cursor = encodeCursor(group.group_id, last.seq);
  const data = page.map((m) => ({ user_id: m.user_id, display_name: m.display_name, join_time: m.join_time, expired_time: m.expired_time }));
  return { data, siblings };
}

function info(input: RouteInput) {
  return { data: groupObject(readableGroup(input), input.ctx.options.limits.groupCapacity) };
}

function destroy({ ctx, query, actingUser }: RouteInput) {
  const user = actingUser('/group/destroy');
  const group = findGroup(ctx.store, queryInt(query, 'group_id', { required: true, id: true }));
  if (group.owner_id !== user) throw new ApiFailure(20013, `only the owner may destroy group ${group.group_id}`);
  ctx.store.groups.delete(group.group_id);
  return { data: true };
}

export const groupRoutes: readonly ApiRoute[] = [
  { methods: ['POST'], path: '/group/create', auth: 'token', body: 'required', handle: create },
  { methods: ['POST'], path: '/group/invite', auth: 'token', body: 'required', handle: invite },
  { methods: ['GET'], path: '/group/member_list', auth: 'token', body: 'none', handle: memberList },
  { methods: ['GET'], path: '/group/info', auth: 'token', body: 'none', handle: info },
  { methods: ['POST', 'DELETE'], path: '/group/destroy', auth: 'token', body: 'none', handle: destroy },
];
