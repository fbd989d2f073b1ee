import { ApiFailure, badParam } from '../envelope.js';
import type { ApiRoute, RouteInput } from '../router.js';
import type { SandboxStore, UserRecord } from '../store.js';
import type { SandboxLimits } from '../types.js';
import { isPlainObject, objectBody, optionalString, requiredString } from '../validate.js';
import { USERNAME_PATTERN } from '../vendor-texts.js';

/**
 * The swagger's username rule (`USERNAME_PATTERN`: letters, digits, underscore and CJK ideographs; not all
 * digits; not starting with `mta` or `maxim`, case-sensitively), plus the sandbox's length limit (the real one is
 * unknown). Returns the reason it is refused, or undefined.
 */
export function usernameProblem(username: string, maxLength: number): string | undefined {
  if (username.length > maxLength) return `must be at most ${maxLength} characters`;
  if (USERNAME_PATTERN.test(username)) return undefined;
  if (username.length === 0) return 'must not be empty';
  if (/^(mta|maxim)/.test(username)) return 'must not start with "mta" or "maxim"';
  if (/^[0-9]+$/.test(username)) return 'must not be all digits';
  return 'may contain only letters, digits, underscore and CJK ideographs';
}

/** The settings object registration returns. */
export function settingsOf(user: UserRecord): Record<string, unknown> {
  return {
    user_id: user.user_id,
    auth_mode: 0,
    auth_question: '',
    auth_answer: '',
    auto_download: true,
    group_confirm: false,
    no_push: false,
    no_push_detail: false,
    no_push_start_hour: 0,
    no_push_end_hour: 0,
    silence_start_time: 0,
    silence_end_time: 0,
    no_sounds: false,
    vibratory: true,
    push_nick_name: '',
    push_token: '',
  };
}

/**
 * Registers one user; throws 10002 for a bad username or password, 10004 when the name is taken. By default
 * usernames are unique regardless of case (`Alice` is taken once `alice` exists; unknown for the real service,
 * the `usernamesIgnoreCase` option).
 */
export function registerUser(store: SandboxStore, username: string, password: string, limits: SandboxLimits, field = 'username'): UserRecord {
  const problem = usernameProblem(username, limits.usernameMaxLength);
  if (problem) throw badParam(`${field} ${problem}`);
  if (password.length === 0) throw badParam('password must not be empty');
  if (store.userByName(username)) throw new ApiFailure(10004, `user already exists: ${username}`);
  return store.addUser(username, password);
}

function register({ ctx, body }: RouteInput) {
  const input = objectBody(body);
  const username = requiredString(input, 'username');
  const password = requiredString(input, 'password');
  return { data: settingsOf(registerUser(ctx.store, username, password, ctx.options.limits)) };
}

function registerBatch({ ctx, body }: RouteInput) {
  const input = objectBody(body);
  const list = input.list;
  if (list === undefined || list === null) throw badParam('list is required');
  if (!Array.isArray(list) || list.length === 0) throw badParam('list must be a non-empty array');
  const max = ctx.options.limits.batchRegisterMax;
  if (list.length > max) throw badParam(`list has more than ${max} entries`);
  // Shape errors fail the whole call; rule violations and taken names fail only their entry.
  const entries = list.map((item, i) => {
    if (!isPlainObject(item)) throw badParam(`list[${i}] must be an object`);
    return { username: requiredString(item, 'username', {}, `list[${i}].username`), password: requiredString(item, 'password', {}, `list[${i}].password`) };
  });
  const data = entries.map(({ username, password }) => {
    try {
      const user = registerUser(ctx.store, username, password, ctx.options.limits);
      return { user_id: user.user_id, username, success: true, reason: '' };
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      return { username, success: false, reason: error.message };
    }
  });
  return { data };
}

function getProfile({ ctx, actingUser }: RouteInput) {
  const user = ctx.store.users.get(actingUser('GET /user/profile')) as UserRecord;
  return {
    data: {
      user_id: user.user_id,
      username: user.username,
      nick_name: user.nick_name,
      avatar: user.avatar,
      mobile: '',
      email: '',
      description: user.description,
      public_info: user.public_info,
      private_info: user.private_info,
    },
  };
}

const PROFILE_FIELDS = ['nick_name', 'description', 'public_info', 'private_info'] as const;

function setProfile({ ctx, body, actingUser }: RouteInput) {
  const user = ctx.store.users.get(actingUser('POST /user/profile')) as UserRecord;
  const input = objectBody(body);
  const update: Partial<Record<(typeof PROFILE_FIELDS)[number], string>> = {};
  const { limits } = ctx.options;
  for (const field of PROFILE_FIELDS) {
    const value = optionalString(input, field, { maxLength: field === 'nick_name' ? limits.nickNameMaxChars : limits.profileFieldMaxChars });
    if (value !== undefined) update[field] = value;
  }
  Object.assign(user, update);
  return { data: true };
}

export const userRoutes: readonly ApiRoute[] = [
  { methods: ['POST'], path: '/user/register/v2', auth: 'app', body: 'required', handle: register },
  { methods: ['POST'], path: '/user/register/batch', auth: 'token', body: 'required', handle: registerBatch },
  { methods: ['GET'], path: '/user/profile', auth: 'token', body: 'none', handle: getProfile },
  { methods: ['POST', 'PUT'], path: '/user/profile', auth: 'token', body: 'required', handle: setProfile },
];
