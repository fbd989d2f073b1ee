/**
 * One knowledge base (target) audited: its commands opened over the admin's conversation, the knowledge base
 * surveyed, and the state of its sources compared with what was found.
 */

import type { LanyingClient } from '../api/client.js';
import type { ResolvedConfig, ResolvedKnowledgeBase, ResolvedSource } from '../config/resolve.js';
import { KbChannel } from '../kb/channel.js';
import { KbCommands } from '../kb/commands.js';
import type { DocumentRecord, KbVersionRecord, StateStore } from '../state/store.js';
import { type KnowledgeBaseTarget, targetsOf } from '../sync/target.js';
import { type Comparison, compareWithKnowledgeBase } from './compare.js';
import { type KnowledgeBaseSurvey, surveyKnowledgeBase } from './survey.js';

/** What an audit of one target found. */
export interface TargetAudit {
  /** The target's key (`targetKey`). */
  key: string;
  target: KnowledgeBaseTarget;
  /** The sources audited that send to it. */
  sources: string[];
  survey: KnowledgeBaseSurvey;
  comparison: Comparison;
  records: DocumentRecord[];
  versions: KbVersionRecord[];
}

export interface AuditTargetOptions {
  config: Pick<ResolvedConfig, 'sources' | 'sync'>;
  client: LanyingClient;
  store: StateStore;
  key: string;
  target: KnowledgeBaseTarget;
  sources: readonly ResolvedSource[];
  walk: boolean;
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** A target's commands, over a channel that the caller closes when done. */
export function openCommands(client: LanyingClient, target: KnowledgeBaseTarget, sync: ResolvedConfig['sync']): { commands: KbCommands; close: () => void } {
  const channel = new KbChannel({ client, adminUserId: target.adminUserId, chatbotUserId: target.chatbotUserId, pollIntervalMs: sync.confirmPollIntervalMs });
  const commands = new KbCommands({ channel, kbName: target.kbName, timeoutMs: sync.commandTimeoutMs });
  return { commands, close: () => channel.close() };
}

/** Reads the state of the target's sources and surveys its knowledge base with `commands`. */
export async function auditTarget(options: AuditTargetOptions, commands: KbCommands): Promise<TargetAudit> {
  const { store, key } = options;
  const names = options.sources.map((s) => s.name);
  const records = names.flatMap((source) => store.list({ source }));
  const versions = names.flatMap((source) => store.kbVersions({ states: ['superseded', 'delete'], source }));
  const ofTarget = (target: string | null) => target === null || target === key;
  const docIds = [
    ...records.filter((r) => ofTarget(r.target)).flatMap((r) => [r.docId, r.prevDocId]),
    ...versions.filter((v) => ofTarget(v.target)).map((v) => v.docId),
  ].filter((id): id is string => id !== null);
  const survey = await surveyKnowledgeBase(commands, { docIds, walk: options.walk, signal: options.signal, onProgress: options.onProgress });
  const comparison = compareWithKnowledgeBase({
    target: key,
    records,
    versions,
    survey,
    configuredSources: new Set(options.config.sources.map((s) => s.name)),
    checkedSources: new Set(names),
  });
  return { key, target: options.target, sources: names, survey, comparison, records, versions };
}

/** How `auditEach` audits: `walk` every document ID, progress per knowledge base. */
export interface AuditEachOptions {
  walk: boolean;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: { kbName: string; done: number; total: number }) => void) | undefined;
}

/**
 * Audits, one after the other, each knowledge base that `sources` send to, and hands each audit to `each` with the
 * commands of its knowledge base (open until `each` returns): what `check` and `prune` share.
 */
export async function auditEach(
  runtime: { client: LanyingClient; store: StateStore },
  config: ResolvedConfig & { knowledgeBase: ResolvedKnowledgeBase },
  sources: readonly ResolvedSource[],
  options: AuditEachOptions,
  each: (audit: TargetAudit, commands: KbCommands) => Promise<void> | void,
): Promise<void> {
  for (const [key, { target, sources: ofTarget }] of targetsOf(config, config.knowledgeBase, sources)) {
    const { commands, close } = openCommands(runtime.client, target, config.sync);
    try {
      const audit = await auditTarget(
        {
          config,
          client: runtime.client,
          store: runtime.store,
          key,
          target,
          sources: ofTarget,
          walk: options.walk,
          signal: options.signal,
          onProgress: options.onProgress && ((done, total) => options.onProgress?.({ kbName: target.kbName, done, total })),
        },
        commands,
      );
      await each(audit, commands);
    } finally {
      close();
    }
  }
}
