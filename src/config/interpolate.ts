import type { ConfigProblem } from '../errors.js';
import { formatKeyPath } from './key-path.js';

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` in every string of a parsed config with the environment variable's value.
 * `${NAME:-fallback}` uses the fallback when the variable is unset or empty; `$${` is a literal `${`.
 * An unset variable without a fallback is a problem reported at its key path; the value is left as is.
 */
export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  keys: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$${') return '${';
      const found = env[name as string];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path: formatKeyPath(keys), message: `environment variable ${name} is not set` });
      return match;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateEnv(item, env, problems, [...keys, i]));
  if (value !== null && typeof value === 'object') {
    // Note: fromEntries defines own properties: a "__proto__" key in a file stays a key (reported as unknown) and
    // never becomes the copy's prototype.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, problems, [...keys, k])]));
  }
  return value;
}
