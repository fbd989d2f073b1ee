/**
 * Mutation testing of the policy modules (`npm run mutate`): Stryker changes one rule at a time (a condition, a
 * comparison, a constant) and runs the tests that cover it; a mutant that leaves every test green is a rule no
 * test holds. `scripts/mutation-report.mjs` writes the score per module to docs/MUTATION.md.
 * Not part of `npm test` (it runs the related tests once per mutant: several minutes).
 */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // The direct tests of these modules only (see vitest.mutation.config.ts).
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/sync/decide.ts',
    'src/sync/moves.ts',
    'src/sync/transitions.ts',
    'src/sync/folder-digest.ts',
    'src/sync/report.ts',
    'src/daemon/scheduler.ts',
    'src/daemon/retry-policy.ts',
    'src/daemon/path-batcher.ts',
    'src/api/retry.ts',
    'src/config/resolve.ts',
    'src/sources/folder/config.ts',
    'src/sources/urls/config.ts',
    'src/api/secret-fragments.ts',
    'src/api/circuit-breaker.ts',
    // The knowledge-base lifecycle (issue 11): what check finds, what prune and a sync's cleanup delete (the
    // dangerous verb), how lanying-kb's documents are told from others, and the readers of the chatbot's texts.
    'src/audit/compare.ts',
    'src/audit/prune-plan.ts',
    'src/audit/survey.ts',
    'src/sync/cleanup.ts',
    'src/sync/document-metadata.ts',
    'src/protocol/kb-notices.ts',
    'src/protocol/kb-send-replies.ts',
    'src/protocol/kb-command-replies.ts',
    'src/protocol/bot-ext.ts',
    'src/protocol/python-repr.ts',
  ],
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  concurrency: 2,
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
