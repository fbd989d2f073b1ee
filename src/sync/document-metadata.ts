import { sha256 } from '../util/sha256.js';

/** The value of `managed_by` in every document lanying-kb sends: how its documents are told apart from others. */
export const MANAGED_BY = 'lanying-kb';

/** Identifies one version of one document: stable while its source, key and content are. */
export function syncIdOf(source: string, key: string, hash: string): string {
  return sha256(`${source}\n${key}\n${hash}`).slice(0, 32);
}

export interface MetadataInput {
  source: string;
  /** Relative path, or the URL. */
  key: string;
  hash: string;
  title: string | undefined;
  link: string | undefined;
  /** The source's own metadata. */
  extra: Readonly<Record<string, string>>;
  /**
   * The send's transaction ID: which send of a version a document came from (a version sent again, after a failure
   * or by `lanying-kb resend`, has the same sync ID), so that a notice read late is tied to its own send.
   */
  transactionId?: number | undefined;
}

/**
 * A document's `ext.ai.metadata`: flat strings only (the chatbot turns everything into strings anyway).
 * `link` and `title` come first so that a source's metadata may override them; the tracking keys come last.
 */
export function buildMetadata(input: MetadataInput): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (input.link) metadata.link = input.link;
  if (input.title) metadata.title = input.title;
  for (const [k, v] of Object.entries(input.extra)) metadata[k] = String(v);
  metadata.source = input.source;
  metadata.path = input.key;
  metadata.sha256 = input.hash;
  metadata.sync_id = syncIdOf(input.source, input.key, input.hash);
  if (input.transactionId !== undefined) metadata.transaction_id = String(input.transactionId);
  metadata.managed_by = MANAGED_BY;
  return metadata;
}

/** The message `ext` the chatbot reads: `{"ai":{"metadata":{...}}}`. Never sets `ai.role`. */
export function buildExt(metadata: Record<string, string>): { ai: { metadata: Record<string, string> } } {
  return { ai: { metadata } };
}

/** A title for a file without one of its own: the base name without the extension. */
export function titleFromName(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}
