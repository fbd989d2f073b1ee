import type { KnowledgeBaseRecord, KnowledgeBases } from './knowledge-bases.js';
import type { SandboxStore } from './store.js';
import {
  ADD_OK_TEXT,
  addFileNotFoundText,
  DELETE_OK_TEXT,
  DOC_ID_NOT_EXIST,
  DOC_ID_NOT_FOUND_TEXT,
  DOCUMENT_NOT_FOUND_TEXT,
  FORMAT_ERROR_TEXT,
  helpRefusedText,
  helpText,
  infoText,
  kbNotFoundText,
  METADATA_SET_OK_TEXT,
  metadataGetFailedText,
  metadataGetText,
  metadataSetFailedText,
  MODE_AUTO_OK_TEXT,
  modeAutoFailedText,
  noPermissionText,
  STATUS_LIST_LIMIT,
  statusText,
} from './vendor-texts.js';

/**
 * The chatbot's slash commands, as the vendor's `lanying_command.py` finds them (:6-53): the text after `/` is
 * split on runs of space, tab and newline; the commands are tried in the order of `all_commands()` (:189-366), each
 * first as written, then with the first word replaced by its alias (:171-188); a rule list matches when every rule
 * matches its field (extra fields are ignored; `rest` takes the remaining fields joined by single spaces, possibly
 * none). The sandbox's app has one preset, `default` (`calc_preset_names`, :55-68).
 */

type Rule = { exact: string } | { word: true } | { rest: true } | { preset: true };

type CommandName =
  | 'bluevector_mode'
  | 'bluevector_add'
  | 'bluevector_get_metadata'
  | 'bluevector_set_metadata'
  | 'bluevector_add_with_preset'
  | 'bluevector_status'
  | 'bluevector_status_with_preset'
  | 'bluevector_delete'
  | 'bluevector_delete_with_preset'
  | 'bluevector_info'
  | 'bluevector_help'
  | 'bluevector_error'
  | 'search_on_doc_by_default_preset'
  | 'search_on_doc_by_preset'
  | 'search_on_fulldoc_by_default_preset'
  | 'search_on_fulldoc_by_preset'
  | 'bluevector_info_by_preset'
  | 'search_by_preset'
  | 'help';

const x = (exact: string): Rule => ({ exact });
const W: Rule = { word: true };
const REST: Rule = { rest: true };
const PRESET: Rule = { preset: true };

/** lanying_command.py:189-366, in order. */
const COMMANDS: readonly { name: CommandName; rules: readonly Rule[] }[] = [
  { name: 'bluevector_mode', rules: [x('bluevector'), x('mode'), x('auto'), W] },
  { name: 'bluevector_add', rules: [x('bluevector'), x('add'), W, W] },
  { name: 'bluevector_get_metadata', rules: [x('bluevector'), x('metadata'), x('get'), W] },
  { name: 'bluevector_set_metadata', rules: [x('bluevector'), x('metadata'), x('set'), W, W, REST] },
  { name: 'bluevector_add_with_preset', rules: [PRESET, x('bluevector'), x('add'), W, W] },
  { name: 'bluevector_status', rules: [x('bluevector'), x('status'), W] },
  { name: 'bluevector_status_with_preset', rules: [PRESET, x('bluevector'), x('status'), W] },
  { name: 'bluevector_delete', rules: [x('bluevector'), x('delete'), W, W] },
  { name: 'bluevector_delete_with_preset', rules: [PRESET, x('bluevector'), x('delete'), W, W] },
  { name: 'bluevector_info', rules: [x('bluevector'), x('info')] },
  { name: 'bluevector_help', rules: [x('bluevector'), x('help')] },
  { name: 'bluevector_error', rules: [x('bluevector')] },
  { name: 'search_on_doc_by_default_preset', rules: [x('on'), x('doc'), W, REST] },
  { name: 'search_on_doc_by_preset', rules: [PRESET, x('on'), x('doc'), W, REST] },
  { name: 'search_on_fulldoc_by_default_preset', rules: [x('on'), x('fulldoc'), W, REST] },
  { name: 'search_on_fulldoc_by_preset', rules: [PRESET, x('on'), x('fulldoc'), W, REST] },
  { name: 'bluevector_info_by_preset', rules: [PRESET, x('bluevector'), x('info')] },
  { name: 'search_by_preset', rules: [PRESET, REST] },
  { name: 'help', rules: [x('help')] },
];

/** lanying_command.py:181-188 */
const ALIASES: Readonly<Record<string, string>> = { bluebird: 'default', blue: 'default', bb: 'default', b: 'default', '': 'help' };
const PRESET_NAMES = ['default'];

function matchRules(rules: readonly Rule[], fields: readonly string[]): string[] | undefined {
  const args: string[] = [];
  for (const [index, rule] of rules.entries()) {
    if ('rest' in rule) {
      args.push(fields.slice(index).join(' '));
      continue;
    }
    const field = fields[index];
    if (field === undefined) return undefined;
    if ('exact' in rule) {
      if (field !== rule.exact) return undefined;
    } else if ('preset' in rule) {
      if (!PRESET_NAMES.includes(field)) return undefined;
      args.push(field);
    } else args.push(field);
  }
  return args;
}

/** `find_command`: the command a text names, with its arguments; undefined when none (the text goes to the LLM). */
export function findCommand(content: string): { name: CommandName; args: string[] } | undefined {
  if (!content.startsWith('/')) return undefined;
  const fields = content.slice(1).split(/[ \t\n]+/);
  const alias = ALIASES[fields[0] as string];
  const aliased = alias === undefined ? undefined : [alias, ...fields.slice(1)];
  for (const command of COMMANDS) {
    const args = matchRules(command.rules, fields) ?? (aliased ? matchRules(command.rules, aliased) : undefined);
    if (args) return { name: command.name, args };
  }
  return undefined;
}

/** What a command may act on. */
export interface CommandContext {
  kbs: KnowledgeBases;
  store: SandboxStore;
  senderId: number;
  /** Deletes a listed document (and gives its storage back). */
  deleteDocument(docId: string): void;
  /** `/bluevector add`: the file the sender kept under `fileId`, handed to ingestion; false when unknown or expired. */
  addSavedFile(kb: KnowledgeBaseRecord, fileId: string): boolean;
}

export type CommandOutcome = { reply: string } | { llm: true };

const docsOf = (store: SandboxStore, kb: KnowledgeBaseRecord) => [...store.documents.values()].filter((d) => d.kb === kb.name);

/**
 * Runs a text starting with `/` (`handle_embedding_command`, services/openai_service.py:2733-2748). A text that
 * names no command, and the `/on …` and `/<preset> …` forms (questions for the LLM), answer `{ llm: true }`.
 */
export function runCommand(content: string, ctx: CommandContext): CommandOutcome {
  const found = findCommand(content);
  if (!found) return { llm: true };
  const { kbs, store, senderId } = ctx;
  const a = found.args;
  switch (found.name) {
    case 'bluevector_mode': {
      // :2749-2764
      const names = kbs.manageable(senderId);
      const name = a[0] as string;
      if (!names.includes(name)) return { reply: modeAutoFailedText(name, names) };
      kbs.defaults.set(senderId, name);
      return { reply: MODE_AUTO_OK_TEXT };
    }
    case 'bluevector_add':
    case 'bluevector_add_with_preset': {
      // :2766-2791
      const [name, fileId] = found.name === 'bluevector_add' ? a : a.slice(1);
      const kb = kbs.byName(name as string);
      if (!kb || !kbs.canManage(kb.name, senderId)) return { reply: noPermissionText(senderId) };
      return { reply: ctx.addSavedFile(kb, fileId as string) ? ADD_OK_TEXT : addFileNotFoundText(fileId as string) };
    }
    case 'bluevector_get_metadata':
    case 'bluevector_set_metadata': {
      // :2813-2845
      const docId = a[0] as string;
      const kb = kbOfDocId(kbs, docId);
      if (!kb) return { reply: DOCUMENT_NOT_FOUND_TEXT };
      if (!kbs.canManage(kb.name, senderId)) return { reply: noPermissionText(senderId) };
      const doc = store.documents.get(docId);
      const set = found.name === 'bluevector_set_metadata';
      if (!doc || doc.kb !== kb.name) return { reply: set ? metadataSetFailedText(DOC_ID_NOT_EXIST) : metadataGetFailedText(DOC_ID_NOT_EXIST) };
      if (!set) return { reply: metadataGetText(doc.metadata) };
      doc.metadata[a[1] as string] = a[2] as string;
      return { reply: METADATA_SET_OK_TEXT };
    }
    case 'bluevector_status':
    case 'bluevector_status_with_preset': {
      // :2847-2860
      const name = (found.name === 'bluevector_status' ? a[0] : a[1]) as string;
      const kb = kbs.byName(name);
      if (!kb || !kbs.canManage(name, senderId)) return { reply: noPermissionText(senderId) };
      const docs = docsOf(store, kb);
      const recent = docs.slice(-STATUS_LIST_LIMIT);
      return {
        reply: statusText(
          docs.length,
          recent.map((d) => ({
            docId: d.doc_id,
            filename: d.filename,
            status: d.status,
            ...(d.progress_finish !== undefined ? { progressFinish: d.progress_finish } : {}),
            ...(d.progress_total !== undefined ? { progressTotal: d.progress_total } : {}),
          })),
        ),
      };
    }
    case 'bluevector_delete':
    case 'bluevector_delete_with_preset': {
      // :2793-2811
      const [name, docId] = (found.name === 'bluevector_delete' ? a : a.slice(1)) as [string, string];
      if (!kbs.canManage(name, senderId)) return { reply: noPermissionText(senderId) };
      const kb = kbs.byName(name);
      if (!kb) return { reply: kbNotFoundText(name) };
      const doc = store.documents.get(docId);
      if (!doc || doc.kb !== kb.name) return { reply: DOC_ID_NOT_FOUND_TEXT };
      ctx.deleteDocument(docId);
      return { reply: DELETE_OK_TEXT };
    }
    case 'bluevector_info':
    case 'bluevector_info_by_preset':
      // :2862-2878: no permission check; the knowledge bases bound to the chatbot's preset (all of the sandbox's).
      return { reply: infoText(kbs.list) };
    case 'bluevector_help':
      // :2880-2887
      return { reply: kbs.isAppAdmin(senderId) ? helpText() : helpRefusedText(senderId) };
    case 'bluevector_error':
      return { reply: FORMAT_ERROR_TEXT };
    case 'help':
      // :2892-2895: anyone.
      return { reply: helpText() };
    default:
      // `/on doc …`, `/on fulldoc …`, `/default …`: questions for the LLM.
      return { llm: true };
  }
}

/** `get_embedding_name_by_doc_id` (lanying_embedding.py:1592-1599): `{uuid}-{seq}`, the uuid of a knowledge base. */
function kbOfDocId(kbs: KnowledgeBases, docId: string): KnowledgeBaseRecord | undefined {
  const fields = docId.split('-');
  return fields.length === 2 ? kbs.byUuid(fields[0] as string) : undefined;
}
