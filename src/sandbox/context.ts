import type { Dispatcher } from 'undici';
import type { Lifecycle } from './lifecycle.js';
import type { ObjectStorage } from './object-storage.js';
import type { OssSigner } from './oss-signing.js';
import type { KnowledgeBases } from './knowledge-bases.js';
import type { Site } from './site.js';
import type { MessageRecord, SandboxStore } from './store.js';
import type { SandboxKnowledgeBase, SandboxLimits } from './types.js';

/** `ChatbotOptions` with every default filled in. */
export interface ResolvedChatbotOptions {
  serviceExpired: boolean;
  deductFailed: boolean;
  deductFailedText: string;
  storageLimitBytes: number | undefined;
  readReceipts: boolean;
  roundLimit: boolean;
  strictDownloadSign: boolean;
}

/** `SandboxOptions` with every default filled in. */
export interface ResolvedOptions {
  host: string;
  port: number;
  appId: string;
  accessToken: string;
  kbName: string;
  chatbotUsername: string;
  adminUsernames: string[];
  otherKnowledgeBases: string[];
  chatbot: ResolvedChatbotOptions;
  limits: SandboxLimits;
  firstMessageId: string;
  requireContent: boolean;
  usernamesIgnoreCase: boolean;
  pushEnabled: boolean;
  uploadMethod: 'POST' | 'PUT';
  ossMaxBytes: number;
  policyTtlMs: number;
  storageDir: string | undefined;
  ingestionDelayMs: number;
  ingestionMaxBytes: number;
  urlFetchTimeoutMs: number;
  transactionWindowMs: number;
  siteDir: string | undefined;
  now: () => number;
}

/** What the route handlers, the storage endpoint and the chatbot share. */
export interface SandboxContext {
  readonly options: ResolvedOptions;
  readonly store: SandboxStore;
  readonly signer: OssSigner;
  readonly lifecycle: Lifecycle;
  /** For every outbound request (the chatbot's downloads, push image checks). */
  readonly dispatcher: Dispatcher;
  readonly storage: ObjectStorage;
  readonly site: Site;
  /** The main knowledge base and its chatbot. */
  readonly kb: SandboxKnowledgeBase;
  /** Every knowledge base (the main one first). */
  readonly kbs: KnowledgeBases;
  /** The sandbox's own base URL, e.g. `http://127.0.0.1:PORT`; known once it listens. */
  url: string;
  /** Called for every stored message; the chatbot looks at the ones addressed to it. */
  onMessage(message: MessageRecord): void;
}

/** Whether a URL points at this sandbox (same port, a loopback or the bound host). */
export function isSandboxUrl(ctx: SandboxContext, target: URL): boolean {
  const own = new URL(ctx.url);
  if (target.protocol !== 'http:' || target.port !== own.port) return false;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return host === own.hostname.replace(/^\[|\]$/g, '') || host === 'localhost' || host === '127.0.0.1' || host === '::1';
}
