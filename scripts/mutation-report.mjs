// Writes docs/MUTATION.md from Stryker's JSON report (reports/mutation/mutation.json, `npm run mutate` makes it) and
// from the rule breaks of `npm run breaks` (reports/rule-breaks.json): the mutation score per module, the date and
// commit, every mutant that survives and why, the mutants left out on purpose (a `// Stryker disable` comment that
// says why), and each one-line break of a rule with the tests that catch it.
//
//   node scripts/mutation-report.mjs [stryker-report.json ...]
//
// Several reports (one Stryker run per module or group of modules, when a whole run does not fit) are merged: a
// module measured by a later report replaces the earlier one. A report `x.json` may have a `x.meta.json` beside it,
// `{ "commit": "<sha>", "dirty": false }`, naming the commit it measured (written when its run started); without
// one, the report is taken as measuring the checkout's HEAD.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BREAKS } from './mutation/rule-breaks.mjs';
import { SURVIVORS } from './mutation/survivors.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const reportFiles = (process.argv.length > 2 ? process.argv.slice(2) : ['reports/mutation/mutation.json']).map((file) => path.resolve(root, file));
const breaksFile = path.join(root, 'reports', 'rule-breaks.json');
const GOAL = 80;

for (const reportFile of reportFiles) {
  if (!existsSync(reportFile)) {
    console.error(`${path.relative(root, reportFile)} is missing: run "npx stryker run" first (npm run mutate does both)`);
    process.exit(1);
  }
}
const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const head = git('rev-parse', '--short=12', 'HEAD') || 'unknown';
const headDirty = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'test') !== '';
/** Each report with the commit it measured and the day its run ended; a later report's modules replace an earlier one's. */
const measured = new Map();
for (const reportFile of reportFiles) {
  const metaFile = reportFile.replace(/\.json$/, '.meta.json');
  const meta = existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, 'utf8')) : { commit: head, dirty: headDirty };
  const run = { commit: String(meta.commit).slice(0, 12), dirty: Boolean(meta.dirty), date: statSync(reportFile).mtime.toISOString().slice(0, 10) };
  const { files } = JSON.parse(readFileSync(reportFile, 'utf8'));
  for (const [file, result] of Object.entries(files)) measured.set(path.relative(root, path.resolve(root, file)), { ...result, run });
}
const runs = [...new Map([...measured.values()].map(({ run }) => [`${run.commit}${run.dirty}${run.date}`, run])).values()];
const runLabel = (run) => `\`${run.commit}\`${run.dirty ? ' (with uncommitted changes in src/ or test/)' : ''}, ${run.date}`;
const shortLabel = (run) => `\`${run.commit}\`${run.dirty ? '*' : ''}`;
/** For a module measured at an older commit: whether its source changed since (then its figures are stale). */
const sinceLabel = (file, run) => {
  if (head.startsWith(run.commit) || run.commit.startsWith(head)) return '';
  const changed = git('diff', '--name-only', run.commit, 'HEAD', '--', file) !== '';
  return changed ? ' (source changed since: **stale**)' : ' (source unchanged since)';
};

/** Stryker's statuses: killed and timed-out mutants count as detected; ignored ones and errors do not count. */
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const lineOf = (source, line) => source.split('\n')[line - 1] ?? '';
const code = (text) => `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|').trim()}\``;

const modules = [...measured.entries()]
  .map(([file, { source, mutants, run }]) => {
    const count = (set) => mutants.filter((m) => set.has(m.status)).length;
    const detected = count(DETECTED);
    const undetected = count(UNDETECTED);
    return {
      file,
      run,
      source,
      mutants,
      total: mutants.length,
      killed: count(new Set(['Killed'])),
      timeout: count(new Set(['Timeout'])),
      survived: count(new Set(['Survived'])),
      noCoverage: count(new Set(['NoCoverage'])),
      ignored: count(new Set(['Ignored'])),
      errors: count(new Set(['CompileError', 'RuntimeError'])),
      score: detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected),
    };
  })
  .sort((a, b) => a.file.localeCompare(b.file));

const sum = (key) => modules.reduce((n, m) => n + m[key], 0);
const totalDetected = sum('killed') + sum('timeout');
const totalScore = (100 * totalDetected) / Math.max(1, totalDetected + sum('survived') + sum('noCoverage'));
const pct = (n) => `${n.toFixed(1)} %`;

/** Why a surviving mutant is left: scripts/mutation/survivors.mjs, matched on the file and the mutated line's text. */
function whySurvives(file, line, mutant) {
  const known = (SURVIVORS[file] ?? []).find((s) => line.includes(s.line) && (s.mutator === undefined || s.mutator === mutant.mutatorName));
  return known?.why ?? 'not explained yet: a test should catch it';
}

const out = [];
out.push('# Mutation testing');
out.push('');
out.push('<!-- Written by scripts/mutation-report.mjs (`npm run mutate`); edit the script or scripts/mutation/*.mjs, not this file. -->');
out.push('');
out.push(
  `Stryker (\`@stryker-mutator/core\` with the vitest runner) changes the policy modules one small rule at a time (a condition, a comparison, a constant, a removed statement) and runs their direct tests (\`vitest.mutation.config.ts\`) against each change. A mutant that leaves every test green is a rule no test holds. Goal: at least ${GOAL} % killed on each module.`,
);
out.push('');
if (runs.length === 1) {
  out.push(`- Date: ${runs[0].date}`);
  out.push(`- Commit: ${runLabel(runs[0]).replace(/, [^,]*$/, '')}`);
} else {
  out.push(`- Measured in ${runs.length} runs (the column "measured at" names the commit each module was measured at; * means with uncommitted changes in src/ or test/): ${runs.map(runLabel).join('; ')}. The report was written at \`${head}\`.`);
}
out.push(`- Run: \`npm run mutate\` (the whole list of \`stryker.config.mjs\`, then this report), or one module while working: \`MUTATION_TESTS=test/sync/moves.test.ts npx stryker run --mutate src/sync/moves.ts --concurrency 1\` (\`MUTATION_TESTS\` narrows the tests to that module's, so the mutants of its constants do not run every test). Several runs make one report: \`node scripts/mutation-report.mjs a.json b.json\`, each report with an \`a.meta.json\` naming its commit. Not part of \`npm test\`: the whole list takes over an hour on 2 shared cores.`);
out.push('');
out.push('## Score per module');
out.push('');
out.push('Score = (killed + timed out) / (killed + timed out + survived + not covered). Ignored mutants (disabled in the source with a reason, below) do not count.');
out.push('');
const several = runs.length > 1;
out.push(`| module | mutants | killed | timeout | survived | no coverage | ignored | score |${several ? ' measured at |' : ''}`);
out.push(`|---|---:|---:|---:|---:|---:|---:|---:|${several ? '---|' : ''}`);
for (const m of modules) {
  const flag = m.score < GOAL ? ' ⚠' : '';
  out.push(`| \`${m.file}\` | ${m.total} | ${m.killed} | ${m.timeout} | ${m.survived} | ${m.noCoverage} | ${m.ignored} | ${pct(m.score)}${flag} |${several ? ` ${shortLabel(m.run)}${sinceLabel(m.file, m.run)} |` : ''}`);
}
out.push(`| **all** | ${sum('total')} | ${sum('killed')} | ${sum('timeout')} | ${sum('survived')} | ${sum('noCoverage')} | ${sum('ignored')} | **${pct(totalScore)}** |${several ? ' |' : ''}`);
out.push('');

out.push('## What survives, and why');
out.push('');
/** Mutants grouped by where they are and why they survive (or why they were left out). */
function grouped(list, why) {
  const groups = new Map();
  for (const item of list) {
    const reason = why(item);
    const key = `${item.file}:${item.line}\u0000${reason}`;
    const group = groups.get(key) ?? { ...item, reason, mutators: new Map(), noCoverage: 0 };
    group.mutators.set(item.mutant.mutatorName, (group.mutators.get(item.mutant.mutatorName) ?? 0) + 1);
    if (item.mutant.status === 'NoCoverage') group.noCoverage++;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
const mutatorList = (g) => [...g.mutators].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name)).join(', ') + (g.noCoverage ? ` (${g.noCoverage} not run by any test)` : '');
const shortLine = (text) => {
  const trimmed = text.trim();
  return trimmed.length > 110 ? `${trimmed.slice(0, 107)}...` : trimmed;
};
const survivors = modules.flatMap((m) =>
  m.mutants
    .filter((mu) => UNDETECTED.has(mu.status))
    .map((mu) => ({ file: m.file, line: mu.location.start.line, text: lineOf(m.source, mu.location.start.line), mutant: mu })),
);
if (survivors.length === 0) out.push('Nothing: every mutant that counts is killed.');
else {
  out.push(`${survivors.length} mutants, by line. Each is explained in scripts/mutation/survivors.mjs (equivalent, unreachable or a tooling artefact), or marked as not explained yet.`);
  out.push('');
  out.push('| where | mutants | line | why it survives |');
  out.push('|---|---|---|---|');
  for (const g of grouped(survivors, (s) => whySurvives(s.file, s.text, s.mutant))) {
    out.push(`| \`${g.file}:${g.line}\` | ${mutatorList(g)} | ${code(shortLine(g.text))} | ${g.reason} |`);
  }
}
out.push('');

out.push('## Left out on purpose (equivalent mutants)');
out.push('');
const ignored = modules.flatMap((m) =>
  m.mutants.filter((mu) => mu.status === 'Ignored').map((mu) => ({ file: m.file, line: mu.location.start.line, text: lineOf(m.source, mu.location.start.line), mutant: mu })),
);
if (ignored.length === 0) out.push('None.');
else {
  out.push(`${ignored.length} mutants. A \`// Stryker disable\` comment in the source says why each of these changes nothing a test could see.`);
  out.push('');
  out.push('| where | mutants | line | reason |');
  out.push('|---|---|---|---|');
  const reasonOf = (i) => (i.mutant.statusReason ?? '').replace(/^Ignored because of excluded mutation: ?/i, '').replace(/\|/g, '\\|');
  for (const g of grouped(ignored, reasonOf)) out.push(`| \`${g.file}:${g.line}\` | ${mutatorList(g)} | ${code(shortLine(g.text))} | ${g.reason} |`);
}
out.push('');

out.push('## Rules broken on purpose (`npm run breaks`)');
out.push('');
out.push(
  'Each rule below was broken with a one-line change to the source (a copy of the file is put back after), and the named tests were run: at least one must fail. The rules marked * are the 13 of issue 9 (eight of them left every test green before these tests); the others guard the same rules at another place. `node scripts/rule-breaks.mjs` runs them all (about ten minutes) and writes reports/rule-breaks.json, which this part is made from.',
);
out.push('');
const results = existsSync(breaksFile) ? JSON.parse(readFileSync(breaksFile, 'utf8')) : undefined;
if (results) out.push(`Last run: ${results.date.slice(0, 10)}.`);
else out.push('Not run yet: the list below has no results.');
out.push('');
out.push('| # | rule | break | caught by |');
out.push('|---:|---|---|---|');
BREAKS.forEach((item, i) => {
  const result = results?.results.find((r) => r.index === i + 1 && r.rule === item.rule);
  // The lines the break takes out, and those it puts in (a break of part of a line shows that part).
  const lines = (text) => text.split('\n').filter((l) => l.trim() !== '');
  const removed = lines(item.from).filter((l) => !lines(item.to).includes(l));
  const added = lines(item.to).filter((l) => !lines(item.from).includes(l));
  const change = `${code(path.basename(item.file))}: ${removed.map(code).join(' ')} → ${added.length ? added.map(code).join(' ') : 'removed'}`;
  const caught = !result ? 'not run' : result.status === 'caught' ? result.caughtBy.slice(0, 3).map((t) => t.replace(/ > /g, ' › ')).join('<br>') + (result.caughtBy.length > 3 ? `<br>and ${result.caughtBy.length - 3} more` : '') : `**${result.status}**`;
  out.push(`| ${i + 1}${item.issue ? '*' : ''} | ${item.rule} | ${change} | ${caught} |`);
});
out.push('');

const target = path.join(root, 'docs', 'MUTATION.md');
writeFileSync(target, `${out.join('\n')}\n`);
console.log(`wrote ${path.relative(root, target)}: ${pct(totalScore)} killed over ${modules.length} modules`);
for (const m of modules) if (m.score < GOAL) console.log(`  below ${GOAL} %: ${m.file} (${pct(m.score)})`);
