/** A local Lanying-compatible server for tests, the demo and benchmarks. */
export { startSandbox, SANDBOX_BUCKET, DEFAULT_LIMITS } from './server.js';
export { formatSandboxBanner } from './banner.js';
export { parseFaultRules, CHATBOT_FAILURES, CHATBOT_REFUSALS } from './faults.js';
export { parseFaultArgument } from './fault-argument.js';
export { ID_BASE, KB_PREFIX } from './store.js';
export type {
  ChatbotFailRule,
  ChatbotFailure,
  ChatbotFaultRule,
  ChatbotOptions,
  ChatbotRefusal,
  ChatbotRefuseRule,
  FaultRule,
  HttpFaultRule,
  KnowledgeBaseState,
  SandboxLimits,
  KbDocumentState,
  KbDocumentStatus,
  MessageState,
  RequestLogEntry,
  Sandbox,
  SandboxConfigSnippet,
  SandboxKnowledgeBase,
  SandboxOptions,
  SandboxState,
  SitePage,
} from './types.js';
