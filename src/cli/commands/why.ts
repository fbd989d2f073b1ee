import path from 'node:path';
import type { ResolvedConfig } from '../../config/resolve.js';
import { UsageError } from '../../errors.js';
import { adapterFor } from '../../sources/registry.js';
import type { PathExplanation, SourceRule } from '../../sources/types.js';
import { StateStore } from '../../state/store.js';
import { escapeControl } from '../../util/terminal-text.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeLine, writeResult } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { ruleLocation } from '../left-out.js';
import { loadCliConfig } from '../load-config.js';

/** What `why` says about one path and one source that holds it. */
interface WhyAnswer {
  source: string;
  key: string;
  isDir: boolean;
  exists: boolean;
  /** `left-out`: a rule leaves it out; `skipped`: reported, not sent; `document`: sent (when new or changed); `folder`. */
  verdict: 'left-out' | 'skipped' | 'document' | 'folder';
  rule?: SourceRule;
  skip?: { code: string; reason: string };
  /** What the state records of the document, when it records it. */
  state?: { status: string; lastError: string | null; updatedAt: string };
}

/**
 * `lanying-kb why PATH...`: for each path, which source holds it and what its rules say: left out (and by which
 * rule: an `exclude` or `include` pattern of the configuration, a `.kbignore` line, a hidden name, the state folder),
 * reported but not sent (and why), or a document; plus what the state records of it. Like `git check-ignore -v`,
 * with the document's side too. Exit 0 (2 for a usage error).
 */
export async function whyCommand(_options: object, globals: GlobalOptions, ctx: CliContext, args: string[]): Promise<number> {
  if (args.length === 0) throw new UsageError('name the path(s) to explain, e.g. lanying-kb why docs/drafts/a.md');
  const config = await loadCliConfig(globals, ctx);
  const store = StateStore.open(config.sync.stateDir, { readonly: true });
  try {
    const results = args.map((given) => {
      const absolute = path.resolve(ctx.cwd, given);
      return { path: given, absolute, answers: explain(config, absolute, store) };
    });
    if (globals.json) {
      writeResult(ctx, globals, { ok: true, paths: results });
      return EXIT.OK;
    }
    for (const result of results) {
      const shown = escapeControl(result.path);
      if (result.answers.length === 0) writeLine(ctx.stdout, `${shown}: not inside the folder of any enabled source`);
      for (const answer of result.answers) writeLine(ctx.stdout, `${shown}: ${describe(answer)}`);
    }
    return EXIT.OK;
  } finally {
    store.close();
  }
}

function explain(config: ResolvedConfig, absolute: string, store: StateStore): WhyAnswer[] {
  const answers: WhyAnswer[] = [];
  for (const [index, source] of config.sources.entries()) {
    if (!source.enabled) continue;
    const explanation: PathExplanation | undefined = adapterFor(source.type)?.explain?.(source, absolute, { excludeDirs: [config.sync.stateDir] });
    if (!explanation) continue;
    const answer: WhyAnswer = {
      source: source.name,
      key: explanation.key,
      isDir: explanation.isDir,
      exists: explanation.exists,
      verdict: explanation.leftOut ? 'left-out' : explanation.isDir ? 'folder' : explanation.skip ? 'skipped' : 'document',
    };
    if (explanation.leftOut) answer.rule = { ...explanation.leftOut, where: ruleLocation(explanation.leftOut, index) };
    if (explanation.skip) answer.skip = explanation.skip;
    const record = explanation.isDir ? undefined : store.get(source.name, explanation.key);
    if (record) answer.state = { status: record.status, lastError: record.lastError, updatedAt: new Date(record.updatedAt).toISOString() };
    answers.push(answer);
  }
  return answers;
}

function describe(answer: WhyAnswer): string {
  const where = `source "${answer.source}"`;
  const state = answer.state ? `; the state records it as ${answer.state.status}${answer.state.lastError ? ` (${answer.state.lastError})` : ''} since ${answer.state.updatedAt}` : '';
  const missing = answer.exists ? '' : ' (it does not exist now)';
  switch (answer.verdict) {
    case 'left-out': {
      const rule = answer.rule as SourceRule;
      const location = rule.kind === 'hidden' ? '' : ` (${rule.where})`;
      return escapeControl(`left out of ${where}${missing}: ${rule.description}${location}${state}`);
    }
    case 'skipped':
      return escapeControl(`reported by ${where} as ${answer.key} but not sent: ${answer.skip?.reason ?? 'skipped'}${state}`);
    case 'folder':
      return escapeControl(`a folder of ${where}${missing}: its files are looked at (ask about a file to know more)`);
    case 'document':
      return escapeControl(`a document of ${where} (key ${answer.key})${missing}: sent when new or changed${state || '; not in the state yet'}`);
  }
}
