/**
 * The property's verdict: the sandbox's knowledge base against the sources, document by document.
 *
 * Every document in the sandbox's knowledge base came from lanying-kb (the test sends nothing else), so every one
 * must be the current version of a file that exists: one document per file, `finish`ed, whose metadata names the
 * file's source, path and content (`source`, `path`, `sha256`); its `sync_id` is unique. Anything else is a
 * violation, named by kind:
 * - `duplicate`: two documents of one version (the same file and content, or the same sync_id);
 * - `stale`: a document of an older version of a file that exists;
 * - `missing`: a file without a `finish`ed document of its current version;
 * - `left`: a document of a file that is gone;
 * - `failed`: a document that ended in `error` (failed ones are deleted);
 * - `anonymous`: a document without lanying-kb's metadata (a failed download keeps none).
 */

import type { KbDocumentState } from '../../src/sandbox/index.js';
import type { ExpectedDocument } from './tree.js';

export type ViolationKind = 'duplicate' | 'stale' | 'missing' | 'left' | 'failed' | 'anonymous';

export interface Violation {
  kind: ViolationKind;
  /** `source:path`. */
  what: string;
  detail: string;
  /** The document it is about (all kinds but `missing`). */
  doc?: KbDocumentState | undefined;
  /** The file's current content (`missing`, `stale`). */
  sha256?: string | undefined;
}

const label = (d: KbDocumentState) => `${d.doc_id} (${d.status}, sync_id ${d.metadata.sync_id ?? 'none'}, sha ${(d.metadata.sha256 ?? '').slice(0, 8)})`;

/** Compares the knowledge base with the files; the empty list when they are equal. */
export function compareKnowledgeBase(expected: readonly ExpectedDocument[], documents: readonly KbDocumentState[]): Violation[] {
  const violations: Violation[] = [];
  const files = new Map(expected.map((e) => [`${e.source}:${e.key}`, e]));
  const bySyncId = new Map<string, KbDocumentState[]>();
  const byFile = new Map<string, KbDocumentState[]>();
  for (const doc of documents) {
    const { source, path, sync_id: syncId } = doc.metadata;
    if (source === undefined || path === undefined || syncId === undefined) {
      violations.push({ kind: 'anonymous', what: doc.filename, detail: `document ${label(doc)} without lanying-kb's metadata`, doc });
      continue;
    }
    bySyncId.set(syncId, [...(bySyncId.get(syncId) ?? []), doc]);
    const where = `${source}:${path}`;
    byFile.set(where, [...(byFile.get(where) ?? []), doc]);
  }
  for (const [syncId, docs] of bySyncId) {
    if (docs.length > 1) violations.push({ kind: 'duplicate', what: `${docs[0]?.metadata.source}:${docs[0]?.metadata.path}`, detail: `sync_id ${syncId} in ${docs.map(label).join(', ')}`, doc: docs[1] });
  }
  for (const [where, docs] of byFile) {
    const file = files.get(where);
    if (!file) {
      for (const doc of docs) violations.push({ kind: 'left', what: where, detail: `document ${label(doc)} of a file that is gone`, doc });
      continue;
    }
    const current = docs.filter((d) => d.metadata.sha256 === file.sha256);
    for (const doc of docs) {
      if (doc.status === 'error') violations.push({ kind: 'failed', what: where, detail: `document ${label(doc)} failed and is still listed`, doc });
      else if (doc.metadata.sha256 !== file.sha256) violations.push({ kind: 'stale', what: where, detail: `document ${label(doc)} of an older version (the file is ${file.sha256.slice(0, 8)})`, doc, sha256: file.sha256 });
    }
    const finished = current.filter((d) => d.status === 'finish');
    if (finished.length > 1 && new Set(finished.map((d) => d.metadata.sync_id)).size === finished.length) {
      violations.push({ kind: 'duplicate', what: where, detail: `one version in ${finished.map(label).join(', ')}`, doc: finished[1] });
    }
  }
  for (const [where, file] of files) {
    const finished = (byFile.get(where) ?? []).filter((d) => d.metadata.sha256 === file.sha256 && d.status === 'finish');
    if (finished.length === 0) violations.push({ kind: 'missing', what: where, detail: `no finished document of version ${file.sha256.slice(0, 8)}`, sha256: file.sha256 });
  }
  return violations;
}

/** The violations as a few lines (counts by kind, then the first of each kind). */
export function describeViolations(violations: readonly Violation[], max = 8): string {
  const kinds = [...new Set(violations.map((v) => v.kind))];
  const lines = [`${violations.length} violation(s): ${kinds.map((k) => `${violations.filter((v) => v.kind === k).length} ${k}`).join(', ')}`];
  for (const kind of kinds) for (const v of violations.filter((x) => x.kind === kind).slice(0, max)) lines.push(`  ${v.kind} ${v.what}: ${v.detail}`);
  return lines.join('\n');
}
