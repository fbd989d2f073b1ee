/**
 * Reading a knowledge base as it is, through the chatbot's commands: `/bluevector status` (the document count and
 * the last 20 documents) and `/bluevector metadata get` per document ID. The chatbot has no command that lists every
 * document, so a full survey walks the IDs: they are `{kb uuid}-{seq}` with a sequence per knowledge base that never
 * reuses a number (lanying_embedding.py:1678-1682), so every document is among `{uuid}-1` … `{uuid}-{highest seq}`.
 */

import PQueue from 'p-queue';
import { COMMANDS_IN_FLIGHT, CommandRefusedError, type KbCommands } from '../kb/commands.js';
import { bluevectorStatusCommand } from '../protocol/kb-commands.js';
import type { StatusDocument } from '../protocol/kb-command-replies.js';
import { followAbort } from '../util/abort.js';

/** One document ID, as the chatbot answered `metadata get` for it. */
export type SurveyedDocument =
  /** In the knowledge base, with its metadata (empty for a document the chatbot kept none for: a failed download). */
  | { docId: string; state: 'present'; metadata: Readonly<Record<string, string>>; listedStatus: string | undefined }
  /** Not (or no longer) in the knowledge base. */
  | { docId: string; state: 'gone' }
  /** The chatbot would not say (not an admin of the knowledge base, a failure): neither present nor gone. */
  | { docId: string; state: 'unreadable'; reason: string };

/** What a survey found. */
export interface KnowledgeBaseSurvey {
  /** The knowledge base's document count, as `/bluevector status` gives it. */
  total: number;
  /** The last documents the status listing names (at most 20). */
  listed: readonly StatusDocument[];
  /** Every document ID that was read, by ID. */
  documents: ReadonlyMap<string, SurveyedDocument>;
  /** Whether every document ID up to the highest known one was read. */
  walked: boolean;
}

export interface SurveyOptions {
  /** Document IDs to read in any case (those the state records). */
  docIds: Iterable<string>;
  /** Read every document ID of the knowledge base (one command each), not only the known and the listed ones. */
  walk: boolean;
  /** Commands in flight at once. @default COMMANDS_IN_FLIGHT */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called after each document ID read, with how many are read and how many there are to read. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** A document ID's parts: `{kb uuid}-{seq}` (the vendor splits on "-" and expects two fields). */
export function parseDocId(docId: string): { uuid: string; seq: number } | undefined {
  const m = /^([^-]+)-(\d{1,15})$/.exec(docId);
  return m ? { uuid: m[1] as string, seq: Number(m[2]) } : undefined;
}

/**
 * The document IDs a walk reads: `{uuid}-1` … `{uuid}-{highest seq}` of the knowledge base's uuid, taken from the
 * status listing (the knowledge base's own documents) or, when it lists none, from the known IDs (the most frequent
 * uuid). Empty when no ID names a uuid.
 */
export function walkIds(listed: readonly StatusDocument[], known: readonly string[]): string[] {
  const fromListing = listed.map((d) => parseDocId(d.docId)).filter((p) => p !== undefined);
  const fromKnown = known.map(parseDocId).filter((p) => p !== undefined);
  const uuid = fromListing[0]?.uuid ?? mostFrequent(fromKnown.map((p) => p.uuid));
  if (uuid === undefined) return [];
  let highest = 0;
  for (const p of [...fromListing, ...fromKnown]) if (p.uuid === uuid && p.seq > highest) highest = p.seq;
  return Array.from({ length: highest }, (_, i) => `${uuid}-${i + 1}`);
}

function mostFrequent(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  let best: string | undefined;
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (best === undefined || n > (counts.get(best) ?? 0)) best = v;
  }
  return best;
}

/**
 * Reads the knowledge base: its status, then `metadata get` for the known IDs, the listed ones and, with `walk`,
 * every ID of its sequence. Throws what the commands throw (`CommandTimeoutError`, `CommandNotRunError`) and a
 * `CommandRefusedError` when the chatbot refuses `/bluevector status`.
 */
export async function surveyKnowledgeBase(commands: KbCommands, options: SurveyOptions): Promise<KnowledgeBaseSurvey> {
  const status = await commands.status(options.signal);
  if (!status.ok) throw new CommandRefusedError(bluevectorStatusCommand(commands.kbName), status.text);
  const known = [...new Set(options.docIds)];
  const ids = new Set<string>(known);
  for (const doc of status.documents) ids.add(doc.docId);
  if (options.walk) for (const id of walkIds(status.documents, known)) ids.add(id);
  const listedStatus = new Map(status.documents.map((d) => [d.docId, d.status]));
  const documents = new Map<string, SurveyedDocument>();
  const queue = new PQueue({ concurrency: options.concurrency ?? COMMANDS_IN_FLIGHT });
  // The first failure stops the survey: the reads in flight are abandoned and no other one starts (a walk has one
  // per document ID, each of which would wait out sync.commandTimeout once the chatbot stopped answering).
  const stop = new AbortController();
  const { signal, release } = followAbort([options.signal, stop.signal]);
  let done = 0;
  const reads = queue.addAll(
    [...ids].map((docId) => async () => {
      signal.throwIfAborted();
      const reply = await commands.metadataGet(docId, signal);
      if (reply.ok) documents.set(docId, { docId, state: 'present', metadata: reply.metadata, listedStatus: listedStatus.get(docId) });
      else if (reply.reason === 'doc_id_not_exist' || reply.reason === 'document_not_found') documents.set(docId, { docId, state: 'gone' });
      else documents.set(docId, { docId, state: 'unreadable', reason: reply.text });
      options.onProgress?.(++done, ids.size);
    }),
  );
  try {
    await reads;
  } catch (error) {
    stop.abort(error);
    queue.clear();
    await queue.onIdle();
    throw error;
  } finally {
    release();
  }
  return { total: status.totalDocuments, listed: status.documents, documents, walked: options.walk };
}
