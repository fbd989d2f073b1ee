/**
 * The faults the lifecycle property draws for each step, as the sandbox's fault rules (docs/vendor-contract.md,
 * "Making the sandbox refuse and fail"): HTTP errors, 429s and resets on the API and the object storage, and the
 * chatbot's failures, lost and repeated notices, slow ingestion, late deletes and refusals. Each rule fires for about
 * one request or document in five (`errorRate`).
 *
 * A strict scenario leaves out the faults after which lanying-kb cannot know, by design, whether a document is in the
 * knowledge base (a lost notice; `upload_error`, whose document is never listed and keeps no metadata): there, every
 * difference at the end is a bug. Elsewhere, differences the state owns up to (documents `unconfirmed`) are reported
 * and left to `check`.
 *
 * Left out on purpose: `no_commands` (a chatbot that runs no commands is found out once and the lifecycle falls back
 * to append + keep for good, by design: the knowledge base then keeps old versions) and `several_kbs`/`deduct_failed`
 * (they stop every run like `service_expired`, which stands for them).
 */

import fc from 'fast-check';
import type { FaultRule } from '../../src/sandbox/index.js';

/** About one in five requests (or documents) of a faulty step meets its fault. */
const RATE = 0.2;

function menu(strict: boolean): fc.Arbitrary<FaultRule>[] {
  return [
  fc.constantFrom<FaultRule>(
    { route: 'POST /message/send', status: 503, errorRate: RATE },
    { route: 'POST /message/send', reset: true, errorRate: RATE },
    { route: 'GET /file/upload/chat', status: 429, retryAfterSeconds: 0, errorRate: RATE },
    { route: 'POST /_oss/*', reset: true, errorRate: RATE },
    { route: 'POST /_oss/*', status: 500, errorRate: RATE },
    { route: 'GET /message/conversation', status: 502, errorRate: RATE },
  ),
  fc.constantFrom<FaultRule>(
    { chatbot: 'fail', reason: 'exception', errorRate: RATE },
    { chatbot: 'fail', reason: 'download_failed', errorRate: RATE },
    { chatbot: 'fail', reason: 'download_error', errorRate: RATE },
    { chatbot: 'fail', reason: 'no_quota', errorRate: RATE },
    ...(strict ? [] : [{ chatbot: 'fail', reason: 'upload_error', errorRate: RATE } as const]),
  ),
  fc.constantFrom<FaultRule>({ chatbot: 'duplicate_notice', errorRate: RATE }, ...(strict ? [] : [{ chatbot: 'lose_notice', errorRate: RATE } as const])),
  fc.integer({ min: 100, max: 2500 }).map<FaultRule>((delayMs) => ({ chatbot: 'delay', delayMs, errorRate: RATE })),
  fc.integer({ min: 50, max: 1500 }).map<FaultRule>((delayMs) => ({ chatbot: 'delete_later', delayMs, errorRate: RATE })),
  fc.constantFrom<FaultRule>({ chatbot: 'refuse', reason: 'round_limit', errorRate: RATE }, { chatbot: 'refuse', reason: 'service_expired', errorRate: RATE / 4 }),
  ];
}

/** A step's faults: none in about half the steps, else one to four rules. */
export function stepFaults(strict: boolean): fc.Arbitrary<FaultRule[]> {
  return fc.oneof(fc.constant<FaultRule[]>([]), fc.array(fc.oneof(...menu(strict)), { minLength: 1, maxLength: 4 }));
}
