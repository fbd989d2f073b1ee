import crypto from 'node:crypto';

/** Lower-case hex SHA-256 of a string (as UTF-8) or bytes. */
export function sha256(data: string | Uint8Array): string {
  return crypto.hash('sha256', data, 'hex');
}
