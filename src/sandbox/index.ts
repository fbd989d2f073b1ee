/** A local Lanying-compatible server for tests, the demo and benchmarks. */
export { startSandbox, SANDBOX_BUCKET } from './server.js';
export { formatSandboxBanner } from './banner.js';
export { parseFaultRules } from './faults.js';
export { ID_BASE, KB_PREFIX } from './store.js';
export type {
  FaultRule,
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
