/** The sandbox's public types: its options, its handle, fault rules, site pages and the state snapshot. */

/** A fault of the HTTP layer: a delay, an HTTP error, a business code, a reset connection or a slow body. */
export interface HttpFaultRule {
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

/**
 * Refusals the real chatbot sends after `/message/send` answered 200, instead of taking the message
 * (`services/openai_service.py` of the vendor's connector): `service_expired` (:2555-2562), `deduct_failed`
 * (:2550-2553), `several_kbs` (the sender administers several knowledge bases and set no default: a file is kept,
 * not ingested, :3161; URLs are dropped, :3220), `round_limit` (:514-522).
 */
export type ChatbotRefusal = 'service_expired' | 'deduct_failed' | 'several_kbs' | 'round_limit';

/**
 * Ways a document the chatbot accepted can end in `error` (`lanying_tasks.py`); each sends its failure notice:
 * `download_failed` (`download failed`), `upload_error` (`upload embedding file error`; the document is never
 * listed), `download_error` (`download file error`), `storage_limit` (`storage limit`), `exception` (a file that
 * cannot be parsed), `bad_authorization`, `no_quota`, `deduct_failed`.
 */
export type ChatbotFailure = 'download_failed' | 'upload_error' | 'download_error' | 'storage_limit' | 'exception' | 'bad_authorization' | 'no_quota' | 'deduct_failed';

interface ChatbotRuleBase {
  /**
   * Only messages or documents whose subject matches this pattern (`*` matches anything): a document's file name
   * or URL; for a refusal, the message's text, or a file message's `dName`. @default every one
   */
  match?: string;
  /** Probability (0..1) that the rule fires on a matching subject. Default 1. */
  errorRate?: number;
  /** Fire at most this many times; then the rule is spent. */
  times?: number;
}

/** The chatbot refuses a message with `reason`'s reply (nothing is ingested). */
export interface ChatbotRefuseRule extends ChatbotRuleBase {
  chatbot: 'refuse';
  reason: ChatbotRefusal;
}

/** A document the chatbot accepted ends in `error` with `reason`, and its failure notice is sent. */
export interface ChatbotFailRule extends ChatbotRuleBase {
  chatbot: 'fail';
  reason: ChatbotFailure;
}

/**
 * A matching document (by file name or URL) takes `delayMs` longer to process: its notice comes that much later,
 * so documents sent after it can finish first (completions in a different order than the sends).
 */
export interface ChatbotDelayRule extends ChatbotRuleBase {
  chatbot: 'delay';
  delayMs: number;
}

/**
 * `lose_notice`: a matching document is processed but its completion notice is never sent. `duplicate_notice`: the
 * notice is sent twice. (The vendor sends one per trace; a lost or repeated message is what a client must survive.)
 */
export interface ChatbotNoticeRule extends ChatbotRuleBase {
  chatbot: 'lose_notice' | 'duplicate_notice';
}

/**
 * `/bluevector delete` of a matching document (by document ID) answers `删除成功，请等待系统处理。` at once, but the
 * document stays listed for `delayMs` (the vendor removes it from the list at once; a slower service is the case a
 * client must survive).
 */
export interface ChatbotDeleteLaterRule extends ChatbotRuleBase {
  chatbot: 'delete_later';
  delayMs: number;
}

/**
 * Slash commands are not run: the chatbot answers a matching text starting with `/` like any chat (`answer: 'chat'`,
 * the default), or not at all (`'silent'`): a chatbot bound to an agent platform instead of the connector.
 */
export interface ChatbotNoCommandsRule extends ChatbotRuleBase {
  chatbot: 'no_commands';
  answer?: 'chat' | 'silent';
}

/** A fault of the chatbot's behaviour, reached like the HTTP ones (options, the control endpoint, `--fault`). */
export type ChatbotFaultRule = ChatbotRefuseRule | ChatbotFailRule | ChatbotDelayRule | ChatbotNoticeRule | ChatbotDeleteLaterRule | ChatbotNoCommandsRule;

export type FaultRule = HttpFaultRule | ChatbotFaultRule;

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

/**
 * Limits the vendor does not document. The sandbox enforces these values (code 10002 beyond, unless noted); the
 * real service's limits are unknown (docs/vendor-contract.md).
 */
export interface SandboxLimits {
  /** @default 64 */
  usernameMaxLength: number;
  /** Entries of one `/user/register/batch`. @default 100 */
  batchRegisterMax: number;
  /** Receivers of one `/message/send`. @default 1000 */
  messageTargetsMax: number;
  /** Characters of a message's `content`. @default 65536 */
  messageContentMaxChars: number;
  /** @default 64 */
  nickNameMaxChars: number;
  /** `description`, `public_info`, `private_info` of a profile. @default 4096 */
  profileFieldMaxChars: number;
  /** @default 128 */
  groupNameMaxChars: number;
  /** @default 1024 */
  groupDescriptionMaxChars: number;
  /** Members of a group (20010 beyond). @default 2000 */
  groupCapacity: number;
  /** Entries of one `/user/add_roster`. @default 100 */
  addRosterMax: number;
  /** `limit` of one `/message/conversation` page. @default 100 */
  conversationPageMax: number;
  /** A JSON request body. @default 1 MiB */
  jsonBodyMaxBytes: number;
}

/** The chatbot's switches. Every one is also reachable as a fault rule (`ChatbotFaultRule`) at run time. */
export interface ChatbotOptions {
  /** Answer every message with `service is expired` (the app's AI service lapsed). @default false */
  serviceExpired?: boolean;
  /** Answer every message with the "in arrears" refusal (error_code `deduct_failed`). @default false */
  deductFailed?: boolean;
  /** The arrears text (configurable per app in the real service). @default `抱歉，当前应用已欠费，请联系管理员或者稍后重试。` */
  deductFailedText?: string;
  /** The app's knowledge-base storage quota, in bytes; a document beyond it fails with `storage limit`. @default none */
  storageLimitBytes?: number;
  /** Send a READ_ACK (content_type 9) for each message, as the real chatbot does. @default true */
  readReceipts?: boolean;
  /** Enforce the round limit (a repeated bot text, third time in a row) as the real chatbot does. @default true */
  roundLimit?: boolean;
  /**
   * Refuse (`download_failed`) a sandbox download URL whose upload slot was not asked by the message's sender for
   * the chatbot. The real service's rule is unknown. @default true
   */
  strictDownloadSign?: boolean;
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
  /**
   * Defaults: name `sandbox-kb`, chatbot user `kb_bot`, one admin `kb_admin`; all users are registered at start.
   * `otherKnowledgeBases`: more knowledge bases the same admins administer (then a message is refused with the
   * "several knowledge bases" reply until the sender sets a default with `/bluevector mode auto <KB>`).
   */
  knowledgeBase?: { name?: string; chatbotUsername?: string; adminUsernames?: string[]; otherKnowledgeBases?: string[] };
  chatbot?: ChatbotOptions;
  /** Limits the vendor does not document; each defaults to the value listed in `SandboxLimits`. */
  limits?: Partial<SandboxLimits>;
  /** The first message ID handed out (decimal text). @default "1152921504606846977" (2^60 + 1) */
  firstMessageId?: string;
  /**
   * Refuse a `/message/send` without `content` (swagger marks it required; the quick start's knowledge-base guide
   * sends a file message without it; the real behaviour is unknown). @default false
   */
  requireContent?: boolean;
  /** Treat usernames that differ only in case as the same user (unknown for the real service). @default true */
  usernamesIgnoreCase?: boolean;
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
  /**
   * The `transaction_id` deduplication window of `/message/send` (and of push `request_id`). Swagger says only
   * "within a short time" (短时间内); the real window is unknown. @default 10 minutes
   */
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

/** One knowledge base of the sandbox (the main one and `otherKnowledgeBases`). */
export interface KnowledgeBaseState {
  name: string;
  /** The digits before the dash of its document IDs. */
  uuid: string;
  adminUserIds: number[];
  /** Bytes of its processed documents (what `/bluevector info` shows as 存储空间). */
  storageBytes: number;
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
  /**
   * Resolves once nothing is pending: no API, storage or site request being handled, and no download, ingestion
   * or notice of the chatbot in progress (the moment to check that something did NOT happen). Rejects after
   * `timeoutMs` (default 10 s).
   */
  idle(timeoutMs?: number): Promise<void>;
  /** Sets a page under `/_sandbox/site/<path>`. */
  setPage(path: string, page: SitePage): void;
  /**
   * Drops traffic: messages, transaction records, documents (and pending ingestion), push records, stored objects
   * and upload slots, and the request log; requests still waiting out a latency fault are cut off and never run.
   * Keeps configuration: users, rosters, groups, fault rules and site pages. ID counters keep running, so an ID is
   * never handed out twice.
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
  /** The knowledge base it belongs to. */
  kb: string;
  type: 'url' | 'file';
  filename: string;
  source: string;
  status: KbDocumentStatus;
  reason?: string;
  metadata: Record<string, string>;
  /** Blocks processed / in total, as `/bluevector status` shows them (`-` while unset). */
  progress_finish?: number;
  progress_total?: number;
  /** The message that brought it (64-bit, decimal text). */
  msg_id: string;
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
  /** 64-bit, decimal text. */
  msg_id: string;
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
  /** A number, or decimal text when beyond 2^53 (it is an int64). */
  transaction_id?: number | string;
  online_only?: boolean;
  /** 64-bit, decimal text. */
  related_mid?: string;
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
  /** A number, or decimal text when beyond 2^53. */
  transaction_id?: number | string;
  at: number;
  duration_ms?: number;
}

export interface SandboxState {
  appId: string;
  /** The main knowledge base; `documents` holds the listed documents of every knowledge base, in list order. */
  knowledgeBase: SandboxKnowledgeBase & { documents: KbDocumentState[] };
  knowledgeBases: KnowledgeBaseState[];
  /** Downloads, ingestions and notices in progress (0 when the chatbot is idle). */
  chatbotPending: number;
  users: UserState[];
  rosters: { user_id: number; friends: number[] }[];
  groups: GroupState[];
  messages: MessageState[];
  push: PushRecordState[];
  objects: StoredObjectState[];
  faults: FaultRule[];
  requests: RequestLogEntry[];
}
