import { notifyTemplateProblems } from '../../notify/notify.js';
import { createClient } from '../../runtime/create-client.js';
import { ApiError, AuthError } from '../../api/errors.js';
import { placeholderProblems } from '../../config/placeholders.js';
import type { ResolvedConfig } from '../../config/resolve.js';
import { adapterFor } from '../../sources/registry.js';
import { USER_AGENT } from '../../version.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeLine, writeResult } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { loadCliConfig } from '../load-config.js';
import { escapeControl } from '../../util/terminal-text.js';

export interface ValidateOptions {
  deep?: boolean;
}

interface Check {
  what: string;
  ok: boolean;
  detail: string;
  /** A problem worth knowing that does not make the configuration unusable. */
  warning?: boolean;
}

/** The API's code for an app ID it does not know (`error-codes.ts`). */
const UNKNOWN_APP_ID = 40000;

/**
 * `lanying-kb validate [--deep]`: the configuration, the folders and list files; with `--deep` also the token, the
 * app ID, the knowledge-base users and each URL source's list and sitemap. A configuration that points at the
 * vendor's real endpoint with placeholder values is refused before any call. Every line goes to stdout (one stream,
 * in order); exit 0, 2 (a problem), or 4 (the token).
 */
export async function validateCommand(options: ValidateOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const checks: Check[] = [{ what: 'config', ok: true, detail: `${config.filepath ?? 'configuration'} is valid (${config.sources.length} source(s))` }];
  checks.push(...localChecks(config));
  let authFailed = false;
  if (options.deep) {
    const placeholders = placeholderProblems(config);
    if (placeholders.length > 0) {
      checks.push(...placeholders.map((p) => ({ what: p.path, ok: false, detail: p.message })));
      checks.push({ what: 'api', ok: false, detail: `not called: ${config.api.endpoint} is the vendor's service and the configuration still holds placeholders` });
    } else {
      const deep = await apiChecks(config);
      checks.push(...deep.checks);
      authFailed = deep.authFailed;
      if (!authFailed) checks.push(...(await sourceChecks(config)));
    }
  }

  const ok = checks.every((c) => c.ok || c.warning);
  const exitCode = authFailed ? EXIT.AUTH : ok ? EXIT.OK : EXIT.CONFIG;
  if (globals.json) writeResult(ctx, globals, { ok, exitCode, filepath: config.filepath, checks });
  else for (const c of checks) writeLine(ctx.stdout, `${c.ok ? 'ok  ' : c.warning ? 'warn' : 'FAIL'} ${escapeControl(c.what)}: ${escapeControl(c.detail)}`);
  return exitCode;
}

function localChecks(config: ResolvedConfig): Check[] {
  const checks: Check[] = notifyTemplateProblems(config.notify).map((p) => ({ what: p.path, ok: false, warning: true, detail: p.message }));
  config.sources.forEach((source, i) => {
    const adapter = adapterFor(source.type);
    for (const check of adapter?.validate?.(source) ?? []) checks.push({ what: `sources[${i}] "${source.name}"`, ...check });
  });
  return checks;
}

/** Each enabled source's checks that reach out (URL lists, sitemaps). */
async function sourceChecks(config: ResolvedConfig): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [i, source] of config.sources.entries()) {
    const adapter = adapterFor(source.type);
    if (!source.enabled || !adapter?.validateDeep) continue;
    for (const check of await adapter.validateDeep(source, { userAgent: USER_AGENT, signal: AbortSignal.timeout(60_000) })) {
      checks.push({ what: `sources[${i}] "${source.name}"`, ok: check.ok, detail: check.detail, ...(check.warning ? { warning: true } : {}) });
    }
  }
  return checks;
}

async function apiChecks(config: ResolvedConfig): Promise<{ checks: Check[]; authFailed: boolean }> {
  const client = createClient(config, { maxRetries: 1 });
  const users = new Map<number, string>();
  if (config.knowledgeBase) {
    users.set(config.knowledgeBase.adminUserId, 'knowledgeBase.adminUserId');
    users.set(config.knowledgeBase.chatbotUserId, 'knowledgeBase.chatbotUserId');
  }
  config.sources.forEach((s, i) => {
    if (s.chatbotUserId !== undefined && !users.has(s.chatbotUserId)) users.set(s.chatbotUserId, `sources[${i}].chatbotUserId`);
  });
  if (users.size === 0) {
    // No user to look up: check the token with a call that needs only the token.
    users.set(0, config.api.accessTokenFile !== undefined ? 'api.accessTokenFile' : 'api.accessToken');
  }
  const checks: Check[] = [];
  const tokenKey = config.api.accessTokenFile !== undefined ? 'api.accessTokenFile' : 'api.accessToken';
  for (const [userId, key] of users) {
    try {
      if (userId === 0) {
        await client.get('/user/rosters', undefined, {});
        checks.push({ what: key, ok: true, detail: 'the token is accepted' });
      } else {
        const profile = await client.users.profile({ actAs: userId });
        checks.push({ what: key, ok: true, detail: `user ${userId} exists (${profile.username})` });
      }
    } catch (error) {
      if (error instanceof AuthError) {
        checks.push({ what: tokenKey, ok: false, detail: error.message });
        return { checks, authFailed: true };
      }
      // The service checks the app ID before anything else (auth.ts): an unknown one fails every call.
      if (error instanceof ApiError && error.code === UNKNOWN_APP_ID) {
        checks.push({ what: 'api.appId', ok: false, detail: `the API does not know app ID "${config.api.appId}" (code ${UNKNOWN_APP_ID}): use the app ID the console shows under "Application info"` });
        return { checks, authFailed: false };
      }
      if (error instanceof ApiError && error.code === 10000) checks.push({ what: key, ok: false, detail: `user ${userId} does not exist (code 10000)` });
      else checks.push({ what: key, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return { checks, authFailed: false };
}
