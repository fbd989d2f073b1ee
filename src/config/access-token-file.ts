import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** A token file is a few hundred bytes; anything much larger is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/**
 * Reads the access token from `api.accessTokenFile` (a systemd credential, or a file only its owner can read): one
 * line; surrounding white space, such as the final newline, is dropped. Every failure is a `ConfigError` at
 * `api.accessTokenFile` naming the file; the file's content never appears in a message.
 */
export function readAccessTokenFile(file: string, configFile: string | undefined): string {
  const fail = (message: string, cause?: unknown): never => {
    throw new ConfigError(configFile, [{ path: 'api.accessTokenFile', message: `${file}: ${message}` }], { cause });
  };
  let text = '';
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) fail('not a regular file');
    if (stat.size > MAX_TOKEN_FILE_BYTES) fail(`${stat.size} bytes: too large for an access token (at most ${MAX_TOKEN_FILE_BYTES})`);
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    text = buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const err = error as NodeJS.ErrnoException;
    const why: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a folder', ENOTDIR: 'a parent is not a folder' };
    fail(`cannot be read (${err.code ? `${err.code}: ${why[err.code] ?? err.message}` : err.message})`, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const token = text.trim();
  if (!token) fail('is empty');
  if (/[\r\n]/.test(token)) fail('holds more than one line (it must hold the access token alone)');
  return token;
}
