/**
 * lanying-kb as a library: the typed Lanying API client, configuration loading, one-shot sync (`syncOnce`, the sync
 * engine and its state) and the protocol's parsers. The rest has its own entry point, so that importing this one
 * loads none of it: `lanying-kb/daemon` (the watch daemon and its logger), `lanying-kb/admin` (the admin pipelines)
 * and `lanying-kb/sandbox` (the local fake of the Lanying API, with its HTTP form parser).
 *
 * ```ts
 * import { createClient, loadConfig, syncOnce } from 'lanying-kb';
 *
 * const config = await loadConfig({ cwd: process.cwd(), env: process.env });
 * const report = await syncOnce({ config });
 * ```
 */

export { VERSION, USER_AGENT } from './version.js';

// Errors: one tree.
export {
  ConfigError,
  FetchError,
  LanyingKbError,
  LocalFileError,
  LockError,
  SourceError,
  StateError,
  UsageError,
  ValidationError,
  type ConfigProblem,
} from './errors.js';
export { AbortedError, ApiError, AuthError, ConnectionError, RateLimitError, ServerError, TimeoutError, UploadError } from './api/errors.js';
export { API_ERROR_CODES, describeApiCode } from './api/error-codes.js';

// The API client.
export { LanyingClient, type CallEvent, type Envelope, type LanyingClientOptions, type RequestOptions } from './api/client.js';
export { createClient } from './api/create-client.js';
export { createRateLimiter } from './api/rate-limiter.js';
export { usernameProblem, type BatchRegisterResult, type UserProfile, type UserSettings } from './api/resources/users.js';
export type { RosterEntry } from './api/resources/rosters.js';
export type { CreateGroupInput, GroupInfo, GroupMember, InviteResult, MemberPage } from './api/resources/groups.js';
export {
  ContentType,
  generateTransactionId,
  type ConversationMessage,
  type MessageTarget,
  type SendMessageInput,
  type SendResult,
} from './api/resources/messages.js';
export { FileType, type UploadBody, type UploadChatFileInput, type UploadedFile, type UploadSlot } from './api/resources/files.js';
export { PUSH_AUDIENCE_LIMIT, splitAudience, type PushAudience, type PushMessage, type PushResult } from './api/resources/push.js';
export {
  KB_MAX_DOCUMENT_BYTES,
  KB_SUPPORTED_EXTENSIONS,
  isAckReply,
  parseCompletionReply,
  type CompletionReply,
} from './api/knowledge-base.js';

// Configuration.
export { loadConfig, parseConfig, type LoadConfigOptions, type ParseConfigOptions } from './config/load.js';
export { configJsonSchema } from './config/json-schema.js';
export type { ResolvedConfig, ResolvedFolderSource, ResolvedSource, ResolvedUrlSource } from './config/resolve.js';

// Sync.
export { syncOnce, type SyncOnceOptions } from './sync/sync-once.js';
export { SyncEngine, type ReconcileOptions, type SyncEngineOptions, type SyncEvent } from './sync/engine.js';
export type { PlanAction, ReportEntry, SyncCounts, SyncOutcome, SyncReport } from './sync/report.js';
export { StateStore, type DocumentRecord, type DocumentStatus } from './sync/state-store.js';
