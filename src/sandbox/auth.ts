import type { IncomingMessage } from 'node:http';
import { ApiFailure, badParam } from './envelope.js';
import { headerValue, type Exchange } from './exchange.js';
import { sameSecret } from './oss-signing.js';
import type { SandboxStore } from './store.js';

/** Who is calling: the admin token, optionally acting as the user named by the `user_id` header. */
export interface Caller {
  /** The user named by the `user_id` header, when there was one. */
  actingUserId: number | undefined;
}

/** For the request log: whether a token came, and whether it was right. Never the token itself. */
export function tokenStateOf(req: IncomingMessage, accessToken: string, query?: URLSearchParams): 'absent' | 'valid' | 'invalid' {
  const token = headerValue(req, 'access-token') ?? query?.get('access-token') ?? undefined;
  if (token === undefined || token === '') return 'absent';
  return sameSecret(token, accessToken) ? 'valid' : 'invalid';
}

export interface AuthSettings {
  appId: string;
  accessToken: string;
  store: SandboxStore;
}

/**
 * Checks the common headers, in the order the service does: `app_id` (missing or unknown: 40000), then
 * `access-token` when the route needs one (missing: 10003, wrong: 10008), then the `user_id` header (not an
 * integer: 10002, unknown user: 10000).
 *
 * `allowQuery`: also take `app_id` and `access-token` from the query string, as the web SDK does on download links.
 */
export function authenticate(ex: Exchange, settings: AuthSettings, options: { token: boolean; allowQuery?: boolean }): Caller {
  const query = options.allowQuery ? ex.url.searchParams : undefined;
  const appId = headerValue(ex.req, 'app_id') ?? query?.get('app_id') ?? undefined;
  if (appId === undefined || !sameSecret(appId, settings.appId)) throw new ApiFailure(40000);
  if (!options.token) return { actingUserId: undefined };

  const token = headerValue(ex.req, 'access-token') ?? query?.get('access-token') ?? undefined;
  if (token === undefined || token === '') throw new ApiFailure(10003, 'the access-token header is missing');
  if (!sameSecret(token, settings.accessToken)) throw new ApiFailure(10008, 'the access-token is not valid for this app');

  const userHeader = headerValue(ex.req, 'user_id');
  if (userHeader === undefined || userHeader === '') return { actingUserId: undefined };
  if (!/^\d+$/.test(userHeader.trim())) throw badParam('the user_id header must be an integer');
  const actingUserId = Number(userHeader.trim());
  if (!settings.store.users.has(actingUserId)) throw new ApiFailure(10000, `user ${actingUserId} (user_id header) does not exist`);
  return { actingUserId };
}

/**
 * The acting user of a user-scoped call. The admin token alone is the app, not a user: a call that acts as a user
 * needs the `user_id` header (10002 otherwise).
 */
export function actingUser(caller: Caller, what: string): number {
  if (caller.actingUserId === undefined) throw badParam(`the user_id header is required: ${what} acts as a user`);
  return caller.actingUserId;
}
