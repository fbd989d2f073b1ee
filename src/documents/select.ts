import { UsageError } from '../errors.js';
import type { DocumentRecord, DocumentStatus, StateStore } from '../state/store.js';

/** Which tracked documents a command is about. */
export interface DocumentSelection {
  /** Only documents of these sources (configured or only in the state). */
  sources?: readonly string[] | undefined;
  /** Only these keys (a folder source's relative path, a URL source's URL). */
  keys?: readonly string[] | undefined;
  /** Only documents in these statuses. */
  statuses?: readonly DocumentStatus[] | undefined;
}

/**
 * The tracked documents a selection names, ordered by source and key. A source the state has no document of, or a
 * key no selected source tracks, is a `UsageError`: a typo never selects nothing silently.
 */
export function selectDocuments(store: StateStore, selection: DocumentSelection): DocumentRecord[] {
  const known = store.sourceNames();
  const unknownSources = (selection.sources ?? []).filter((s) => !known.includes(s));
  if (unknownSources.length) {
    throw new UsageError(`the state tracks no document of source ${unknownSources.map((s) => `"${s}"`).join(', ')} (sources in the state: ${known.join(', ') || 'none'})`);
  }
  const sources = selection.sources?.length ? selection.sources : known;
  let rows = sources.flatMap((source) => store.list({ source, status: selection.statuses ? [...selection.statuses] : undefined }));
  if (selection.keys?.length) {
    const wanted = new Set(selection.keys);
    rows = rows.filter((r) => wanted.has(r.key));
    const found = new Set(rows.map((r) => r.key));
    const missing = selection.keys.filter((k) => !found.has(k));
    if (missing.length) throw new UsageError(`no tracked document ${missing.map((k) => `"${k}"`).join(', ')}${selection.sources?.length ? ` in ${selection.sources.join(', ')}` : ''} (lanying-kb documents lists them)`);
  }
  return rows;
}
