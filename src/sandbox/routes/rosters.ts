import { ApiFailure, badParam } from '../envelope.js';
import type { ApiRoute, RouteInput } from '../router.js';
import { objectBody, requiredIdList } from '../validate.js';

/**
 * Friends through the quick-start's admin paths. `POST /user/add_roster` adds without approval (the admin flow),
 * and the friendship is mutual: both users list each other afterwards.
 *
 * The call is all-or-nothing (the stricter choice): one unknown ID (10000), one existing friend (10005) or the
 * adder's own ID (10002) fails it, and nobody is added.
 */
function addRoster({ ctx, body, actingUser }: RouteInput) {
  const adder = actingUser('POST /user/add_roster');
  const list = requiredIdList(objectBody(body), 'list', { max: ctx.options.limits.addRosterMax });
  const friends = ctx.store.friendsOf(adder);
  for (const id of list) {
    if (id === adder) throw badParam('list must not contain the user themself');
    if (!ctx.store.users.has(id)) throw new ApiFailure(10000, `user ${id} does not exist`);
    if (friends.has(id)) throw new ApiFailure(10005, `user ${id} is already in the friend list`);
  }
  for (const id of list) {
    friends.add(id);
    ctx.store.friendsOf(id).add(adder);
  }
  return { data: true };
}

function listRosters({ ctx, actingUser }: RouteInput) {
  const user = actingUser('GET /user/rosters');
  const data = [...ctx.store.friendsOf(user)]
    .sort((a, b) => a - b)
    .map((id) => ({ user_id: id, name: ctx.store.users.get(id)?.username ?? '' }));
  return { data };
}

export const rosterRoutes: readonly ApiRoute[] = [
  { methods: ['POST'], path: '/user/add_roster', auth: 'token', body: 'required', handle: addRoster },
  { methods: ['GET'], path: '/user/rosters', auth: 'token', body: 'none', handle: listRosters },
];
