/**
 * An object the server sent, made fit for lanying-kb's JSON output: keys in camelCase (`user_id` → `userId`), like
 * every other field lanying-kb prints, and times (`*_time`, `*_at` keys holding milliseconds since the epoch) as ISO
 * 8601 (milliseconds; a value that can only be seconds is taken as seconds). The values of `ext` keys are the user's own JSON and stay as they are.
 */
export function apiObjectForJson(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => apiObjectForJson(item));
  if (value !== null && typeof value === 'object') {
    if (key === 'ext') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[camelCase(k)] = apiObjectForJson(v, k);
    return out;
  }
  // Milliseconds since the epoch (the API's unit); a value in seconds range is taken as seconds.
  if (typeof value === 'number' && /(_time|_at)$/.test(key) && value >= 1e9) return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  return value;
}

function camelCase(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * `value` with every `…At` field that holds milliseconds since the epoch written as ISO 8601, at any depth: the JSON
 * output of every command shows times one way (the library's objects keep their numbers).
 */
export function isoTimes(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => isoTimes(item));
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isoTimes(v, k);
    return out;
  }
  if (typeof value === 'number' && /[a-z]At$/.test(key) && value >= 1e11) return new Date(value).toISOString();
  return value;
}
