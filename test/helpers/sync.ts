import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/resolve.js';
import type { MessageState, Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import { type SyncOnceOptions, syncOnce } from '../../src/sync/sync-once.js';
import { StateStore } from '../../src/state/store.js';
import { useSandbox } from './sandbox.js';
import { tmpDir } from './tmp-dir.js';

export interface SyncSetup {
  sandbox: Sandbox;
  /** The work folder: the config's base folder; the state lives in `<dir>/.lanying-kb`. */
  dir: string;
  /** The folder of the default `docs` source. */
  root: string;
  config: ResolvedConfig;
  /** The raw config object (for writing it to a file for the CLI). */
  raw: Record<string, unknown>;
  sync: (options?: Omit<SyncOnceOptions, 'config'>) => ReturnType<typeof syncOnce>;
  /** Document messages the chatbot received (URL texts and files), oldest first. */
  sends: () => MessageState[];
  /** Opens the state database read-only; closed by the caller. */
  state: () => StateStore;
}

/**
 * A sandbox, a work folder with a `docs` folder source (or the given sources), and a config for them.
 * `sources(root, sandbox)` returns the `sources` array; by default one folder source named `docs`.
 */
export async function setupSync(
  options: {
    sandbox?: SandboxOptions;
    sources?: (root: string, sandbox: Sandbox) => unknown[];
    sync?: Record<string, unknown>;
    api?: Record<string, unknown>;
  } = {},
): Promise<SyncSetup> {
  const sandbox = await useSandbox(options.sandbox);
  const dir = tmpDir('lkb-sync-');
  const root = path.join(dir, 'docs');
  const snippet = sandbox.configSnippet() as unknown as Record<string, unknown>;
  const raw = {
    api: { ...(snippet.api as object), maxRetries: 1, ...options.api },
    knowledgeBase: snippet.knowledgeBase,
    sources: options.sources ? options.sources(root, sandbox) : [{ type: 'folder', name: 'docs', path: root }],
    // Quick confirmations against the local sandbox (the defaults suit the real service).
    sync: { confirmPollInterval: 20, commandTimeout: 5000, ...options.sync },
  };
  const config = parseConfig(raw, { baseDir: dir, filepath: path.join(dir, 'lanying-kb.config.json'), env: {} });
  const kb = sandbox.knowledgeBase;
  return {
    sandbox,
    dir,
    root,
    config,
    raw,
    sync: (opts = {}) => syncOnce({ config, ...opts }),
    sends: () =>
      sandbox
        .state()
        .messages.filter(
          (m) => m.from_user_id === kb.adminUserIds[0] && m.to_id === kb.chatbotUserId && (m.content_type === 4 || (m.content_type === 0 && !m.content.startsWith('/'))),
        ),
    state: () => StateStore.open(config.sync.stateDir, { readonly: true }),
  };
}

/** The `ext.ai.metadata` of a sent message. */
export function metadataOf(message: MessageState): Record<string, string> {
  return (JSON.parse(message.ext) as { ai: { metadata: Record<string, string> } }).ai.metadata;
}

/** The attachment of a file message. */
export function attachmentOf(message: MessageState): { dName: string; fLen: number; url: string } {
  return JSON.parse(message.attachment) as { dName: string; fLen: number; url: string };
}

/** Waits until `check` returns true (polling), or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
