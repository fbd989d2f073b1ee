import cliProgress from 'cli-progress';
import { formatBytes } from '../util/units.js';
import type { SyncEvent } from '../sync/engine.js';
import type { CliContext } from './context.js';

/** A progress bar on stderr while documents are sent, when stderr is a terminal. Returns the event handler. */
export function createProgressReporter(ctx: CliContext, enabled: boolean): { onEvent: ((event: SyncEvent) => void) | undefined; stop: () => void } {
  // Note: no handler at all when there is no bar, so that the engine builds no events for it.
  if (!enabled || !ctx.stderr.isTTY) return { onEvent: undefined, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: ctx.stderr as NodeJS.WritableStream,
      format: 'sending [{bar}] {value}/{total} documents | {bytes}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onEvent: (event) => {
      if (event.type === 'planned' && event.toSend > 0) {
        bar.start(event.toSend, 0, { bytes: `0 B / ${formatBytes(event.bytes)}` });
        started = true;
      } else if (event.type === 'progress' && started) {
        bar.update(event.done, { bytes: `${formatBytes(event.bytesDone)} / ${formatBytes(event.bytesTotal)}` });
      }
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}
