import { ValidationError } from '../errors.js';
import { parseFaultRules } from './faults.js';
import type { FaultRule } from './types.js';

/**
 * One `--fault` argument of `lanying-kb sandbox`: a JSON rule or array of rules, or `key=value` pairs separated by
 * commas, e.g. `route=POST /message/send,status=503,times=2` or `chatbot=refuse,reason=service_expired`. A value
 * that reads as a number or a boolean is one. Throws a `ValidationError` naming `--fault`.
 */
export function parseFaultArgument(text: string, field = '--fault'): FaultRule[] {
  const trimmed = text.trim();
  let value: unknown;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new ValidationError(field, `not valid JSON: ${(error as Error).message}`);
    }
  } else {
    const rule: Record<string, unknown> = {};
    for (const pair of trimmed.split(',')) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new ValidationError(field, `"${pair}" is not key=value (e.g. chatbot=refuse,reason=service_expired)`);
      const key = pair.slice(0, at).trim();
      const raw = pair.slice(at + 1).trim();
      rule[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    }
    value = rule;
  }
  return parseFaultRules(Array.isArray(value) ? value : [value], field);
}
