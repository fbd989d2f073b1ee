import { z } from 'zod';
import { parseByteSize, parseDuration } from './units.js';

/**
 * Field types shared by the configuration's sections and the source types' schemas. Validation only: defaults and
 * unit conversion happen when a configuration is resolved.
 */

export const userIdField = z.number().int().positive().describe('A Lanying IM user ID (an integer).');

export const SECOND = 1000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** A duration as people write it in a message: `1h`, `365d`, `100ms`. */
export function durationText(ms: number): string {
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['m', 60_000], ['s', SECOND]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A duration: milliseconds, or text such as "30s". Bounded on both sides: an unbounded one could overflow a timer or
 * make a busy loop. `off: true` also accepts 0 ("never").
 */
export function boundedDuration(bounds: { min: number; max: number; off?: boolean }) {
  const range = `between ${durationText(bounds.min)} and ${durationText(bounds.max)}${bounds.off ? ', or 0 to turn it off' : ''}`;
  const problem = (ms: number): string | undefined => {
    if (bounds.off && ms === 0) return undefined;
    if (ms < bounds.min) return `must be at least ${durationText(bounds.min)}${bounds.off ? ' (or 0 to turn it off)' : ''}`;
    if (ms > bounds.max) return `must be at most ${durationText(bounds.max)}`;
    return undefined;
  };
  return z
    .union([
      z
        .number()
        .superRefine((ms, ctx) => {
          const text = problem(ms);
          if (text) ctx.addIssue({ code: 'custom', message: `${text} (got ${ms} ms)` });
        })
        .meta({ minimum: bounds.off ? 0 : bounds.min, maximum: bounds.max }),
      z.string().superRefine((s, ctx) => {
        const ms = parseDuration(s);
        if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'not a duration such as "30s", "15m" or "1h"' });
        else {
          const text = problem(ms);
          if (text) ctx.addIssue({ code: 'custom', message: `${text} (got "${s}")` });
        }
      }),
    ])
    .describe(`Milliseconds, or a duration such as "500ms", "30s", "15m", "1h", "7d"; ${range}.`);
}

/** A whole number of milliseconds between `min` and `max`. */
export function milliseconds(min: number, max: number) {
  return z
    .number()
    .int()
    .min(min, `must be at least ${min} (milliseconds)`)
    .max(max, `must be at most ${max} (${durationText(max)}; the value is in milliseconds)`);
}


export const byteSizeField = z
  .union([z.number().int().nonnegative(), z.string().refine((s) => parseByteSize(s) !== undefined, 'not a size such as "50MiB" or "10 MB"')])
  .describe('Bytes, or a size such as "512k", "50MiB", "10 MB".');

export const httpUrlField = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'not an http(s) URL');
