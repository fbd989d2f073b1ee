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
export { AbortedError, ApiError, AuthError, ConnectionError, RateLimitError, ServerError, TimeoutError, UnavailableError, UnsafeIdError, UploadError } from './api/errors.js';
export { API_ERROR_CODES, describeApiCode } from './protocol/error-codes.js';

// The API client.
export { LanyingClient, type CallEvent, type Envelope, type LanyingClientOptions, type RequestOptions } from './api/client.js';
export { createClient } from './runtime/create-client.js';
export { createRateLimiter } from './api/rate-limiter.js';
export { CircuitBreaker, type BreakerSnapshot, type BreakerState, type CircuitBreakerOptions } from './api/circuit-breaker.js';
export type { BatchRegisterResult, UserProfile, UserSettings } from './api/resources/users.js';
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

// The vendor's protocol: file rules, usernames, the chatbot's commands and replies.
export { KB_MAX_DOCUMENT_BYTES, KB_SUPPORTED_EXTENSIONS, isKbSupportedName, kbExtensionOf } from './protocol/kb-files.js';
export { usernameProblem } from './protocol/username.js';
export { KB_BOT_ROLE, readBotExt, type BotExt } from './protocol/bot-ext.js';
export { KB_FAILURE_REASONS, isKnownFailureReason, parseCompletionNotice, type CompletionNotice, type KbFailureReason } from './protocol/kb-notices.js';
export { classifySendReply, parseSendReply, type BotMessage, type SendRefusalReason, type SendReply } from './protocol/kb-send-replies.js';
export {
  bluevectorAddCommand,
  bluevectorDeleteCommand,
  bluevectorInfoCommand,
  bluevectorMetadataGetCommand,
  bluevectorMetadataSetCommand,
  bluevectorModeAutoCommand,
  bluevectorStatusCommand,
} from './protocol/kb-commands.js';
export {
  isCommandHelpReply,
  parseCommandFailure,
  parseDeleteReply,
  parseInfoReply,
  parseMetadataGetReply,
  parseMetadataSetReply,
  parseModeAutoReply,
  parseStatusReply,
  type CommandFailure,
  type CommandFailureReason,
  type DeleteReply,
  type InfoReply,
  type MetadataGetReply,
  type MetadataSetReply,
  type ModeAutoReply,
  type StatusDocument,
  type StatusReply,
  parseHelpRefusedReply,
} from './protocol/kb-command-replies.js';

// Configuration.
export { loadConfig, parseConfig, type LoadConfigOptions, type ParseConfigOptions } from './config/load.js';
export { configJsonSchema } from './config/json-schema.js';
export type { ResolvedConfig, ResolvedFolderSource, ResolvedSource, ResolvedUrlSource } from './config/resolve.js';

// Sync.
export { syncOnce, type SyncOnceOptions } from './sync/sync-once.js';
export { SyncEngine, type EngineStats, type ReconcileOptions, type SyncEngineOptions, type SyncEvent } from './sync/engine.js';
export type { PlanAction, ReportEntry, SyncCounts, SyncOutcome, SyncReport } from './sync/report.js';
export { StateStore, type DocumentRecord, type DocumentStatus } from './state/store.js';
export { openRuntime, type OpenRuntimeOptions, type Runtime } from './runtime/open-runtime.js';
export { notifyRun, type NotifyResult } from './notify/notify.js';

// The knowledge base against the state: check, adopt, prune; the tracked documents: list, resend, forget.
export { checkKnowledgeBase, type CheckOptions, type CheckReport, type KnowledgeBaseCheck } from './audit/check.js';
export { pruneKnowledgeBase, type KnowledgeBasePrune, type PruneOptions, type PruneOutcome, type PruneReport } from './audit/prune.js';
export type { PrunePlan } from './audit/prune-plan.js';
export type { Finding, FindingKind } from './audit/compare.js';
export { listDocuments, type DocumentView, type ListDocumentsOptions } from './documents/list.js';
export { resendDocuments, type ResendOptions, type ResendResult } from './documents/resend.js';
export { forgetDocuments, type ForgetOptions, type ForgetResult } from './documents/forget.js';
export type { DocumentSelection } from './documents/select.js';

// Source types.
export { SOURCE_ADAPTERS, adapterFor } from './sources/registry.js';
export type {
  HashResult,
  Observation,
  ObservationBatch,
  ObservedItem,
  ObserveContext,
  Payload,
  ResolvedSourceBase,
  Scope,
  SourceAdapter,
  SourceSession,
  SourceWatch,
} from './sources/types.js';
