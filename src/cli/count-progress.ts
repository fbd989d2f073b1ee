import cliProgress from 'cli-progress';
import { escapeControl } from '../util/terminal-text.js';
import type { CliContext } from './context.js';

/**
 * A counter on stderr while a long read goes on (a knowledge base walked one document at a time), when stderr is a
 * terminal. `format` may use {kb}, {value} and {total}.
 */
export function createCountProgress(ctx: CliContext, enabled: boolean, format: string): { update: ((p: { kbName: string; done: number; total: number }) => void) | undefined; stop: () => void } {
  if (!enabled || !ctx.stderr.isTTY) return { update: undefined, stop: () => {} };
  const bar = new cliProgress.SingleBar({ stream: ctx.stderr as NodeJS.WritableStream, format, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update: ({ kbName, done, total }) => {
      if (!started) {
        bar.start(total, 0, { kb: escapeControl(kbName) });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { kb: escapeControl(kbName) });
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}
