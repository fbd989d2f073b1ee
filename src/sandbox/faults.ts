import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { sendJson } from './envelope.js';
import { describeApiCode } from './vendor-texts.js';
import { canRespond, type Exchange } from './exchange.js';
import type { Lifecycle } from './lifecycle.js';
import { dribbleResponse } from './slow-body.js';
import type { ChatbotFailure, ChatbotFaultRule, ChatbotRefusal, FaultRule, HttpFaultRule } from './types.js';

const httpFaultRuleSchema = z
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

export const CHATBOT_REFUSALS: readonly ChatbotRefusal[] = ['service_expired', 'deduct_failed', 'several_kbs', 'round_limit'];
export const CHATBOT_FAILURES: readonly ChatbotFailure[] = ['download_failed', 'upload_error', 'download_error', 'storage_limit', 'exception', 'bad_authorization', 'no_quota', 'deduct_failed'];

const chatbotBase = {
  match: z.string().min(1).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  times: z.number().int().min(1).optional(),
};

const delayMs = z.number().int().min(0).max(600_000);

const chatbotFaultRuleSchema = z.discriminatedUnion('chatbot', [
  z.strictObject({ chatbot: z.literal('refuse'), reason: z.enum(CHATBOT_REFUSALS as [ChatbotRefusal, ...ChatbotRefusal[]]), ...chatbotBase }),
  z.strictObject({ chatbot: z.literal('fail'), reason: z.enum(CHATBOT_FAILURES as [ChatbotFailure, ...ChatbotFailure[]]), ...chatbotBase }),
  z.strictObject({ chatbot: z.literal('delay'), delayMs, ...chatbotBase }),
  z.strictObject({ chatbot: z.literal('lose_notice'), ...chatbotBase }),
  z.strictObject({ chatbot: z.literal('duplicate_notice'), ...chatbotBase }),
  z.strictObject({ chatbot: z.literal('delete_later'), delayMs, ...chatbotBase }),
  z.strictObject({ chatbot: z.literal('no_commands'), answer: z.enum(['chat', 'silent']).optional(), ...chatbotBase }),
]);

function isChatbotRule(rule: FaultRule): rule is ChatbotFaultRule {
  return 'chatbot' in rule;
}

/** Checks fault rules; throws a `ValidationError` naming the first bad field. */
export function parseFaultRules(value: unknown, field = 'rules'): FaultRule[] {
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of fault rules');
  return value.map((item, index) => {
    const schema = item !== null && typeof item === 'object' && 'chatbot' in item ? chatbotFaultRuleSchema : httpFaultRuleSchema;
    const result = schema.safeParse(item);
    if (result.success) return result.data as FaultRule;
    const issue = result.error.issues[0];
    const where = [`${field}[${index}]`, ...(issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join('');
    throw new ValidationError(where, issue?.message ?? 'invalid');
  });
}

/** A rule's glob as a regular expression: `*` matches anything. */
function globOf(pattern: string): RegExp {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's');
}

interface CompiledChatbotRule {
  rule: ChatbotFaultRule;
  match: RegExp | undefined;
  fired: number;
}

interface CompiledRule {
  rule: HttpFaultRule;
  method: string | undefined;
  path: RegExp;
  fired: number;
}

function compile(rule: HttpFaultRule): CompiledRule {
  const route = rule.route.trim();
  const match = /^([A-Za-z]+|\*)\s+(\S.*)$/.exec(route);
  const method = match && match[1] !== '*' ? (match[1] as string).toUpperCase() : undefined;
  const pattern = match ? (match[2] as string) : route;
  return { rule, method, path: globOf(pattern), fired: 0 };
}

/**
 * The fault rules in force. A request takes the first matching rule that is not spent and that fires (with
 * probability `errorRate`, default 1); a rule that does not fire lets the next matching rule try.
 */
export class FaultInjector {
  #all: FaultRule[] = [];
  #rules: CompiledRule[] = [];
  #chatbot: CompiledChatbotRule[] = [];

  constructor(
    rules: FaultRule[] = [],
    private readonly random: () => number = Math.random,
  ) {
    this.set(rules);
  }

  set(rules: FaultRule[]): void {
    const parsed = parseFaultRules(rules);
    this.#all = parsed;
    this.#rules = parsed.filter((r): r is HttpFaultRule => !isChatbotRule(r)).map(compile);
    this.#chatbot = parsed.filter(isChatbotRule).map((rule) => ({ rule, match: rule.match === undefined ? undefined : globOf(rule.match), fired: 0 }));
  }

  list(): FaultRule[] {
    return this.#all.map((r) => ({ ...r }));
  }

  /**
   * The first chatbot rule of this kind (and, for refuse/fail, of one of these reasons) that matches `subject`,
   * is not spent and fires; it counts as fired.
   */
  pickChatbot<K extends ChatbotFaultRule['chatbot']>(kind: K, subject: string, reasons?: readonly string[]): (ChatbotFaultRule & { chatbot: K }) | undefined {
    for (const compiled of this.#chatbot) {
      const { rule } = compiled;
      if (rule.chatbot !== kind) continue;
      if (reasons && !reasons.includes((rule as { reason?: string }).reason ?? '')) continue;
      if (compiled.match && !compiled.match.test(subject)) continue;
      if (rule.times !== undefined && compiled.fired >= rule.times) continue;
      if (this.random() >= (rule.errorRate ?? 1)) continue;
      compiled.fired++;
      return rule as ChatbotFaultRule & { chatbot: K };
    }
    return undefined;
  }

  pick(method: string, pathname: string): HttpFaultRule | undefined {
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
export async function applyFault(ex: Exchange, rule: HttpFaultRule, lifecycle: Lifecycle, resetSignal: AbortSignal): Promise<boolean> {
  const done: string[] = [];
  const note = () => {
    if (ex.log) ex.log.fault = done.join('+');
  };
  if (rule.latencyMs) {
    done.push(`latency(${rule.latencyMs}ms)`);
    note();
    try {
      await lifecycle.sleep(rule.latencyMs, resetSignal);
    } catch (error) {
      // A reset (or close) while the request waits: it is cut off and never runs, so it cannot act after the reset.
      if (!resetSignal.aborted) throw error;
      ex.req.socket.destroy();
      return true;
    }
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
