/**
 * Business codes carried in the `code` field of the Lanying API envelope, with their meaning in English.
 * Source: the quick start's error table (`maxim-top/im.gitbook` `zh-hans/quick-start/server-api-quick-start.md:575-630`,
 * "错误码说明"), plus 401 and 402: the vendor's connector answers `{'code':401, 'message':'bad authorization'}` for a bad
 * credential (`blockmessage/lanying-connector` branch `lanying`, `lanying_connector.py:141`), and a refused download
 * can come back as HTTP 200 `{"code":402,"message":"Operation rejected"}` (`lanying_file_storage.py:101`); the
 * floo SDK reads 402 as an expired token.
 */
export const API_ERROR_CODES: Readonly<Record<number, string>> = Object.freeze({
  200: 'success',
  401: 'bad authorization',
  402: 'access token expired or invalid, log in again',
  10000: 'user does not exist',
  10001: 'wrong verification code',
  10002: 'bad request parameter',
  10003: 'access-token header missing',
  10004: 'user already exists',
  10005: 'already in friend list',
  10006: 'user is in blacklist',
  10007: 'friend application missing or expired',
  10008: 'invalid access-token',
  10009: 'storage (OSS) error',
  10010: 'no permission',
  10011: 'user_id already bound',
  10012: 'friend request rejected',
  12001: 'uploading the push image to Xiaomi failed',
  12002: 'push image must be under 1 MB',
  12003: 'uploading the push image to OPPO failed',
  12004: 'push image URL cannot be downloaded',
  12005: 'push target list longer than 500',
  12006: 'push feature not enabled',
  20000: 'server database error',
  20001: 'group does not exist',
  20002: 'user is not a group member',
  20003: 'illegal msg_push_mode',
  20004: 'owner cannot leave the group directly',
  20005: 'transfer target is not a member',
  20006: 'group in repair mode',
  20007: 'app group count limit reached',
  20008: 'per-user created-groups limit reached',
  20009: 'per-user joined-groups limit reached',
  20010: 'group member limit reached',
  20011: 'needs member permission',
  20012: 'needs admin permission',
  20013: 'needs owner permission',
  20014: 'join application expired or already handled',
  20015: 'invitation expired or already handled',
  20016: 'kicked too many times, cannot rejoin',
  20017: 'already a member',
  20018: 'user is in the group blacklist',
  20020: 'announcement does not exist',
  20021: 'announcements disabled by admin',
  20022: 'shared file does not exist',
  20023: 'no permission on shared file',
  20024: 'invalid group QR code',
  20025: 'group QR code expired',
  30021: 'invalid license',
  30022: 'license expired',
  30023: 'license limit exceeded',
  40000: 'app_id does not exist',
});

/** The English meaning of a business code, or a generic text for a code the API guide does not list. */
export function describeApiCode(code: number): string {
  return API_ERROR_CODES[code] ?? 'unknown error code';
}

/** Codes that mean the credentials are missing, wrong or expired. */
export const AUTH_ERROR_CODES: ReadonlySet<number> = new Set([401, 402, 10003, 10008]);

/** Codes that mean the server failed, not the request: worth retrying. */
export const SERVER_ERROR_CODES: ReadonlySet<number> = new Set([20000]);
