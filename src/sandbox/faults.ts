import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { describeApiCode } from '../api/error-codes.js';
import { ValidationError } from '../errors.js';
import { sendJson } from './envelope.js';
import { canRespond, type Exchange } from './exchange.js';
import type { Lifecycle } from './lifecycle.js';
import { dribbleResponse } from './slow-body.js';
import type { FaultRule } from './types.js';

const faultRuleSchema = z
  .strictObject({
    route: z.string().trim().min(1),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    code: z.number().int().optional(),
    reset: z.boolean().optional(),
    slowBodyMs: z.number().int().min(0).max(600_000).optional(),
    times: z.number().int().min(1).optional(),
  })
  .refine((r) => [r.status !== undefined, r.code !== undefined, r.reset === true].filter(Boolean).length <= 1, {
    message: 'status, code and reset are alternatives: set at most one',
  });

const faultRulesSchema = z.array(faultRuleSchema);

/** Checks fault rules; throws a `ValidationError` naming the first bad field. */
export function parseFaultRules(value: unknown, field = 'rules'): FaultRule[] {
  const result = faultRulesSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = [field, ...(issue?.path ?? [])].map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  throw new ValidationError(where, issue?.message ?? 'invalid');
}

interface CompiledRule {
  rule: FaultRule;
  method: string | undefined;
  path: RegExp;
  fired: number;
}

function compile(rule: FaultRule): CompiledRule {
  const route = rule.route.trim();
  const match = /^([A-Za-z]+|\*)\s+(\S.*)$/.exec(route);
  const method = match && match[1] !== '*' ? (match[1] as string).toUpperCase() : undefined;
  const pattern = match ? (match[2] as string) : route;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { rule, method, path: new RegExp(`^${source}$`), fired: 0 };
}

/**
 * The fault rules in force. A request takes the first matching rule that is not spent and that fires (with
 * probability `errorRate`, default 1); a rule that does not fire lets the next matching rule try.
 */
export class FaultInjector {
  #rules: CompiledRule[] = [];

  constructor(
    rules: FaultRule[] = [],
    private readonly random: () => number = Math.random,
  ) {
    this.set(rules);
  }

  set(rules: FaultRule[]): void {
    this.#rules = parseFaultRules(rules).map(compile);
  }

  list(): FaultRule[] {
    return this.#rules.map((r) => ({ ...r.rule }));
  }

  pick(method: string, pathname: string): FaultRule | undefined {
    for (const compiled of this.#rules) {
      if (compiled.method !== undefined && compiled.method !== method) continue;
      if (!compiled.path.test(pathname)) continue;
      if (compiled.rule.times !== undefined && compiled.fired >= compiled.rule.times) continue;
      if (this.random() >= (compiled.rule.errorRate ?? 1)) continue;
      compiled.fired++;
      return compiled.rule;
    }
    return undefined;
  }
}

/**
 * Applies a fault to a request. Returns true when the fault answered it (or killed it); false when the request
 * must still be handled (latency only, or a slow body).
 */
export async function applyFault(ex: Exchange, rule: FaultRule, lifecycle: Lifecycle): Promise<boolean> {
  const done: string[] = [];
  const note = () => {
    if (ex.log) ex.log.fault = done.join('+');
  };
  if (rule.latencyMs) {
    done.push(`latency(${rule.latencyMs}ms)`);
    note();
    await lifecycle.sleep(rule.latencyMs);
  }
  if (rule.reset) {
    done.push('reset');
    note();
    ex.req.socket.destroy();
    return true;
  }
  if (rule.status !== undefined) {
    done.push(`status(${rule.status})`);
    note();
    const text = `${rule.status} ${STATUS_CODES[rule.status] ?? 'Error'} (sandbox fault)\n`;
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) };
    if (rule.retryAfterSeconds !== undefined) headers['retry-after'] = String(rule.retryAfterSeconds);
    if (canRespond(ex)) {
      ex.req.resume();
      ex.res.writeHead(rule.status, headers);
      ex.res.end(ex.method === 'HEAD' ? undefined : text);
    }
    return true;
  }
  if (rule.code !== undefined) {
    done.push(`code(${rule.code})`);
    note();
    ex.req.resume();
    if (ex.log) ex.log.code = rule.code;
    sendJson(ex, 200, { code: rule.code, message: describeApiCode(rule.code), data: null });
    return true;
  }
  if (rule.slowBodyMs) {
    done.push(`slow-body(${rule.slowBodyMs}ms)`);
    note();
    dribbleResponse(ex.res, rule.slowBodyMs, lifecycle);
  }
  return false;
}
