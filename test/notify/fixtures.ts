import { emptyCounts, type SyncReport } from '../../src/sync/report.js';

/** A sync report with these counts (the rest zero). */
export function reportWith(counts: Partial<SyncReport['counts']>, extra: Partial<SyncReport> = {}): SyncReport {
  return {
    runId: 7,
    dryRun: false,
    sources: ['handbook', 'website'],
    startedAt: new Date(0).toISOString(),
    durationMs: 2500,
    outcome: 'ok',
    counts: { ...emptyCounts(), ...counts },
    entries: [],
    ...extra,
  };
}
