import { fstatSync } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * Whether file descriptor `fd` is connected to the journal: systemd sets `$JOURNAL_STREAM` to `DEVICE:INODE` of the
 * stream it connected a service's stdout/stderr to (systemd.exec(5)). Only then do `<N>` priority prefixes make
 * sense; anywhere else (a terminal, a pipe, a file) they would be printed as is.
 */
export function isJournalStream(journalStream: string | undefined, fd: number | undefined): boolean {
  if (!journalStream || fd === undefined) return false;
  const match = /^(\d+):(\d+)$/.exec(journalStream.trim());
  if (!match) return false;
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === BigInt(match[1] as string) && stat.ino === BigInt(match[2] as string);
  } catch {
    return false;
  }
}

/**
 * A stream that puts `prefix` (such as `<3>`, syslog's "error") before every line written to `target`: journald takes
 * it as the line's priority and strips it (`SyslogLevelPrefix=`, on by default).
 */
export function prefixLines<T extends Writable>(target: T, prefix: string): Writable {
  let atLineStart = true;
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      const text = chunk.toString();
      if (!text) return callback();
      let out = atLineStart ? prefix : '';
      const body = text.endsWith('\n') ? text.slice(0, -1) : text;
      out += body.replaceAll('\n', `\n${prefix}`);
      if (text.endsWith('\n')) out += '\n';
      atLineStart = text.endsWith('\n');
      target.write(out, (error) => callback(error ?? null));
    },
  });
}
