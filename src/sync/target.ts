import type { ResolvedConfig, ResolvedKnowledgeBase } from '../config/resolve.js';
import type { ResolvedSourceBase } from '../sources/types.js';

/** Where a source's documents go: the app, the chatbot, the admin who sends, and the knowledge base's name. */
export interface KnowledgeBaseTarget {
  appId: string;
  chatbotUserId: number;
  adminUserId: number;
  kbName: string;
}

/** The target of a source's documents (a source may name its own chatbot). */
export function targetOf(config: Pick<ResolvedConfig, 'api'>, knowledgeBase: ResolvedKnowledgeBase, source?: Pick<ResolvedSourceBase, 'chatbotUserId'>): KnowledgeBaseTarget {
  return { appId: config.api.appId, chatbotUserId: source?.chatbotUserId ?? knowledgeBase.chatbotUserId, adminUserId: knowledgeBase.adminUserId, kbName: knowledgeBase.name };
}

/**
 * The state's name for a target. A document's send columns belong to one target: a configuration that points at
 * another knowledge base sees its documents as never sent there.
 */
export function targetKey(target: KnowledgeBaseTarget): string {
  return `${target.appId}/${target.chatbotUserId}/${target.adminUserId}/${target.kbName}`;
}

/** The sources of each target, by target key (the configuration's knowledge base, or a source's own chatbot). */
export function targetsOf<S extends Pick<ResolvedSourceBase, 'chatbotUserId'>>(
  config: Pick<ResolvedConfig, 'api'>,
  knowledgeBase: ResolvedKnowledgeBase,
  sources: readonly S[],
): Map<string, { target: KnowledgeBaseTarget; sources: S[] }> {
  const out = new Map<string, { target: KnowledgeBaseTarget; sources: S[] }>();
  for (const source of sources) {
    const target = targetOf(config, knowledgeBase, source);
    const key = targetKey(target);
    const entry = out.get(key) ?? { target, sources: [] };
    entry.sources.push(source);
    out.set(key, entry);
  }
  return out;
}
