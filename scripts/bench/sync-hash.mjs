/**
 * (b) First-sync hashing: `lanying-kb sync --dry-run` on a fresh state (scan, hash every file, plan; sends
 * nothing, writes nothing) as a whole CLI process, against `find DIR -type f -print0 | xargs -0 sha256sum`.
 * The page cache cannot be dropped here (no root over /proc/sys/vm), so both run warm: a warm-up round reads
 * every file first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { interleave } from './lib/proc.mjs';
import { profileCli } from './lib/profile-run.mjs';
import { ratio } from './lib/stats.mjs';
import { commandRows, fmtMs, fmtRatio, medianAndMin, metCell } from './lib/format.mjs';
import { profileSections } from './sync-noop.mjs';

const GOAL = 1.3;

export default {
  id: 'hash',
  letter: 'b',
  title: 'First-sync hashing (dry run on a fresh state)',
  goal: `at most ${GOAL}x the time of \`find DIR -type f -print0 | xargs -0 sha256sum\` at 100k files (warm cache)`,
  async run(ctx) {
    const sizes = {};
    const sandbox = await ctx.sharedSandbox();
    for (const files of ctx.sizes) {
      const tree = ctx.tree(files);
      // A state folder that does not exist: the dry run reads an empty state and writes nothing.
      const config = ctx.writeConfig({ name: `fresh-${files}`, sandbox, folder: tree.root, stateDir: path.join(ctx.tmp, `no-state-${files}`) });
      const jsonOut = path.join(ctx.tmp, `dry-${files}.json`);
      const textOut = path.join(ctx.tmp, `dry-${files}.txt`);
      const engineMs = [];
      ctx.log(`(b) dry run vs find | xargs sha256sum at ${files.toLocaleString('en')} files: ${ctx.runs} interleaved runs after a warm-up ...`);
      const commands = [
        {
          name: 'lanying-kb sync --dry-run --json',
          cmd: ctx.node,
          args: [ctx.cli, 'sync', '--config', config, '--dry-run', '--json'],
          stdout: jsonOut,
          check: () => {
            const report = JSON.parse(fs.readFileSync(jsonOut, 'utf8'));
            if (report.counts.new !== files) throw new Error(`the dry run planned ${report.counts.new} new documents, not ${files}`);
            engineMs.push(report.durationMs);
          },
        },
        {
          name: 'lanying-kb sync --dry-run',
          cmd: ctx.node,
          args: [ctx.cli, 'sync', '--config', config, '--dry-run'],
          stdout: textOut,
          check: () => {
            const text = fs.readFileSync(textOut, 'utf8');
            if (!text.includes(`Would send ${files} document(s)`)) throw new Error(`unexpected dry-run output: ${text.slice(-300)}`);
          },
        },
        { name: 'find | xargs sha256sum', cmd: 'sh', args: ['-c', `find '${tree.root}' -type f -print0 | xargs -0 sha256sum > /dev/null`] },
      ];
      const res = await interleave(commands, { runs: ctx.runs, warmup: 1 });
      fs.rmSync(jsonOut, { force: true });
      fs.rmSync(textOut, { force: true });
      const ours = res['lanying-kb sync --dry-run --json'].wallMs;
      const text = res['lanying-kb sync --dry-run'].wallMs;
      const ref = res['find | xargs sha256sum'].wallMs;
      sizes[files] = {
        files,
        bytes: tree.bytes,
        commands: res,
        engineMs: engineMs.slice(1),
        ratioMedian: ratio(ours.median, ref.median),
        ratioMin: ratio(ours.min, ref.min),
        textRatioMedian: ratio(text.median, ref.median),
        textRatioMin: ratio(text.min, ref.min),
        config,
      };
      ctx.log(`  ours ${fmtMs(ours.median)} (text output ${fmtMs(text.median)}), sha256sum ${fmtMs(ref.median)}: ${fmtRatio(sizes[files].ratioMedian)}`);
    }
    const largest = Math.max(...ctx.sizes);
    const at = sizes[largest];
    const met = Math.max(at.ratioMedian, at.textRatioMedian) <= GOAL;
    let profile;
    if (!met) {
      ctx.log('(b) goal missed: profiling one dry run (node --cpu-prof) ...');
      profile = await profileCli(ctx, `dry-${largest}`, ['sync', '--config', at.config, '--dry-run', '--json'], {
        pick: ['evaluate', 'folders', 'hashFiles', 'hashFileSync', 'planBatch', 'decide', 'resolveMoves', 'decided', 'writeJson', '(garbage collector)'],
      });
    }
    return render({ sizes, largest, met, profile, quick: ctx.quick });
  },
};

function render({ sizes, largest, met, profile, quick }) {
  const summary = {
    head: ['files', 'output', 'lanying-kb (median / min)', 'find | xargs sha256sum (median / min)', 'ratio (median / min)', 'goal', 'met?'],
    rows: Object.values(sizes).flatMap((s) => {
      const f = s.commands['find | xargs sha256sum'].wallMs;
      const goalHere = s.files === 100_000 || (quick && s.files === largest);
      const goalCell = goalHere ? `≤ ${GOAL}x${s.files === 100_000 ? '' : ' (goal is for 100k)'}` : '—';
      return [
        ['--json', 'lanying-kb sync --dry-run --json', s.ratioMedian, s.ratioMin],
        ['text', 'lanying-kb sync --dry-run', s.textRatioMedian, s.textRatioMin],
      ].map(([label, name, rMed, rMin]) => {
        const o = s.commands[name].wallMs;
        return [
          s.files.toLocaleString('en'),
          label,
          `${fmtMs(o.median)} / ${fmtMs(o.min)}`,
          `${fmtMs(f.median)} / ${fmtMs(f.min)}`,
          `${fmtRatio(rMed)} / ${fmtRatio(rMin)}`,
          goalCell,
          goalHere ? metCell(rMed <= GOAL) : '—',
        ];
      });
    }),
  };
  const sections = [
    {
      title: 'All commands (wall time of the whole process, interleaved runs, warm cache)',
      table: {
        head: ['files', 'MB', 'command', 'median', 'min', 'max', 'peak RSS', 'CPU (user+sys, median)'],
        rows: commandRows(sizes, { megabytes: true }),
      },
      text:
        'Caches could not be dropped on this machine, so every command ran once unmeasured first and all runs read from the page ' +
        'cache. `sha256sum` uses the CPU\'s SHA extensions, `xargs` starts one `sha256sum` per few thousand files, and the two ' +
        'processes of the pipeline run on both cores at once. The `--json` run writes the whole plan as JSON; the text run prints one line per document.',
    },
    {
      title: 'Engine time inside the process (report `durationMs`: scan, hash, plan)',
      table: {
        head: ['files', 'median', 'min', 'MB/s (median)'],
        rows: Object.values(sizes).map((s) => {
          const { median: med, min } = medianAndMin(s.engineMs);
          return [s.files.toLocaleString('en'), fmtMs(med), fmtMs(min), Math.round(s.bytes / 1e3 / med)];
        }),
      },
    },
  ];
  if (profile) sections.push(...profileSections(profile));
  const result = { summary, met, sections, raw: { sizes, profile } };
  if (!met) result.why = why(sizes[largest], profile);
  return result;
}

export function why(at, profile) {
  const ours = at.commands['lanying-kb sync --dry-run --json'].wallMs.median;
  const ref = at.commands['find | xargs sha256sum'].wallMs.median;
  const engine = medianAndMin(at.engineMs).median;
  const parts = [
    `At ${at.files.toLocaleString('en')} files the dry run takes ${fmtMs(ours)} against the pipeline's ${fmtMs(ref)} (${fmtRatio(at.ratioMedian)}; goal ${GOAL}x = ${fmtMs(GOAL * ref)}).`,
    `Inside the process the engine (scan, hash, plan) takes ${fmtMs(engine)}; the rest is start-up, printing the report and exit.`,
  ];
  if (profile) {
    const pick = (name) => profile.picked.find((p) => p.fn === name || p.fn.startsWith(`${name} `));
    const hash = pick('hashFiles');
    const scan = pick('folders');
    const classify = pick('decide');
    const report = pick('decided');
    const json = pick('writeJson');
    const dups = pick('resolveMoves');
    const gc = pick('(garbage collector)');
    const cost = (p) => (p ? `${p.pct} %` : 'n/a');
    parts.push(
      `In the CPU profile (${profile.durationMs} ms, slower than an unprofiled run), hashing (\`hashFiles\`: open, read, SHA-256 and close, ` +
        `shared with a worker thread; the worker's time is not in this main-thread profile) is ${cost(hash)} and the scan ${cost(scan)}: the file work itself. ` +
        `The rest is per-document JavaScript: \`decide\` (src/sync/decide.ts) ${cost(classify)}, ` +
        `\`resolveMoves\` (same-content matching) ${cost(dups)}, \`decided\` (the report's entry of every decision) ${cost(report)}, ` +
        `\`writeJson\` ${cost(json)}, and the garbage collector ${cost(gc)} for those objects. ` +
        'The pipeline does its hashing in C on both cores (find and sha256sum run at once), with no per-file objects to build.',
    );
  }
  return parts.join(' ');
}
