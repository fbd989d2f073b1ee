import { DedupWindow } from './dedup-window.js';
import type { GroupMemberState, KbDocumentState, MessageState, PushRecordState, StoredObjectState, UserState } from './types.js';

/**
 * The sandbox's in-memory data: users, friends, groups, messages, pushes, knowledge-base documents, uploaded
 * objects. Plain data and lookups only; the rules live in the route handlers and the chatbot.
 *
 * IDs are deterministic. User, group and push-task IDs have 13 digits like the quick start's examples
 * (`2302128618880`). Message IDs are 64-bit in the real service (swagger `msg_ids` `int64`; the floo SDK uses
 * uint64), and the sandbox hands them out above 2^60 by default, so that any client that reads one through a
 * JavaScript number gets it wrong at once. They are kept as decimal text.
 */
export const ID_BASE = Object.freeze({
  user: 2302128600001,
  group: 3402128600001,
  /** 2^60 + 1. */
  message: '1152921504606846977',
  pushTask: 7702128600001,
});

/** The main knowledge base's "uuid" (the vendor's is a small counter, `lanying_embedding.py:677-679`). */
export const KB_PREFIX = '6802128600001';

export interface UserRecord extends UserState {
  /** Never part of the state snapshot. */
  password: string;
}

export interface MemberRecord extends GroupMemberState {
  /** Join order: what the member_list cursor points into. */
  seq: number;
}

export interface GroupRecord {
  group_id: number;
  name: string;
  description: string;
  avatar: string;
  owner_id: number;
  type: number;
  created_at: number;
  updated_at: number;
  members: Map<number, MemberRecord>;
  nextMemberSeq: number;
}

export type MessageRecord = MessageState;

export interface StoredObject extends StoredObjectState {
  /** Where the bytes are on disk. */
  path: string;
}

/** What `/file/upload/chat` handed out, by object key: who uploads what for whom. */
export interface UploadSlotRecord {
  bucket: string;
  key: string;
  uploader: number;
  to_id: number;
  to_type: number;
  file_type: number;
  created_at: number;
}

export class SandboxStore {
  readonly users = new Map<number, UserRecord>();
  /** Username (lower-cased unless `usernamesIgnoreCase` is off) to user ID. */
  readonly usernames = new Map<string, number>();
  /** Friend lists. Friendship is mutual: both sides list each other. */
  readonly rosters = new Map<number, Set<number>>();
  readonly groups = new Map<number, GroupRecord>();
  /** Every message in sending order (msg_id ascending). */
  messages: MessageRecord[] = [];
  conversations = new Map<string, MessageRecord[]>();
  /** msg_ids of recent sends, by `sender:transaction_id`. */
  readonly transactions: DedupWindow<string[]>;
  push: PushRecordState[] = [];
  /** Task IDs of recent pushes, by `setting.request_id`. */
  readonly pushRequestIds: DedupWindow<number>;
  /** Listed knowledge-base documents, in list order (the vendor's `rpush` order), of every knowledge base. */
  documents = new Map<string, KbDocumentState>();
  objects = new Map<string, StoredObject>();
  slots = new Map<string, UploadSlotRecord>();

  #nextUser = ID_BASE.user;
  #nextGroup = ID_BASE.group;
  #nextMessage: bigint;
  #nextPushTask = ID_BASE.pushTask;

  constructor(
    readonly now: () => number,
    dedupWindowMs: number,
    firstMessageId: string = ID_BASE.message,
    /** Whether `Alice` and `alice` are one username (unknown for the real service). */
    readonly usernamesIgnoreCase = true,
  ) {
    this.transactions = new DedupWindow(dedupWindowMs);
    this.pushRequestIds = new DedupWindow(dedupWindowMs);
    this.#nextMessage = BigInt(firstMessageId);
  }

  #usernameKey(username: string): string {
    return this.usernamesIgnoreCase ? username.toLowerCase() : username;
  }

  userByName(username: string): UserRecord | undefined {
    const id = this.usernames.get(this.#usernameKey(username));
    return id === undefined ? undefined : this.users.get(id);
  }

  addUser(username: string, password: string): UserRecord {
    const user: UserRecord = {
      user_id: this.#nextUser++,
      username,
      password,
      nick_name: '',
      description: '',
      public_info: '',
      private_info: '',
      avatar: '',
      created_at: this.now(),
    };
    this.users.set(user.user_id, user);
    this.usernames.set(this.#usernameKey(username), user.user_id);
    return user;
  }

  friendsOf(userId: number): Set<number> {
    let set = this.rosters.get(userId);
    if (!set) {
      set = new Set();
      this.rosters.set(userId, set);
    }
    return set;
  }

  addGroup(fields: { name: string; description: string; avatar: string; owner_id: number; type: number }): GroupRecord {
    const at = this.now();
    const group: GroupRecord = { ...fields, group_id: this.#nextGroup++, created_at: at, updated_at: at, members: new Map(), nextMemberSeq: 1 };
    this.addMember(group, fields.owner_id);
    return group;
  }

  addMember(group: GroupRecord, userId: number): MemberRecord {
    const member: MemberRecord = { user_id: userId, display_name: '', join_time: this.now(), expired_time: 0, seq: group.nextMemberSeq++ };
    group.members.set(userId, member);
    group.updated_at = member.join_time;
    return member;
  }

  /** Stores a message in its conversation and returns it. */
  addMessage(fields: Omit<MessageRecord, 'msg_id' | 'conversation_id' | 'timestamp' | 'status' | 'ctype'>): MessageRecord {
    const conversationId = conversationIdOf(fields.type, fields.from_user_id, fields.to_id);
    const message: MessageRecord = {
      msg_id: String(this.#nextMessage++),
      conversation_id: conversationId,
      ...fields,
      ctype: ctypeOf(fields.content_type),
      status: 'UNREAD',
      timestamp: this.now(),
    };
    this.messages.push(message);
    let list = this.conversations.get(conversationId);
    if (!list) {
      list = [];
      this.conversations.set(conversationId, list);
    }
    list.push(message);
    return message;
  }

  nextPushTaskId(): number {
    return this.#nextPushTask++;
  }

  /**
   * Drops traffic, keeps configuration (users, rosters, groups). Counters keep running. Upload slots are kept: a
   * policy handed out before a reset stays valid, and its upload must still know its uploader.
   */
  resetTraffic(): void {
    this.messages = [];
    this.conversations = new Map();
    this.transactions.clear();
    this.push = [];
    this.pushRequestIds.clear();
    this.documents = new Map();
    this.objects = new Map();
  }
}

/** The conversation a message belongs to: the pair of users, or the group. */
export function conversationIdOf(type: 1 | 2, from: number, to: number): string {
  return type === 2 ? `group:${to}` : `chat:${Math.min(from, to)}:${Math.max(from, to)}`;
}

const CTYPES: Readonly<Record<number, string>> = {
  0: 'TEXT',
  1: 'IMAGE',
  2: 'AUDIO',
  3: 'VIDEO',
  4: 'FILE',
  5: 'LOCATION',
  6: 'COMMAND',
  7: 'FORWARD',
  9: 'READ_ACK',
  10: 'RECALL',
  11: 'APPEND',
  12: 'REPLACE',
};

/** The `ctype` string a message type reads back as. */
export function ctypeOf(contentType: number): string {
  return CTYPES[contentType] ?? 'UNKNOWN';
}
