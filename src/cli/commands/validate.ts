import { notifyTemplateProblems } from '../../notify/notify.js';
import { createClient } from '../../runtime/create-client.js';
import { ApiError, AuthError } from '../../api/errors.js';
import type { ResolvedConfig } from '../../config/resolve.js';
import { adapterFor } from '../../sources/registry.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeJson, writeLine } from '../context.js';
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

/** `lanying-kb validate [--deep]`. */
export async function validateCommand(options: ValidateOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const config = await loadCliConfig(globals, ctx);
  const checks: Check[] = [{ what: 'config', ok: true, detail: `${config.filepath ?? 'configuration'} is valid (${config.sources.length} source(s))` }];
  checks.push(...localChecks(config));
  let authFailed = false;
  if (options.deep) {
    const deep = await apiChecks(config);
    checks.push(...deep.checks);
    authFailed = deep.authFailed;
  }

  const ok = checks.every((c) => c.ok || c.warning);
  const exitCode = authFailed ? EXIT.AUTH : ok ? EXIT.OK : EXIT.CONFIG;
  if (globals.json) writeJson(ctx.stdout, { ok, exitCode, filepath: config.filepath, checks });
  else for (const c of checks) writeLine(c.ok ? ctx.stdout : ctx.stderr, `${c.ok ? 'ok  ' : c.warning ? 'warn' : 'FAIL'} ${escapeControl(c.what)}: ${escapeControl(c.detail)}`);
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
      if (error instanceof ApiError && error.code === 10000) checks.push({ what: key, ok: false, detail: `user ${userId} does not exist (code 10000)` });
      else checks.push({ what: key, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return { checks, authFailed: false };
}
