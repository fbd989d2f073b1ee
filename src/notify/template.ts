import { formatDuration } from '../util/units.js';
import type { ConfigProblem } from '../errors.js';
import type { ResolvedNotifyConfig } from '../config/resolve.js';
import type { RunSummary } from './run-summary.js';

/** The placeholders a notification template may use, each written `{name}`. */
export const NOTIFY_PLACEHOLDERS = Object.freeze([
  'added',
  'updated',
  'failed',
  'removed',
  'moved',
  'skipped',
  'unchanged',
  'sent',
  'source',
  'kb',
  'duration',
  'run',
] as const);

export type NotifyPlaceholder = (typeof NOTIFY_PLACEHOLDERS)[number];

const KNOWN = new Set<string>(NOTIFY_PLACEHOLDERS);
/** What looks like a placeholder: `{word}`. Other braces (JSON, `{ }`) are plain text. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;

/**
 * The value of every placeholder for a sync report: `{added}` new documents, `{updated}` changed ones, `{failed}`,
 * `{removed}`, `{moved}`, `{skipped}`, `{unchanged}`, `{sent}` (accepted by the chatbot), `{source}` (the run's source
 * names, comma-separated), `{kb}` (the knowledge base name, empty when not given), `{duration}` ("2.5 s"), and
 * `{run}` (the run's number in the state database, "-" for a run that has none).
 */
export function notifyValues(report: RunSummary, kbName?: string): Record<NotifyPlaceholder, string> {
  const c = report.counts;
  return {
    added: String(c.new),
    updated: String(c.changed),
    failed: String(c.failed),
    removed: String(c.removed),
    moved: String(c.moved),
    skipped: String(c.skipped),
    unchanged: String(c.unchanged),
    sent: String(c.sent),
    source: report.sources.join(', '),
    kb: kbName ?? '',
    duration: formatDuration(report.durationMs),
    run: report.runId === undefined ? '-' : String(report.runId),
  };
}

/**
 * Fills a template's `{placeholder}`s in one pass (a value that itself contains braces is not expanded again).
 * An unknown placeholder is left as it is.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? (values[name] as string) : whole));
}

/**
 * The template's unknown placeholders, one warning each (they are sent as written): e.g.
 * `unknown placeholder {addded} is sent as written (did you mean {added}?)`. Empty when the template is fine.
 */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (KNOWN.has(name) || seen.has(name)) continue;
    seen.add(name);
    const guess = closest(name);
    problems.push(
      `unknown placeholder {${name}} is sent as written (${guess ? `did you mean {${guess}}?` : `known: ${NOTIFY_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`})`,
    );
  }
  return problems;
}

/** `templateProblems` of every template of the `notify` section, with its key path, for `validate` to print as warnings. */
export function notifyTemplateProblems(notify: ResolvedNotifyConfig | undefined): ConfigProblem[] {
  const templates: [string, string | undefined][] = [
    ['notify.push.title', notify?.push?.title],
    ['notify.push.body', notify?.push?.body],
    ['notify.message.text', notify?.message?.text],
  ];
  return templates.flatMap(([path, template]) => (template === undefined ? [] : templateProblems(template).map((message) => ({ path, message }))));
}

function closest(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const known of NOTIFY_PLACEHOLDERS) {
    const distance = editDistance(lower, known);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: known, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
