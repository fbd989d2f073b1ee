/**
 * What a notification summarises: one sync run, or the daemon's work since its last summary. A `SyncReport` is
 * one; the notify part needs nothing else of the sync.
 */
export interface RunSummary {
  /** A dry run is never notified. */
  dryRun: boolean;
  /** The run's number in the state database, when it has one. */
  runId: number | undefined;
  /** The sources the run covered. */
  sources: readonly string[];
  durationMs: number;
  counts: Readonly<{
    new: number;
    changed: number;
    moved: number;
    unchanged: number;
    removed: number;
    skipped: number;
    failed: number;
    /** Documents the chatbot accepted. */
    sent: number;
  }>;
}
