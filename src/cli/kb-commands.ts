import { InvalidArgumentError } from 'commander';
import type { DocumentStatus } from '../state/store.js';
import type { Register } from './command-types.js';

const STATUSES: readonly DocumentStatus[] = ['pending', 'sent', 'ingested', 'unconfirmed', 'ingest-failed', 'refused', 'failed', 'skipped', 'removed', 'deleted'];

function statusOption(value: string, previous: DocumentStatus[] | undefined): DocumentStatus[] {
  const list = value.split(',').map((s) => s.trim());
  const bad = list.filter((s) => !STATUSES.includes(s as DocumentStatus));
  if (bad.length) throw new InvalidArgumentError(`not a status: ${bad.join(', ')} (one of ${STATUSES.join(', ')})`);
  return [...(previous ?? []), ...(list as DocumentStatus[])];
}

/** The commands about the knowledge base's documents: check, prune, documents, resend, forget. */
export const KB_COMMANDS: Register[] = [
  (program, lazy) =>
    program
      .command('check')
      .description('compare the state with the knowledge base: missing, extra, stale, duplicate, failed and unconfirmed documents (exit 3 when they differ)')
      .option('-s, --source <name...>', 'only these sources')
      .option('--walk', 'read every document ID of the knowledge base (one command each), not only the recorded and the last listed ones')
      .option('--adopt', 'also record the documents proven to be a tracked document\'s current version that the state had not tied to one (implies --walk)')
      .action(lazy(async () => (await import('./commands/check.js')).checkCommand)),
  (program, lazy) =>
    program
      .command('prune')
      .description('delete from the knowledge base the managed documents that must go: replaced versions, copies, documents that left their sources (within sync.maxDelete)')
      .option('-s, --source <name...>', 'only these sources')
      .option('-n, --dry-run', 'print what would be deleted and delete nothing')
      .option('--walk', 'read every document ID of the knowledge base, to find managed documents the state never recorded')
      .action(lazy(async () => (await import('./commands/prune.js')).pruneCommand)),
  (program, lazy) =>
    program
      .command('documents')
      .description('the tracked documents with their status, document ID, sent and ingested times and reason (from the state)')
      .option('-s, --source <name...>', 'only these sources')
      .option('--status <status>', `only these statuses, comma-separated or repeated (${STATUSES.join(', ')})`, statusOption)
      .action(lazy(async () => (await import('./commands/documents.js')).documentsCommand)),
  (program, lazy) =>
    program
      .command('resend')
      .description('send tracked documents again (a wiped knowledge base, a re-seed); a copy still there is replaced once the new one is ingested')
      .argument('[key...]', 'the documents\' keys (relative paths, URLs), as `documents` lists them')
      .option('-s, --source <name...>', 'only these sources')
      .option('--all', 'every tracked document')
      .option('-n, --dry-run', 'print what would be sent again and change nothing')
      .option('--no-wait', 'do not wait for the chatbot to confirm what was sent')
      .action(lazy(async () => (await import('./commands/resend.js')).resendCommand)),
  (program, lazy) =>
    program
      .command('forget')
      .description('make the state forget tracked documents (nothing is sent or deleted; the next sync sends them as new)')
      .argument('[key...]', 'the documents\' keys (relative paths, URLs), as `documents` lists them')
      .option('-s, --source <name...>', 'only these sources (a source no longer configured included)')
      .option('--all', 'every tracked document')
      .option('-n, --dry-run', 'print what would be forgotten and change nothing')
      .action(lazy(async () => (await import('./commands/forget.js')).forgetCommand)),
];
