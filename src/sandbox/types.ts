/** The sandbox's public types: its options, its handle, fault rules, site pages and the state snapshot. */

export interface FaultRule {
  /**
   * Matched against `${METHOD} ${pathname}` or, without a method, the pathname alone; `*` matches anything
   * (slashes included), e.g. `'POST /message/send'`, `'/file/upload/chat'`, `'POST /_oss/*'`, `'*'`.
   */
  route: string;
  /** Added delay before handling. */
  latencyMs?: number;
  /** Probability (0..1) that the rule fires on a matching request. Default 1. */
  errorRate?: number;
  /** A plain HTTP error response with this status (e.g. 429, 500, 503). */
  status?: number;
  /** With 429 or 503: the Retry-After header, in seconds. */
  retryAfterSeconds?: number;
  /** Answer HTTP 200 with this business code in the envelope. */
  code?: number;
  /** Destroy the socket without a response. */
  reset?: boolean;
  /** Handle the request normally, but dribble the response body over this many milliseconds. */
  slowBodyMs?: number;
  /** Fire at most this many times; then the rule is spent. */
  times?: number;
}

/** A page served under `/_sandbox/site/<path>`, set at run time. */
export interface SitePage {
  /** @default 200, or 302 with `redirectTo` */
  status?: number;
  /** @default by the path's extension, else `text/html; charset=utf-8` */
  contentType?: string;
  body?: string | Uint8Array;
  /** Extra response headers; they win over the computed ones. */
  headers?: Record<string, string>;
  /** Answer with a redirect here: an absolute URL, an absolute path, or a path relative to `/_sandbox/site/`. */
  redirectTo?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Instead of `body`: generate a body of this many bytes, streamed. */
  bodyBytes?: number;
  /** Send the body without a Content-Length (chunked). */
  chunked?: boolean;
  /** @default a hash of the body */
  etag?: string;
  /** An HTTP date, an ISO date or epoch milliseconds. @default when the page was set */
  lastModified?: string | number;
}

export interface SandboxOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default 'sandbox-app' */
  appId?: string;
  /** The admin token. @default a random `sbx_` + hex string */
  accessToken?: string;
  /** Defaults: name `sandbox-kb`, chatbot user `kb_bot`, one admin `kb_admin`; all users are registered at start. */
  knowledgeBase?: { name?: string; chatbotUsername?: string; adminUsernames?: string[] };
  /** @default true; false answers 12006 on `/push/notify` */
  pushEnabled?: boolean;
  /** What `/file/upload/chat` hands out. @default 'POST' */
  uploadMethod?: 'POST' | 'PUT';
  /** The policy's content-length-range upper bound. @default 5 GiB */
  ossMaxBytes?: number;
  /** Policy (and presigned URL) lifetime. @default 1 hour */
  policyTtlMs?: number;
  /** Where uploaded objects are stored on disk (absolute). @default a fresh temporary folder, removed by `close()` */
  storageDir?: string;
  /** Delay before the chatbot's completion reply. @default 30 */
  ingestionDelayMs?: number;
  /** The chatbot's download limit. @default 52428800 (50 MiB) */
  ingestionMaxBytes?: number;
  /** The chatbot's URL fetch timeout. @default 60000 */
  urlFetchTimeoutMs?: number;
  /** The `transaction_id` deduplication window of `/message/send`. @default 10 minutes */
  transactionWindowMs?: number;
  /** A folder (absolute) of static pages served under `/_sandbox/site/`. */
  siteDir?: string;
  faults?: FaultRule[];
  /** The clock, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

export interface SandboxKnowledgeBase {
  name: string;
  chatbotUserId: number;
  adminUserIds: number[];
}

export interface Sandbox {
  /** e.g. `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly appId: string;
  readonly accessToken: string;
  readonly knowledgeBase: SandboxKnowledgeBase;
  /** Where uploaded objects are stored on disk (`storageDir`, or the temporary folder `close()` removes). */
  readonly storageDir: string;
  /** The same JSON as `GET /_sandbox/state`. */
  state(): SandboxState;
  /** Replaces the fault rules. Throws on an invalid rule. */
  setFaults(rules: FaultRule[]): void;
  /** Sets a page under `/_sandbox/site/<path>`. */
  setPage(path: string, page: SitePage): void;
  /**
   * Drops traffic: messages, transaction records, documents (and pending ingestion), push records, stored objects
   * and upload slots, and the request log. Keeps configuration: users, rosters, groups, fault rules and site pages.
   * ID counters keep running, so an ID is never handed out twice.
   */
  reset(): void;
  /** A ready-to-use lanying-kb configuration for this sandbox. */
  configSnippet(): SandboxConfigSnippet;
  /** Closes every connection, cancels pending work, removes the temporary storage folder. */
  close(): Promise<void>;
}

export interface SandboxConfigSnippet {
  api: { endpoint: string; appId: string; accessToken: string };
  knowledgeBase: { chatbotUserId: number; adminUserId: number; name: string };
  sources: never[];
  sync: Record<string, never>;
}

export type KbDocumentStatus = 'wait' | 'processing' | 'finish' | 'error';

export interface KbDocumentState {
  doc_id: string;
  type: 'url' | 'file';
  filename: string;
  source: string;
  status: KbDocumentStatus;
  reason?: string;
  metadata: Record<string, string>;
  msg_id: number;
  from_user_id: number;
  file_size?: number;
  sha256?: string;
  /** For a zip member: the zip's display name. */
  archive?: string;
  created_at: number;
}

export interface UserState {
  user_id: number;
  username: string;
  nick_name: string;
  description: string;
  public_info: string;
  private_info: string;
  avatar: string;
  created_at: number;
}

export interface GroupMemberState {
  user_id: number;
  display_name: string;
  join_time: number;
  expired_time: number;
}

export interface GroupState {
  group_id: number;
  name: string;
  description: string;
  owner_id: number;
  type: number;
  created_at: number;
  members: GroupMemberState[];
  [field: string]: unknown;
}

export interface MessageState {
  msg_id: number;
  /** 1 one-to-one, 2 group. */
  type: 1 | 2;
  conversation_id: string;
  from_user_id: number;
  /** The receiving user, or the group. */
  to_id: number;
  content_type: number;
  ctype: string;
  content: string;
  attachment: string;
  ext: string;
  config: string;
  transaction_id?: number;
  online_only?: boolean;
  related_mid?: number;
  status: string;
  timestamp: number;
}

export interface PushRecordState {
  task_id: number;
  audience: unknown;
  message: unknown;
  setting?: unknown;
  at: number;
}

export interface StoredObjectState {
  bucket: string;
  key: string;
  size: number;
  sha256: string;
  content_type?: string;
  uploader: number;
  to_id: number;
  to_type: number;
  uploaded_at: number;
}

/** One request the sandbox served (control routes excluded). Never holds a token, a query string or a body. */
export interface RequestLogEntry {
  method: string;
  /** The pathname only. */
  path: string;
  /** HTTP status; null when the socket was destroyed without a response. */
  status: number | null;
  /** The envelope's business code, for API routes. */
  code?: number;
  /** What a fault rule did, e.g. `latency(50ms)`, `status(429)`, `code(20000)`, `reset`, `slow-body(200ms)`. */
  fault?: string;
  /** Whether an access token was sent, and whether it was the admin token. */
  token: 'absent' | 'valid' | 'invalid';
  user_id_header?: string;
  transaction_id?: number;
  at: number;
  duration_ms?: number;
}

export interface SandboxState {
  appId: string;
  knowledgeBase: SandboxKnowledgeBase & { documents: KbDocumentState[] };
  users: UserState[];
  rosters: { user_id: number; friends: number[] }[];
  groups: GroupState[];
  messages: MessageState[];
  push: PushRecordState[];
  objects: StoredObjectState[];
  faults: FaultRule[];
  requests: RequestLogEntry[];
}
