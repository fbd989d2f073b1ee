import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../errors.js';
import type { RequestOptions } from '../request.js';
import { Resource } from './resource.js';

/** The most entries one `/push/notify` call may name (error 12005 beyond). */
export const PUSH_AUDIENCE_LIMIT = 500;

export type PushAudience =
  | 'all'
  | { tag: string[] }
  | { alias: string[] }
  | { user_id: number[] }
  | { push_token: string[] };

export interface PushMessage {
  /** `text` (default), `image`, or `cmd` (pass-through, not shown in the notification bar). */
  type?: 'text' | 'image' | 'cmd';
  title?: string;
  body?: string;
  big_text?: string;
  /** An image, audio or video URL; an image must be a jpg, jpeg or png under 1 MB (swagger `PushMessage`). */
  attachment_url?: string;
  /** Swagger types it as a string: a number sets the badge, "+N" adds N. */
  badge?: number | string;
  /** A JSON object (not a string, unlike message ext). */
  ext?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface PushSetting {
  /** Deduplication key. Generated per call when absent, so that a retried call is not delivered twice. */
  request_id?: string;
  distribution_strategy?: 'combined' | 'mxpush_only' | 'ospush_only';
  ospush_sequence?: string[];
}

export interface PushResult {
  /** One task ID per call that returned one. */
  taskIds: string[];
  /** How many `/push/notify` calls were made (an audience over 500 entries is split). */
  calls: number;
}

const AUDIENCE_KEYS = ['tag', 'alias', 'user_id', 'push_token'] as const;

/** Splits an audience into audiences of at most `PUSH_AUDIENCE_LIMIT` entries. */
export function splitAudience(audience: PushAudience, limit = PUSH_AUDIENCE_LIMIT): PushAudience[] {
  if (audience === 'all') return ['all'];
  const keys = AUDIENCE_KEYS.filter((k) => k in audience);
  if (keys.length !== 1) throw new ValidationError('audience', `must be "all" or exactly one of ${AUDIENCE_KEYS.join(', ')}`);
  const key = keys[0] as (typeof AUDIENCE_KEYS)[number];
  const list = (audience as Record<string, unknown[]>)[key];
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError(`audience.${key}`, 'must be a non-empty list');
  const chunks: PushAudience[] = [];
  for (let i = 0; i < list.length; i += limit) chunks.push({ [key]: list.slice(i, i + limit) } as PushAudience);
  return chunks;
}

/** Push notifications. */
export class Push extends Resource {
  /**
   * `POST /push/notify`. An audience list over 500 entries is split into several calls; the results are combined.
   * Each call carries a `request_id`, so it is retried safely after a transient failure.
   */
  async notify(input: { audience: PushAudience; message: PushMessage; setting?: PushSetting }, options?: RequestOptions): Promise<PushResult> {
    const audiences = splitAudience(input.audience);
    const base = input.setting?.request_id ?? randomUUID();
    const taskIds: string[] = [];
    for (const [i, audience] of audiences.entries()) {
      const setting = { ...input.setting, request_id: audiences.length > 1 ? `${base}-${i + 1}` : base };
      const res = await this.client.call<{ task_id?: string | number } | boolean>({
        ...options,
        method: 'POST',
        path: '/push/notify',
        body: { audience, message: input.message, setting },
        retry: true,
      });
      const taskId = typeof res.data === 'object' && res.data !== null ? res.data.task_id : undefined;
      if (taskId !== undefined) taskIds.push(String(taskId));
    }
    return { taskIds, calls: audiences.length };
  }
}
