import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests Stryker runs against each mutant of the policy modules (`stryker.config.mjs`): the direct tests of those
 * rules, which run in seconds and never wait on wall-clock time. (The daemon, CLI-process and e2e suites cover the
 * same code more slowly; the score is measured without them, so it says what the direct tests hold.)
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/sync/decide.test.ts',
      'test/sync/decide-edges.test.ts',
      'test/sync/moves.test.ts',
      'test/sync/transitions.test.ts',
      'test/sync/folder-digest.test.ts',
      'test/sync/plan-known.test.ts',
      'test/sync/watched-moves.test.ts',
      'test/daemon/scheduler.test.ts',
      'test/daemon/scheduler-timers.test.ts',
      'test/daemon/retry-policy.test.ts',
      'test/daemon/path-batcher.test.ts',
      'test/api/retry.test.ts',
      'test/api/redaction.test.ts',
      'test/api/circuit-breaker.test.ts',
      'test/api/circuit-breaker-rules.test.ts',
      'test/api/client.test.ts',
      'test/config/*.test.ts',
    ],
    reporters: ['default'],
    // A mutant that makes a wait never end fails its test fast.
    testTimeout: 5000,
    hookTimeout: 5000,
  },
});
