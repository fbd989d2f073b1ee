import { DEFAULT_MAX_BLOCK_SIZE } from './vendor-texts.js';
import type { KnowledgeBaseState } from './types.js';

/**
 * The sandbox's knowledge bases, as the vendor's service keeps them (`lanying_embedding.py`): each has a name, a
 * numeric uuid and its admins; document IDs are `{uuid}-{seq}` with a per-knowledge-base sequence that never
 * reuses a number (`generate_doc_id`, :1678-1682). An app-level knowledge-base admin (`is_app_embedding_admin_user`,
 * :1304-1307) is, here, any user who administers one of them. A user's default knowledge base is set by
 * `/bluevector mode auto` (`services/openai_service.py:2749-2764`).
 */
export interface KnowledgeBaseRecord {
  name: string;
  uuid: string;
  adminUserIds: number[];
  blockSize: number;
  storageBytes: number;
  nextSeq: number;
}

export class KnowledgeBases {
  readonly list: KnowledgeBaseRecord[];
  /** `lanying_connector:user_default_embedding_name:{app}:{user}` (:3230-3231). */
  readonly defaults = new Map<number, string>();

  constructor(kbs: { name: string; uuid: string; adminUserIds: number[] }[]) {
    this.list = kbs.map((kb) => ({ ...kb, adminUserIds: [...kb.adminUserIds], blockSize: DEFAULT_MAX_BLOCK_SIZE, storageBytes: 0, nextSeq: 1 }));
  }

  byName(name: string): KnowledgeBaseRecord | undefined {
    return this.list.find((kb) => kb.name === name);
  }

  byUuid(uuid: string): KnowledgeBaseRecord | undefined {
    return this.list.find((kb) => kb.uuid === uuid);
  }

  /** `check_can_manage_embedding` (:3053-3061): the knowledge base exists and lists the user as an admin. */
  canManage(name: string, userId: number): boolean {
    return this.byName(name)?.adminUserIds.includes(userId) ?? false;
  }

  /** The names of the knowledge bases the user administers, in the app's order. */
  manageable(userId: number): string[] {
    return this.list.filter((kb) => kb.adminUserIds.includes(userId)).map((kb) => kb.name);
  }

  isAppAdmin(userId: number): boolean {
    return this.list.some((kb) => kb.adminUserIds.includes(userId));
  }

  nextDocId(kb: KnowledgeBaseRecord): string {
    return `${kb.uuid}-${kb.nextSeq++}`;
  }

  /** Forgets documents' traces: storage use and defaults. Sequences keep running (no ID is handed out twice). */
  resetTraffic(): void {
    for (const kb of this.list) kb.storageBytes = 0;
    this.defaults.clear();
  }

  state(): KnowledgeBaseState[] {
    return this.list.map((kb) => ({ name: kb.name, uuid: kb.uuid, adminUserIds: [...kb.adminUserIds], storageBytes: kb.storageBytes }));
  }
}
