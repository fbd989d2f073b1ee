import { randomUUID } from 'node:crypto';
import { ApiFailure, badParam } from '../envelope.js';
import type { ApiRoute, RouteInput } from '../router.js';
import { queryInt } from '../validate.js';
import { findGroup } from './groups.js';

/** `file_type` values of `/file/upload/chat`: 100-104 chat files, 200-203 group shared files. */
export const FILE_TYPES = Object.freeze([100, 101, 102, 103, 104, 200, 201, 202, 203]);

/** An object key as a URL path: each segment percent-encoded. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * `GET /file/upload/chat`: an upload slot for a chat file, acting as the `user_id` header user (the uploader;
 * required with the admin token). The receiver must exist (10000 / 20001) and, for a group, the uploader must be a
 * member (20002). Group shared-file types (2xx) need `to_type` 2 (the stricter reading).
 */
function uploadSlot({ ctx, query, actingUser }: RouteInput) {
  const uploader = actingUser('GET /file/upload/chat');
  const fileType = queryInt(query, 'file_type', { required: true });
  if (!FILE_TYPES.includes(fileType)) throw badParam(`query parameter file_type must be one of ${FILE_TYPES.join(', ')}`);
  const toId = queryInt(query, 'to_id', { required: true, id: true });
  const toType = queryInt(query, 'to_type', {}) ?? 1;
  if (toType !== 1 && toType !== 2) throw badParam('query parameter to_type must be 1 (user) or 2 (group)');
  if (fileType >= 200 && toType !== 2) throw badParam('file_type 200-203 (group shared files) needs to_type 2');
  if (toType === 1 && !ctx.store.users.has(toId)) throw new ApiFailure(10000, `user ${toId} (to_id) does not exist`);
  if (toType === 2) {
    const group = findGroup(ctx.store, toId);
    if (!group.members.has(uploader)) throw new ApiFailure(20002, `user ${uploader} is not a member of group ${toId}`);
  }

  const { signer, options } = ctx;
  const now = options.now();
  const key = `chat/${uploader}/${randomUUID().replaceAll('-', '')}`;
  ctx.store.slots.set(key, { bucket: signer.bucket, key, uploader, to_id: toId, to_type: toType, file_type: fileType, created_at: now });
  const expiresAt = now + options.policyTtlMs;
  const fileSign = signer.fileSign({ bucket: signer.bucket, key, uploader, toId, toType });
  const downloadUrl = `${ctx.url}/file/download/chat?file_sign=${encodeURIComponent(fileSign)}`;

  if (options.uploadMethod === 'PUT') {
    const presigned = new URLSearchParams({ ...signer.presign('PUT', key, expiresAt) });
    return {
      data: { upload_url: `${ctx.url}/_oss/${signer.bucket}/${encodeKey(key)}?${presigned}`, upload_method: 'PUT', download_url: downloadUrl, oss_body_param: {} },
    };
  }
  const { policy, signature } = signer.policy(key, expiresAt, options.ossMaxBytes);
  const callback = Buffer.from(
    JSON.stringify({
      callbackUrl: `${ctx.url}/file/upload/callback`,
      callbackBody: 'bucket=${bucket}&object=${object}&size=${size}&mimeType=${mimeType}',
      callbackBodyType: 'application/x-www-form-urlencoded',
    }),
    'utf8',
  ).toString('base64');
  return {
    data: {
      upload_url: `${ctx.url}/_oss/${signer.bucket}`,
      upload_method: 'POST',
      download_url: downloadUrl,
      oss_body_param: { OSSAccessKeyId: signer.accessKeyId, policy, signature, callback, key },
    },
  };
}

/**
 * `GET /file/download/chat?file_sign=...`: needs `app_id` and the token (as headers, or as query parameters like
 * the web SDK sends them). Answers 302 to a presigned storage URL. The `file_sign` does not expire: the chatbot may
 * download minutes after the message was sent (the real lifetime is unknown).
 */
function download({ ctx, query }: RouteInput) {
  const token = query.get('file_sign');
  if (!token) throw badParam('query parameter file_sign is required');
  const claims = ctx.signer.readFileSign(token);
  if (!claims) throw badParam('file_sign is not valid');
  const presigned = new URLSearchParams({ ...ctx.signer.presign('GET', claims.key, ctx.options.now() + ctx.options.policyTtlMs) });
  return { redirect: `${ctx.url}/_oss/${claims.bucket}/${encodeKey(claims.key)}?${presigned}` };
}

export const fileRoutes: readonly ApiRoute[] = [
  { methods: ['GET'], path: '/file/upload/chat', auth: 'token', body: 'none', handle: uploadSlot },
  { methods: ['GET'], path: '/file/download/chat', auth: 'token', body: 'none', queryAuth: true, handle: download },
];
