import { ValidationError } from '../errors.js';

/**
 * The `/bluevector` command texts a client sends to the chatbot as a text message. Vendor source:
 * `blockmessage/lanying-connector` branch `lanying`, `lanying_command.py:6-53,189-304`: the text after `/` is split
 * on runs of space, tab and newline, and matched field by field against each command's rules; extra fields are
 * ignored, and the last field of `metadata set` takes the rest of the text joined by single spaces.
 *
 * So a knowledge-base name, document ID or field cannot hold a space, tab or newline, and a metadata value loses
 * tabs, newlines and runs of spaces: the builders refuse such values instead of sending a command that means
 * something else.
 */

const SEPARATOR = /[ \t\n]/;

function word(field: string, value: string): string {
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (SEPARATOR.test(value)) throw new ValidationError(field, `"${value}" contains a space, tab or newline, which the chatbot's command parser splits on`);
  return value;
}

/** `/bluevector info`: the knowledge bases bound to the chatbot's default preset. */
export function bluevectorInfoCommand(): string {
  return '/bluevector info';
}

/** `/bluevector status <KB>`: the document count and the 20 most recent documents, oldest first. */
export function bluevectorStatusCommand(kbName: string): string {
  return `/bluevector status ${word('kbName', kbName)}`;
}

/** `/bluevector delete <KB> <DOC_ID>`. */
export function bluevectorDeleteCommand(kbName: string, docId: string): string {
  return `/bluevector delete ${word('kbName', kbName)} ${word('docId', docId)}`;
}

/** `/bluevector metadata get <DOC_ID>`. */
export function bluevectorMetadataGetCommand(docId: string): string {
  return `/bluevector metadata get ${word('docId', docId)}`;
}

/**
 * `/bluevector metadata set <DOC_ID> <FIELD> <VALUE>`. The value may hold single spaces; tabs, newlines, runs of
 * spaces and spaces at either end would not survive the chatbot's parser, so they are refused. An empty value is
 * allowed (the chatbot stores "").
 */
export function bluevectorMetadataSetCommand(docId: string, field: string, value: string): string {
  if (/[\t\n]| {2}|^ | $/.test(value)) {
    throw new ValidationError('value', 'must not contain tabs, newlines, runs of spaces or spaces at either end (the chatbot joins the words with single spaces)');
  }
  return `/bluevector metadata set ${word('docId', docId)} ${word('field', field)} ${value}`;
}

/** `/bluevector mode auto <KB>`: makes `kbName` the sender's default knowledge base. */
export function bluevectorModeAutoCommand(kbName: string): string {
  return `/bluevector mode auto ${word('kbName', kbName)}`;
}

/** `/bluevector add <KB> <FILE_ID>`: ingests a file the chatbot kept (see the `several_kbs` refusal). */
export function bluevectorAddCommand(kbName: string, fileId: string): string {
  return `/bluevector add ${word('kbName', kbName)} ${word('fileId', fileId)}`;
}
