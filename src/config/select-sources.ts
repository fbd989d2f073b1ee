import { UsageError } from '../errors.js';
import type { ResolvedConfig, ResolvedSource } from './resolve.js';

/**
 * The sources a command works on: the named ones (enabled or not), or every enabled one when none is named.
 * A name the configuration does not have is a `UsageError` that lists the configured ones.
 */
export function selectSources(config: Pick<ResolvedConfig, 'sources'>, names: readonly string[] | undefined): ResolvedSource[] {
  const enabled = config.sources.filter((s) => s.enabled);
  if (!names || names.length === 0) return enabled;
  const unknown = names.filter((n) => !config.sources.some((s) => s.name === n));
  if (unknown.length) {
    const known = config.sources.map((s) => s.name).join(', ') || 'none';
    throw new UsageError(`unknown source ${unknown.map((n) => `"${n}"`).join(', ')} (configured: ${known})`);
  }
  return config.sources.filter((s) => names.includes(s.name));
}
