import { listDocuments, type DocumentView } from '../../documents/list.js';
import type { DocumentStatus } from '../../state/store.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLines } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';

export interface DocumentsCommandOptions {
  source?: string[];
  status?: DocumentStatus[];
}

/** `lanying-kb documents`: the tracked documents, one per line (or a JSON array). */
export async function documentsCommand(options: DocumentsCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const documents = listDocuments({ config, sources: options.source, statuses: options.status });
  if (globals.json) writeJson(ctx.stdout, documents);
  else writeLines(ctx.stdout, formatDocuments(documents));
  return EXIT.OK;
}

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The documents as a table: status, document ID, sent, ingested, source:key, and the reason when there is one. */
export function* formatDocuments(documents: readonly DocumentView[]): Generator<string> {
  if (documents.length === 0) {
    yield 'No tracked documents.';
    return;
  }
  let idWidth = 6;
  for (const d of documents) idWidth = Math.max(idWidth, (d.docId ?? '-').length);
  yield `${'STATUS'.padEnd(13)} ${'DOC ID'.padEnd(idWidth)} ${'SENT'.padEnd(20)} ${'INGESTED'.padEnd(20)} DOCUMENT`;
  for (const d of documents) {
    const reason = d.reason ? `  (${escapeControl(d.reason)})` : '';
    yield `${d.status.padEnd(13)} ${escapeControl(d.docId ?? '-').padEnd(idWidth)} ${time(d.sentAt).padEnd(20)} ${time(d.ingestedAt).padEnd(20)} ${escapeControl(`${d.source}:${d.key}`)}${reason}`;
  }
  yield `${documents.length} document(s).`;
}
