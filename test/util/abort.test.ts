import { getEventListeners } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { followAbort } from '../../src/util/abort.js';

describe('followAbort: a signal for one operation that follows longer-lived ones', () => {
  it('aborts with the reason of the first signal followed that aborts; undefined ones are left out', () => {
    const run = new AbortController();
    const timer = new AbortController();
    const { signal } = followAbort([undefined, run.signal, timer.signal]);
    expect(signal.aborted).toBe(false);
    timer.abort(new Error('timed out'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('timed out');
    run.abort(new Error('later'));
    expect((signal.reason as Error).message).toBe('timed out');
  });

  it('is aborted at once when a signal followed already is, with its reason, and follows nothing then', () => {
    const run = new AbortController();
    const done = new AbortController();
    done.abort('stopped');
    const { signal } = followAbort([run.signal, done.signal]);
    expect([signal.aborted, signal.reason]).toEqual([true, 'stopped']);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('leaves nothing on a long-lived signal once released (AbortSignal.any kept an entry per call on Node.js 20)', () => {
    const run = new AbortController();
    for (let i = 0; i < 10_000; i++) {
      const { signal, release } = followAbort([run.signal, new AbortController().signal]);
      expect(signal.aborted).toBe(false);
      release();
    }
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    // Released: the run's abort reaches none of them.
    const { signal, release } = followAbort([run.signal]);
    release();
    run.abort();
    expect(signal.aborted).toBe(false);
  });
});

describe('library code combines signals with followAbort, never AbortSignal.any', () => {
  it('no module outside the sandbox (which stands alone, and whose memory is not the product\'s) calls AbortSignal.any', () => {
    const src = path.resolve(import.meta.dirname, '../../src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith(`sandbox${path.sep}`));
    const calls = files.filter((f) => /AbortSignal\.any\(/.test(readFileSync(path.join(src, f), 'utf8').replace(/^\s*(\/\/|\*).*$/gm, '')));
    expect(calls).toEqual([]);
  });
});
