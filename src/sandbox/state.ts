import type { KnowledgeBases } from './knowledge-bases.js';
import { groupObject } from './routes/groups.js';
import type { SandboxStore } from './store.js';
import type { FaultRule, RequestLogEntry, SandboxKnowledgeBase, SandboxState } from './types.js';

/** A deep copy of everything the sandbox holds, as `GET /_sandbox/state` returns it. No passwords, no token. */
export function buildState(input: {
  appId: string;
  groupCapacity: number;
  kb: SandboxKnowledgeBase;
  kbs: KnowledgeBases;
  chatbotPending: number;
  store: SandboxStore;
  faults: FaultRule[];
  requests: RequestLogEntry[];
}): SandboxState {
  const { store } = input;
  const state: SandboxState = {
    appId: input.appId,
    knowledgeBase: { ...input.kb, adminUserIds: [...input.kb.adminUserIds], documents: [...store.documents.values()] },
    knowledgeBases: input.kbs.state(),
    chatbotPending: input.chatbotPending,
    users: [...store.users.values()].map(({ password: _password, ...user }) => user),
    rosters: [...store.rosters.entries()]
      .filter(([, friends]) => friends.size > 0)
      .map(([userId, friends]) => ({ user_id: userId, friends: [...friends].sort((a, b) => a - b) })),
    groups: [...store.groups.values()].map((group) => ({
      ...groupObject(group, input.groupCapacity),
      group_id: group.group_id,
      name: group.name,
      description: group.description,
      owner_id: group.owner_id,
      type: group.type,
      created_at: group.created_at,
      members: [...group.members.values()]
        .sort((a, b) => a.seq - b.seq)
        .map(({ seq: _seq, ...member }) => member),
    })),
    messages: store.messages,
    push: store.push,
    objects: [...store.objects.values()].map(({ path: _path, ...object }) => object),
    faults: input.faults,
    requests: input.requests,
  };
  return structuredClone(state);
}
