import { actingUser, authenticate, type Caller } from './auth.js';
import type { SandboxContext } from './context.js';
import { ApiFailure, sendEnvelope, sendFailure, sendJson } from './envelope.js';
import { canRespond, type Exchange } from './exchange.js';
import { readJsonBody } from './json-body.js';
import { objectBody, type JsonObject } from './validate.js';

export interface RouteInput {
  ex: Exchange;
  ctx: SandboxContext;
  caller: Caller;
  /** The parsed JSON object body; undefined for routes without one. */
  body: JsonObject | undefined;
  query: URLSearchParams;
  /** The acting user (`user_id` header); 10002 when there is none. */
  actingUser(what: string): number;
}

export type RouteResult = { data: unknown; siblings?: Record<string, unknown> } | { redirect: string };

export interface ApiRoute {
  methods: readonly string[];
  path: string;
  /** `app`: only `app_id` (registration). `token`: `app_id` and the admin token. */
  auth: 'app' | 'token';
  /** `none`: any body is ignored. `required`: a JSON object. */
  body: 'none' | 'required' | 'optional';
  /** Also accept `app_id` / `access-token` as query parameters (download links, as the web SDK sends them). */
  queryAuth?: boolean;
  handle(input: RouteInput): RouteResult | Promise<RouteResult>;
}

/** The API's routes by exact path; answers the envelope, 404 for an unknown path and 405 for a wrong method. */
export class ApiRouter {
  readonly #byPath = new Map<string, ApiRoute[]>();

  constructor(routes: readonly ApiRoute[]) {
    for (const route of routes) {
      const list = this.#byPath.get(route.path) ?? [];
      list.push(route);
      this.#byPath.set(route.path, list);
    }
  }

  async handle(ex: Exchange, ctx: SandboxContext): Promise<void> {
    const candidates = this.#byPath.get(ex.pathname);
    if (!candidates) {
      ex.req.resume();
      sendJson(ex, 404, { code: 404, message: `no such API route: ${ex.method} ${ex.pathname}`, data: null });
      return;
    }
    const route = candidates.find((r) => r.methods.includes(ex.method));
    if (!route) {
      ex.req.resume();
      const allow = candidates.flatMap((r) => r.methods).join(', ');
      sendJson(ex, 405, { code: 405, message: `${ex.method} is not allowed on ${ex.pathname} (allowed: ${allow})`, data: null }, { allow });
      return;
    }
    try {
      const caller = authenticate(ex, { appId: ctx.options.appId, accessToken: ctx.options.accessToken, store: ctx.store }, { token: route.auth === 'token', allowQuery: route.queryAuth === true });
      let body: JsonObject | undefined;
      if (route.body === 'none') ex.req.resume();
      else {
        const raw = await readJsonBody(ex, route.body === 'required', ctx.options.limits.jsonBodyMaxBytes);
        body = raw === undefined ? undefined : objectBody(raw);
      }
      const result = await route.handle({ ex, ctx, caller, body, query: ex.url.searchParams, actingUser: (what) => actingUser(caller, what) });
      if ('redirect' in result) {
        if (!canRespond(ex)) return;
        ex.res.writeHead(302, { location: result.redirect, 'content-length': '0' });
        ex.res.end();
        return;
      }
      sendEnvelope(ex, result.data, result.siblings);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      ex.req.resume();
      sendFailure(ex, error);
    }
  }
}
