import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { ApiFailure, sendJson } from './envelope.js';
import type { Exchange } from './exchange.js';
import { readJsonBody } from './json-body.js';
import type { FaultRule, SandboxState, SitePage } from './types.js';

/** The largest control request body (a site page's base64 body included). */
const CONTROL_BODY_MAX_BYTES = 64 * 1024 * 1024;

/** What the control routes act on. */
export interface ControlTarget {
  state(): SandboxState;
  faults(): FaultRule[];
  setFaults(rules: FaultRule[]): void;
  reset(): void;
  idle(timeoutMs?: number): Promise<void>;
  setPage(path: string, page: SitePage): void;
}

const sitePageSchema = z.strictObject({
  path: z.string().min(1),
  status: z.number().int().min(100).max(599).optional(),
  contentType: z.string().min(1).optional(),
  body: z.string().optional(),
  /** A binary body, base64 (images for push tests). */
  bodyBase64: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  redirectTo: z.string().min(1).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  bodyBytes: z.number().int().min(0).optional(),
  chunked: z.boolean().optional(),
  etag: z.string().min(1).optional(),
  lastModified: z.union([z.string().min(1), z.number()]).optional(),
});

/**
 * The sandbox's control routes under `/_sandbox/` (not the site): no auth, no faults, not in the request log.
 * `GET state`, `GET|POST|DELETE faults`, `POST reset`, `GET idle[?timeoutMs=N]` (answers once the chatbot has
 * nothing pending; 504 after the timeout), `POST site`. Refusals are HTTP 400 `{error}`.
 */
export async function handleControl(ex: Exchange, target: ControlTarget): Promise<void> {
  const route = `${ex.method} ${ex.pathname.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /_sandbox/state':
        ex.req.resume();
        return sendJson(ex, 200, target.state());
      case 'GET /_sandbox/faults':
        ex.req.resume();
        return sendJson(ex, 200, { rules: target.faults() });
      case 'POST /_sandbox/faults': {
        const body = await readJsonBody(ex, true, CONTROL_BODY_MAX_BYTES);
        const rules = (body as { rules?: unknown } | null)?.rules;
        if (!Array.isArray(rules)) throw new ValidationError('rules', 'must be an array of fault rules');
        target.setFaults(rules as FaultRule[]);
        return sendJson(ex, 200, { ok: true, rules: target.faults() });
      }
      case 'DELETE /_sandbox/faults':
        ex.req.resume();
        target.setFaults([]);
        return sendJson(ex, 200, { ok: true, rules: [] });
      case 'POST /_sandbox/reset':
        ex.req.resume();
        target.reset();
        return sendJson(ex, 200, { ok: true });
      case 'GET /_sandbox/idle': {
        ex.req.resume();
        const raw = ex.url.searchParams.get('timeoutMs');
        const timeoutMs = raw === null ? undefined : Number(raw);
        if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 600_000)) throw new ValidationError('timeoutMs', 'must be an integer from 1 to 600000');
        try {
          await target.idle(timeoutMs);
        } catch (error) {
          return sendJson(ex, 504, { error: (error as Error).message });
        }
        return sendJson(ex, 200, { ok: true, idle: true });
      }
      case 'POST /_sandbox/site': {
        const parsed = sitePageSchema.safeParse(await readJsonBody(ex, true, CONTROL_BODY_MAX_BYTES));
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new ValidationError(issue?.path.join('.') || 'body', issue?.message ?? 'invalid');
        }
        const { path, bodyBase64, ...page } = parsed.data;
        target.setPage(path, bodyBase64 === undefined ? page : { ...page, body: Buffer.from(bodyBase64, 'base64') });
        return sendJson(ex, 200, { ok: true, path });
      }
      default:
        ex.req.resume();
        return sendJson(ex, 404, { error: `no such control route: ${route}` });
    }
  } catch (error) {
    if (error instanceof ValidationError || error instanceof ApiFailure || error instanceof TypeError) return sendJson(ex, 400, { error: error.message });
    throw error;
  }
}
