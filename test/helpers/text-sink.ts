import { Writable } from 'node:stream';

/** A stream that keeps what is written to it, and counts the writes. */
export function textSink(): { stream: Writable; text: () => string; writes: () => number } {
  let text = '';
  let writes = 0;
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      writes++;
      callback();
    },
  });
  return { stream, text: () => text, writes: () => writes };
}
