import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';

export interface WrittenFile {
  /** Bytes received (counted on, past the limit, when draining). */
  size: number;
  /** Hex sha256 of the bytes written; empty when over the limit. */
  sha256: string;
  /** True when more than `maxBytes` came: nothing is left on disk. */
  overLimit: boolean;
}

/**
 * Streams `source` into a new file at `filepath`, counting and hashing as it goes; never holds the whole file.
 * Past `maxBytes` it stops writing and removes the file; with `drain` it keeps reading (and counting) to the end,
 * as a multipart parser needs, otherwise it stops reading.
 */
export async function streamToFile(source: AsyncIterable<Uint8Array>, filepath: string, options: { maxBytes: number; drain?: boolean }): Promise<WrittenFile> {
  const out = createWriteStream(filepath);
  // A write still in flight when the stream is destroyed (the client went away mid-body) ends in an 'error' event
  // after the fact; without a listener it would be an uncaught exception that takes the sandbox down. Errors while
  // the body is read reach the loop through `once(out, 'drain')` or the end below.
  let writeError: unknown;
  out.on('error', (error) => {
    writeError ??= error;
  });
  const hash = createHash('sha256');
  let size = 0;
  let overLimit = false;
  try {
    for await (const chunk of source) {
      size += chunk.length;
      if (overLimit) continue;
      if (size > options.maxBytes) {
        overLimit = true;
        if (!options.drain) break;
        continue;
      }
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
  } catch (error) {
    out.destroy();
    await fsp.rm(filepath, { force: true });
    throw error;
  }
  out.end();
  // Closed already when a write failed meanwhile (the stream destroyed itself).
  if (!out.closed) await once(out, 'close');
  if (writeError !== undefined) {
    await fsp.rm(filepath, { force: true });
    throw writeError;
  }
  if (overLimit) await fsp.rm(filepath, { force: true });
  return { size, sha256: overLimit ? '' : hash.digest('hex'), overLimit };
}
