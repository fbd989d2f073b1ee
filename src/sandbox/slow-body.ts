import type { ServerResponse } from 'node:http';
import type { Lifecycle } from './lifecycle.js';

type WriteCallback = (error?: Error | null) => void;

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined;
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return undefined;
}

function callbackOf(args: unknown[]): WriteCallback | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as WriteCallback) : undefined;
}

/**
 * Makes a response trickle: whatever the handler writes is collected, then sent in about 20 slices spread over
 * `durationMs` (headers go out at once). The body is held in memory, so use it on small responses only.
 */
export function dribbleResponse(res: ServerResponse, durationMs: number, lifecycle: Lifecycle): void {
  const chunks: Buffer[] = [];
  const write = res.write.bind(res) as (chunk: Buffer) => boolean;
  const end = res.end.bind(res) as (chunk?: Buffer) => ServerResponse;

  res.write = ((...args: unknown[]) => {
    const buffer = toBuffer(args[0], args[1]);
    if (buffer) chunks.push(buffer);
    callbackOf(args)?.();
    return true;
  }) as ServerResponse['write'];

  res.end = ((...args: unknown[]) => {
    const buffer = toBuffer(args[0], args[1]);
    if (buffer) chunks.push(buffer);
    const done = callbackOf(args);
    const body = Buffer.concat(chunks);
    if (!res.headersSent && !res.hasHeader('content-length') && !res.hasHeader('transfer-encoding')) {
      res.setHeader('content-length', String(body.length));
    }
    void trickle(body).then(
      () => done?.(),
      () => res.destroy(),
    );
    return res;
  }) as ServerResponse['end'];

  async function trickle(body: Buffer): Promise<void> {
    res.flushHeaders();
    const slices = Math.max(1, Math.min(20, body.length));
    const step = Math.ceil(body.length / slices);
    const pause = durationMs / slices;
    for (let offset = 0, i = 0; i < slices; i++, offset += step) {
      await lifecycle.sleep(pause);
      if (res.destroyed) return;
      const slice = body.subarray(offset, offset + step);
      if (i === slices - 1) end(slice.length > 0 ? slice : undefined);
      else if (slice.length > 0) write(slice);
    }
  }
}
