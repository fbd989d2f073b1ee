import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests Stryker runs against each mutant of the policy modules (`stryker.config.mjs`): the direct tests of those
 * rules, which run in seconds and never wait on wall-clock time. (The daemon, CLI-process and e2e suites cover the
 * same code more slowly; the score is measured without them, so it says what the direct tests hold.)
 */
/** `MUTATION_TESTS=test/a.test.ts,test/b.test.ts npx stryker run --mutate src/x.ts`: only those tests while working on one module. */
const only = process.env.MUTATION_TESTS?.split(',').filter((glob) => glob !== '');

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: only?.length ? only : [
      'test/sync/decide.test.ts',
      'test/sync/decide-edges.test.ts',
      'test/sync/moves.test.ts',
      'test/sync/transitions.test.ts',
      'test/sync/folder-digest.test.ts',
      'test/sync/report-builder.test.ts',
      'test/sync/report-stream.test.ts',
      'test/sync/plan-known.test.ts',
      'test/sync/watched-moves.test.ts',
      'test/daemon/scheduler.test.ts',
      'test/daemon/scheduler-timers.test.ts',
      'test/daemon/retry-policy.test.ts',
      'test/daemon/path-batcher*.test.ts',
      'test/api/retry.test.ts',
      'test/api/redaction.test.ts',
      'test/api/circuit-breaker.test.ts',
      'test/api/circuit-breaker-rules.test.ts',
      'test/api/client.test.ts',
      'test/config/*.test.ts',
      'test/sync/cleanup.test.ts',
      'test/sync/cleanup-rules.test.ts',
      'test/audit/compare*.test.ts',
      'test/audit/prune-plan.test.ts',
      'test/audit/survey*.test.ts',
      'test/protocol/*.test.ts',
      'test/sync/document-metadata.test.ts',
    ],
    reporters: ['default'],
    // A mutant that makes a wait never end fails its test fast.
    testTimeout: 5000,
    hookTimeout: 5000,
  },
});
