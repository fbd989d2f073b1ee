import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The JSON report .ci/run reads: in test-results/, which git ignores (LANYING_KB_TEST_REPORT moves it).
    reporters: ['default', ['json', { outputFile: process.env.LANYING_KB_TEST_REPORT ?? 'test-results/vitest.json' }]],
  },
});
