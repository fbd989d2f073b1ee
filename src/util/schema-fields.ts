import { z } from 'zod';
import { parseByteSize, parseDuration } from './units.js';

/**
 * Field types shared by the configuration's sections and the source types' schemas. Validation only: defaults and
 * unit conversion happen when a configuration is resolved.
 */

export const userIdField = z.number().int().positive().describe('A Lanying IM user ID (an integer).');

export const durationField = z
  .union([z.number().nonnegative(), z.string().refine((s) => parseDuration(s) !== undefined, 'not a duration such as "30s", "15m" or "1h"')])
  .describe('Milliseconds, or a duration such as "500ms", "30s", "15m", "1h".');

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
