import type { Sandbox } from './types.js';

/**
 * What `lanying-kb sandbox` prints: where the sandbox listens, its credentials and knowledge-base users, and a
 * configuration snippet as JSON. It shows the token on purpose: the sandbox's token is for local use only.
 */
export function formatSandboxBanner(sandbox: Sandbox): string {
  const state = sandbox.state();
  const nameOf = (id: number) => state.users.find((u) => u.user_id === id)?.username ?? '?';
  const kb = sandbox.knowledgeBase;
  const lines = [
    `Lanying sandbox listening on ${sandbox.url}`,
    `  app id:          ${sandbox.appId}`,
    `  access token:    ${sandbox.accessToken}`,
    `  knowledge base:  ${kb.name}`,
    `  chatbot user:    ${nameOf(kb.chatbotUserId)} (${kb.chatbotUserId})`,
    `  KB admin users:  ${kb.adminUserIds.map((id) => `${nameOf(id)} (${id})`).join(', ')}`,
    ...(state.knowledgeBases.length > 1 ? [`  also administer: ${state.knowledgeBases.slice(1).map((k) => k.name).join(', ')}`] : []),
    ...(state.faults.length > 0 ? [`  fault rules:     ${state.faults.map((rule) => JSON.stringify(rule)).join('\n                   ')}`] : []),
    `  state:           ${sandbox.url}/_sandbox/state`,
    `  site:            ${sandbox.url}/_sandbox/site/`,
    '',
    'Configuration snippet:',
    JSON.stringify(sandbox.configSnippet(), null, 2),
  ];
  return lines.join('\n');
}
