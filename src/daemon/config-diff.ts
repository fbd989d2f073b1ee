import type { ResolvedConfig, ResolvedSource } from '../config/resolve.js';

/** How the enabled sources of two configurations differ, by name. A source that was disabled counts as removed. */
export interface SourceDiff {
  added: ResolvedSource[];
  removed: ResolvedSource[];
  /** In both, with any setting changed (path, filters, metadata, URLs, intervals, ...). */
  changed: ResolvedSource[];
  unchanged: ResolvedSource[];
}

/** Compares the enabled sources of `before` and `after`; the returned sources are `after`'s (`removed`: `before`'s). */
export function diffSources(before: ResolvedConfig, after: ResolvedConfig): SourceDiff {
  const old = new Map(before.sources.filter((s) => s.enabled).map((s) => [s.name, s]));
  const diff: SourceDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const source of after.sources) {
    if (!source.enabled) continue;
    const previous = old.get(source.name);
    old.delete(source.name);
    if (!previous) diff.added.push(source);
    else if (JSON.stringify(previous) !== JSON.stringify(source)) diff.changed.push(source);
    else diff.unchanged.push(source);
  }
  diff.removed.push(...old.values());
  return diff;
}

/** Whether the API client must be made anew: the endpoint, app, token, timeouts or the request rate changed. */
export function clientSettingsChanged(before: ResolvedConfig, after: ResolvedConfig): boolean {
  return JSON.stringify(before.api) !== JSON.stringify(after.api) || before.sync.requestsPerSecond !== after.sync.requestsPerSecond;
}

/** Whether the ops server must be started again (or started, or stopped). */
export function httpSettingsChanged(before: ResolvedConfig, after: ResolvedConfig): boolean {
  return JSON.stringify(before.daemon.http ?? null) !== JSON.stringify(after.daemon.http ?? null);
}
