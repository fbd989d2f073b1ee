import {
  buildNoPermissionReply,
  buildStatusReply,
  KB_DELETE_OK_REPLY,
  KB_DOC_NOT_FOUND_REPLY,
  KB_STATUS_LIMIT,
} from '../api/knowledge-base.js';
import type { SandboxStore } from './store.js';
import type { KbDocumentState, SandboxKnowledgeBase } from './types.js';

/** Whether a text is a knowledge-base command (`/bluevector ...`). */
export function isBluevectorCommand(text: string): boolean {
  return /^\/bluevector(\s|$)/.test(text);
}

export const BLUEVECTOR_HELP = [
  '知识库命令：',
  '/bluevector info',
  '/bluevector status <KB_NAME>',
  '/bluevector delete <KB_NAME> <DOC_ID>',
  '/bluevector mode auto <KB_NAME>',
  '/bluevector metadata get <DOC_ID>',
  '/bluevector metadata set <DOC_ID> <FIELD> <VALUE>',
].join('\n');

function progressOf(doc: KbDocumentState): { finished: number; total: number } {
  if (doc.status === 'finish') return { finished: 1, total: 1 };
  if (doc.status === 'wait') return { finished: 0, total: 0 };
  return { finished: 0, total: 1 };
}

/**
 * Runs a `/bluevector` command from `senderId` and returns the bot's reply text. Only the knowledge base's admins
 * may use it; anyone else, or a wrong knowledge-base name, gets the no-permission text.
 */
export function runBluevectorCommand(text: string, senderId: number, kb: SandboxKnowledgeBase, store: SandboxStore): string {
  const [, sub, ...args] = text.trim().split(/\s+/);
  const isAdmin = kb.adminUserIds.includes(senderId);
  const denied = buildNoPermissionReply(senderId);
  const kbAllowed = (name: string | undefined) => isAdmin && name === kb.name;

  switch (sub) {
    case 'info':
      return isAdmin ? `当前预设绑定的知识库：${kb.name}` : '当前预设没有绑定知识库';
    case 'status': {
      if (args.length < 1) return BLUEVECTOR_HELP;
      if (!kbAllowed(args[0])) return denied;
      const all = [...store.documents.values()];
      const recent = all.slice(-KB_STATUS_LIMIT).reverse();
      return buildStatusReply({
        kbName: kb.name,
        totalDocuments: all.length,
        documents: recent.map((d) => ({ docId: d.doc_id, filename: d.filename, status: d.status, ...progressOf(d) })),
      });
    }
    case 'delete': {
      if (args.length < 2) return BLUEVECTOR_HELP;
      if (!kbAllowed(args[0])) return denied;
      const docId = args[1] as string;
      if (!store.documents.has(docId)) return KB_DOC_NOT_FOUND_REPLY;
      store.documents.delete(docId);
      return KB_DELETE_OK_REPLY;
    }
    case 'mode': {
      if (args[0] !== 'auto' || args.length < 2) return BLUEVECTOR_HELP;
      if (!kbAllowed(args[1])) return denied;
      return `设置成功，默认知识库为：${kb.name}`;
    }
    case 'metadata': {
      const [action, docId, field, ...value] = args;
      if ((action !== 'get' && action !== 'set') || docId === undefined) return BLUEVECTOR_HELP;
      if (!isAdmin) return denied;
      const doc = store.documents.get(docId);
      if (!doc) return KB_DOC_NOT_FOUND_REPLY;
      if (action === 'get') return JSON.stringify(doc.metadata);
      if (field === undefined || value.length === 0) return BLUEVECTOR_HELP;
      doc.metadata[field] = value.join(' ');
      return '设置成功';
    }
    default:
      return BLUEVECTOR_HELP;
  }
}
