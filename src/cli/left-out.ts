import type { ResolvedConfig } from '../config/resolve.js';
import { adapterFor } from '../sources/registry.js';
import type { SourceRule } from '../sources/types.js';
import { escapeControl } from '../util/terminal-text.js';

/** One path a source's rules left out, as a line for people and as JSON. */
export interface LeftOutLine {
  text: string;
  json: { source: string; key: string; isDir: boolean; rule: SourceRule };
}

/** The configuration key of a source's rule (`sources[0].exclude[1]`), or the file and line it is written in. */
export function ruleLocation(rule: SourceRule, sourceIndex: number): string {
  if (rule.kind === 'exclude' || rule.kind === 'include' || rule.kind === 'include-exception') return `sources[${sourceIndex}].${rule.where}`;
  return rule.where;
}

/**
 * What the rules of the `sources` (names) left out, path by path as they are found: `sync --dry-run -v`. Sources
 * whose type leaves nothing out (URL lists) have no lines.
 */
export async function* leftOutLines(config: ResolvedConfig, sources: readonly string[], signal?: AbortSignal): AsyncGenerator<LeftOutLine> {
  for (const [index, source] of config.sources.entries()) {
    if (!sources.includes(source.name)) continue;
    const adapter = adapterFor(source.type);
    if (!adapter?.leftOut) continue;
    for await (const path of adapter.leftOut(source, { excludeDirs: [config.sync.stateDir], signal })) {
      const rule = { ...path.rule, where: ruleLocation(path.rule, index) };
      const shown = `${source.name}:${path.key}${path.isDir ? '/' : ''}`;
      const where = rule.kind === 'hidden' ? '' : ` (${rule.where})`;
      yield {
        text: `${'left out'.padEnd(9)} ${escapeControl(shown).padEnd(40)} ${escapeControl(rule.description)}${escapeControl(where)}`,
        json: { source: source.name, key: path.key, isDir: path.isDir, rule },
      };
    }
  }
}
