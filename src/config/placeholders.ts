import type { ConfigProblem } from '../errors.js';
import type { ResolvedConfig } from './resolve.js';

/**
 * Hosts of the vendor's service (the endpoints its docs and console name: `api.maximtop.com`, `s-1-3-api.maximtop.cn`,
 * `s-1-3-s-api.maximtop.cn`; research notes lanying-api.md §1.1): a configuration that points there talks to a real
 * app.
 */
const VENDOR_HOSTS = /(^|\.)(maximtop\.cn|maximtop\.com|maximtop\.com\.cn|lanyingim\.com)$/i;

/** Texts that stand for a value still to be filled in. */
const PLACEHOLDER_TEXT =
  /^(?:<.*>|\[.*\]|\.{3,}|x{3,}|(?:your|my)[-_ ].*|.*[-_ ]here|change[-_ ]?me|replace[-_ ]?me|todo|tbd|fixme|placeholder|example|test|dummy|null|undefined|none)$/i;

/** The user IDs of `lanying-kb.config.example.json`: copied as they are, they name someone else's users. */
const EXAMPLE_USER_IDS = new Set([2302128618880, 2302128618881]);

/** Whether the endpoint is the vendor's real service (not a sandbox, not a private deployment on another host). */
export function isVendorEndpoint(endpoint: string): boolean {
  try {
    return VENDOR_HOSTS.test(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

/** Whether a configured text is a placeholder such as "your-app-id", "<token>" or "paste-the-token-here". */
export function isPlaceholder(text: string): boolean {
  return PLACEHOLDER_TEXT.test(text.trim());
}

/**
 * The values of a configuration that point at the vendor's real endpoint but are still placeholders (the example
 * file's app ID and user IDs, "<token>", "your-..."): `validate --deep` refuses them before it calls anything, so that
 * a copied example never sends a request, let alone a token, in someone else's name. Empty for other endpoints.
 */
export function placeholderProblems(config: Pick<ResolvedConfig, 'api' | 'knowledgeBase' | 'sources'>): ConfigProblem[] {
  if (!isVendorEndpoint(config.api.endpoint)) return [];
  const problems: ConfigProblem[] = [];
  if (isPlaceholder(config.api.appId)) problems.push({ path: 'api.appId', message: `"${config.api.appId}" is a placeholder: set the app ID from the console ("Application info")` });
  if (isPlaceholder(config.api.accessToken)) {
    const key = config.api.accessTokenFile !== undefined ? 'api.accessTokenFile' : 'api.accessToken';
    problems.push({ path: key, message: "holds a placeholder: put the app's admin token there (or in LANYING_ACCESS_TOKEN)" });
  }
  const users: [string, number | undefined][] = [
    ['knowledgeBase.chatbotUserId', config.knowledgeBase?.chatbotUserId],
    ['knowledgeBase.adminUserId', config.knowledgeBase?.adminUserId],
    ...config.sources.map((s, i): [string, number | undefined] => [`sources[${i}].chatbotUserId`, s.chatbotUserId]),
  ];
  for (const [key, id] of users) {
    if (id !== undefined && EXAMPLE_USER_IDS.has(id)) problems.push({ path: key, message: `${id} is the example file's user ID: set the ID of your app's user` });
  }
  if (config.knowledgeBase && isPlaceholder(config.knowledgeBase.name)) problems.push({ path: 'knowledgeBase.name', message: `"${config.knowledgeBase.name}" is a placeholder: set the knowledge base's name` });
  return problems;
}
