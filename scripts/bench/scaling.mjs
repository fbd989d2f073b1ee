/**
 * (h) Tree shapes and scaling: on three shapes of mixed-type trees with a few large files (scripts/bench/lib/tree.mjs
 * `SHAPES`), at 10k and 100k files (and 1M with `--large`): the first sync (the real CLI against a sandbox in its own
 * process, peak RSS and RSS over the whole run), the dry run on a fresh state, and the no-op re-sync on the state of
 * that first sync, side by side with `find`, `find | xargs sha256sum` and rclone's no-op `copy` of the same tree to a
 * copy made by rclone. Writes a log-log plot per shape (time and peak RSS against files) and one of RSS over time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { markConfirmed } from './lib/settled-state.mjs';
import { interleave, measure } from './lib/proc.mjs';
import { round } from './lib/stats.mjs';
import { fmtMs, fmtRatio, kb2mib, metCell } from './lib/format.mjs';
import { logLogFigure, rssOverTime } from './lib/svg-plot.mjs';
import { SHAPES } from './lib/tree.mjs';

const RSS_GOAL_MIB = 200;
const FLAT_WITHIN = 1.2;
const FIND_GOAL = 2;
const RCLONE_GOAL = 2;
const LARGE_FILES = 3;

export default {
  id: 'scaling',
  letter: 'h',
  title: 'Tree shapes and scaling (10k, 100k, 1M files)',
  goal:
    `on each shape (flat, nested, one folder; mixed types, a few 20-48 MiB files): first sync and dry run at most ${RSS_GOAL_MIB} MiB peak RSS at 100k ` +
    `and flat within ${Math.round((FLAT_WITHIN - 1) * 100)} % from 10k to 1M; the no-op re-sync at most ${FIND_GOAL}x \`find\` and at least ${RCLONE_GOAL}x faster than rclone's no-op \`copy\`, at 100k and 1M`,
  async run(ctx) {
    const rclone = ctx.rclone();
    const unknown = ctx.scaleShapes.filter((s) => !SHAPES[s]);
    if (unknown.length) throw new Error(`--shapes: ${unknown.join(', ')} is not a tree shape (${Object.keys(SHAPES).join(', ')})`);
    const shapes = ctx.scaleShapes.length ? ctx.scaleShapes : Object.keys(SHAPES);
    const measuredSizes = ctx.scaleSizes;
    const runs = ctx.quick ? 1 : 3;
    /** @type {Record<string, Record<number, object>>} */
    const cells = {};
    for (const shape of shapes) {
      cells[shape] = {};
      for (const files of measuredSizes) {
        const load = [os.loadavg()[0]];
        const tree = ctx.shapedTree(shape, files, LARGE_FILES);
        const cell = { shape, files: tree.files, bytes: tree.bytes, folders: tree.folders, largeFiles: tree.largeFiles, commit: ctx.commit, measuredAt: new Date().toISOString(), node: process.version };
        // The first sync: its own sandbox (stopped afterwards: a million messages weigh on its process, not ours).
        const sandbox = await ctx.startSandbox();
        const stateDir = path.join(ctx.tmp, `state-${shape}-${files}`);
        const config = ctx.writeConfig({ name: `scale-${shape}-${files}`, sandbox, folder: tree.root, stateDir, sync: { concurrency: 64 } });
        ctx.log(`(h) ${shape} ${files.toLocaleString('en')}: first sync to the sandbox (concurrency 64) ...`);
        const out = path.join(ctx.tmp, `scale-first-${shape}-${files}.json`);
        // Without waiting for confirmations; the state is then marked confirmed (see lib/settled-state.mjs).
        const first = await measure(ctx.node, [ctx.cli, 'sync', '--config', config, '--no-wait', '--json'], { stdout: out, stderr: `${out}.err`, timeoutMs: 6 * 3600_000, sampleRssMs: files >= 1_000_000 ? 1000 : 200 });
        const report = JSON.parse(fs.readFileSync(out, 'utf8'));
        fs.rmSync(out);
        await sandbox.stop();
        if (report.outcome !== 'ok' || report.counts.sent !== tree.files) throw new Error(`the first sync of ${shape} ${files} sent ${report.counts.sent} of ${tree.files} (${report.outcome})`);
        markConfirmed(stateDir);
        cell.firstSync = { wallMs: round(first.wallMs), engineMs: report.durationMs, maxRssKb: first.maxRssKb, cpuMs: round((first.userMs ?? 0) + (first.sysMs ?? 0)), rssSeries: thin(first.rssSeries) };
        ctx.log(`   ${fmtMs(first.wallMs)}, peak RSS ${kb2mib(first.maxRssKb)} MiB`);
        load.push(os.loadavg()[0]);

        // Dry run on a fresh state, and the hashing reference.
        const fresh = ctx.writeConfig({ name: `scale-fresh-${shape}-${files}`, sandbox, folder: tree.root, stateDir: path.join(ctx.tmp, `no-state-${shape}-${files}`) });
        ctx.log(`(h) ${shape} ${files.toLocaleString('en')}: dry run vs find | xargs sha256sum (${runs} runs) ...`);
        const dry = await interleave(
          [
            { name: 'dry run', cmd: ctx.node, args: [ctx.cli, 'sync', '--config', fresh, '--dry-run', '--json'], sampleRssMs: 100 },
            { name: 'sha256sum', cmd: 'sh', args: ['-c', `find '${tree.root}' -type f -print0 | xargs -0 sha256sum > /dev/null`] },
          ],
          { runs, warmup: 1 },
        );
        cell.dryRun = dry['dry run'];
        cell.sha256sum = dry.sha256sum;
        load.push(os.loadavg()[0]);

        // The no-op re-sync, find, and rclone's no-op copy to a copy of the tree it made.
        let rcloneCopy;
        if (rclone.path) {
          rcloneCopy = path.join(ctx.tmp, `rclone-${shape}-${files}`);
          ctx.log(`(h) ${shape} ${files.toLocaleString('en')}: rclone copy to a local copy (setup) ...`);
          const setup = await measure(rclone.path, ['copy', tree.root, rcloneCopy], { timeoutMs: 6 * 3600_000 });
          cell.rcloneFirstCopy = { wallMs: round(setup.wallMs), maxRssKb: setup.maxRssKb };
        }
        const noopRuns = ctx.quick ? 3 : 5;
        ctx.log(`(h) ${shape} ${files.toLocaleString('en')}: no-op re-sync vs find${rclone.path ? ' vs rclone copy' : ''} (${noopRuns} runs) ...`);
        const noopOut = path.join(ctx.tmp, `scale-noop-${shape}-${files}.json`);
        const commands = [
          {
            name: 'no-op',
            cmd: ctx.node,
            args: [ctx.cli, 'sync', '--config', config, '--json'],
            stdout: noopOut,
            sampleRssMs: 50,
            check: () => {
              const r = JSON.parse(fs.readFileSync(noopOut, 'utf8'));
              if (r.counts.sent !== 0 || r.counts.unchanged !== tree.files) throw new Error(`the re-sync of ${shape} ${files} was not a no-op: ${JSON.stringify(r.counts)}`);
            },
          },
          { name: 'find', cmd: 'find', args: [tree.root, '-type', 'f', '-printf', '%s %T@\n'] },
        ];
        if (rcloneCopy) commands.push({ name: 'rclone copy (no-op)', cmd: rclone.path, args: ['copy', tree.root, rcloneCopy] });
        // The first re-sync: a first sync with --no-wait records no folder digests (its documents are not settled), so
        // this one reads every folder's documents and records the digests. Measured once, apart from the no-op's runs.
        const firstResync = await measure(ctx.node, [ctx.cli, 'sync', '--config', config, '--json'], { stdout: noopOut, timeoutMs: 3600_000 });
        commands[0].check();
        cell.firstResync = { wallMs: round(firstResync.wallMs), maxRssKb: firstResync.maxRssKb };
        const noop = await interleave(commands, { runs: noopRuns, warmup: 1 });
        cell.noop = noop['no-op'];
        cell.find = noop.find;
        cell.rclone = noop['rclone copy (no-op)'];
        load.push(os.loadavg()[0]);
        cell.loadAverage = load.map((l) => round(l, 2));
        cell.findRatio = ratioOf(cell.noop, cell.find);
        cell.rcloneSpeedup = cell.rclone ? ratioOf(cell.rclone, cell.noop) : null;
        ctx.log(
          `   no-op ${fmtMs(cell.noop.wallMs.median)} (${fmtRatio(cell.findRatio)} find${cell.rclone ? `, rclone ${fmtMs(cell.rclone.wallMs.median)}: ${fmtRatio(cell.rcloneSpeedup)} faster` : ''}); dry run ${fmtMs(cell.dryRun.wallMs.median)} ${kb2mib(cell.dryRun.maxRssKb)} MiB; load ${cell.loadAverage.join(' / ')}`,
        );
        cells[shape][files] = cell;
        // Room for the next tree: the copies and states of a million files are several GB.
        for (const dir of [rcloneCopy, stateDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
        ctx.dropShapedTree(shape, files);
      }
    }
    const { cells: all, sizes } = ctx.scalePartial ? withEarlierCells(ctx.previous?.results?.scaling, cells) : { cells, sizes: measuredSizes };
    const figures = writeFigures(ctx, all, sizes);
    return render({ cells: all, sizes, rclone, figures, ctx });
  },
};

/**
 * A partial run (`--shapes`, `--sizes`): the cells measured now over those of the last result, each cell keeping the
 * commit and date it was measured at (cells from before cells carried them: the result's).
 */
export function withEarlierCells(previous, fresh) {
  const cells = {};
  for (const [shape, bySize] of Object.entries(previous?.raw?.cells ?? {})) {
    cells[shape] = {};
    for (const [n, c] of Object.entries(bySize)) cells[shape][n] = { ...c, commit: c.commit ?? previous.commit, measuredAt: c.measuredAt ?? previous.measuredAt };
  }
  for (const [shape, bySize] of Object.entries(fresh)) Object.assign((cells[shape] ??= {}), bySize);
  const sizes = [...new Set(Object.values(cells).flatMap((bySize) => Object.keys(bySize).map(Number)))].sort((a, b) => a - b);
  // In the order of SHAPES, whatever order the runs came in.
  const ordered = Object.fromEntries(Object.keys(SHAPES).filter((s) => cells[s]).map((s) => [s, cells[s]]));
  return { cells: ordered, sizes };
}

/** The commits a goal row's cells were measured at, each once. */
function commitsCell(commits) {
  const distinct = [...new Set((commits ?? []).filter(Boolean))];
  return distinct.length ? distinct.map((c) => `\`${c}\``).join(' / ') : '—';
}

function ratioOf(a, b) {
  return b.wallMs.median > 0 ? round(a.wallMs.median / b.wallMs.median, 2) : null;
}

/** At most ~400 samples of a series (for the JSON and the plot). */
function thin(series) {
  if (!series || series.length <= 400) return series ?? [];
  const step = Math.ceil(series.length / 400);
  return series.filter((_, i) => i % step === 0 || i === series.length - 1);
}

function writeFigures(ctx, cells, sizes) {
  const files = [];
  for (const [shape, bySize] of Object.entries(cells)) {
    const at = (pick) => sizes.filter((n) => bySize[n]).map((n) => [bySize[n].files, pick(bySize[n])]).filter(([, v]) => v != null);
    const timeSeries = [
      { name: 'lanying-kb no-op re-sync', points: at((c) => c.noop.wallMs.median) },
      { name: 'lanying-kb dry run', points: at((c) => c.dryRun.wallMs.median) },
      { name: 'lanying-kb first sync', points: at((c) => c.firstSync.wallMs) },
      { name: 'find', points: at((c) => c.find.wallMs.median), dashed: true },
      { name: 'find | xargs sha256sum', points: at((c) => c.sha256sum.wallMs.median), dashed: true },
      { name: 'rclone copy (no-op)', points: at((c) => c.rclone?.wallMs.median), dashed: true },
    ];
    const rssSeries = [
      { name: timeSeries[0].name, points: at((c) => c.noop.maxRssKb / 1024) },
      { name: timeSeries[1].name, points: at((c) => c.dryRun.maxRssKb / 1024) },
      { name: timeSeries[2].name, points: at((c) => c.firstSync.maxRssKb / 1024) },
      { name: timeSeries[3].name, points: at((c) => c.find.maxRssKb / 1024), dashed: true },
      { name: timeSeries[4].name, points: at((c) => c.sha256sum.maxRssKb / 1024), dashed: true },
      { name: timeSeries[5].name, points: at((c) => (c.rclone ? c.rclone.maxRssKb / 1024 : null)), dashed: true },
    ];
    const name = `bench-scaling-${shape}.svg`;
    fs.writeFileSync(path.join(ctx.outDir, name), logLogFigure({ title: `${SHAPES[shape]}`, panels: [{ title: 'wall time', unit: 'ms', series: timeSeries }, { title: 'peak RSS', unit: 'MiB', series: rssSeries }] }));
    files.push({ shape, file: name });
  }
  const largest = Math.max(...sizes);
  const series = Object.entries(cells)
    .filter(([, bySize]) => bySize[largest])
    .map(([shape, bySize]) => ({ name: `first sync, ${shape}`, points: bySize[largest].firstSync.rssSeries }));
  const overTime = 'bench-rss-first-sync.svg';
  fs.writeFileSync(path.join(ctx.outDir, overTime), rssOverTime({ title: `RSS over the first sync of ${largest.toLocaleString('en')} files (sampled from /proc/<pid>/status)`, series }));
  return { scaling: files, overTime };
}

function render({ cells, sizes, rclone, figures, ctx }) {
  const goals = [];
  const largest = Math.max(...sizes);
  const goalSizes = sizes.filter((n) => n >= 100_000);
  for (const [shape, bySize] of Object.entries(cells)) {
    const cellAt = (n) => bySize[n];
    // RSS at 100k.
    for (const [kind, label] of [
      ['firstSync', 'first sync'],
      ['dryRun', 'dry run'],
    ]) {
      const c = cellAt(100_000) ?? (ctx.quick ? cellAt(largest) : undefined);
      if (c) {
        const mib = c[kind].maxRssKb / 1024;
        goals.push({ shape, what: `${label} peak RSS at ${c.files.toLocaleString('en')} files${c.files === 100_000 ? '' : ' (goal is for 100k)'}`, goal: `≤ ${RSS_GOAL_MIB} MiB`, measured: `${Math.round(mib)} MiB`, met: mib <= RSS_GOAL_MIB, load: c.loadAverage, commits: [c.commit] });
      }
      const present = sizes.filter((n) => bySize[n]);
      const measured = present.map((n) => bySize[n][kind].maxRssKb);
      if (measured.length > 1) {
        const spread = Math.max(...measured) / Math.min(...measured);
        const top = Math.max(...present);
        const span = `${Math.min(...present).toLocaleString('en')} to ${top.toLocaleString('en')}`;
        goals.push({
          shape,
          what: `${label} peak RSS flat from ${span} files${top < 1_000_000 ? ' (the goal is 10k to 1M: run with --large)' : ''}`,
          goal: `max / min ≤ ${FLAT_WITHIN}`,
          measured: `${fmtRatio(round(spread, 2))} (${measured.map((kb) => `${kb2mib(kb)}`).join(' / ')} MiB)`,
          met: spread <= FLAT_WITHIN,
          load: bySize[top]?.loadAverage,
          commits: present.map((n) => bySize[n].commit),
        });
      }
    }
    for (const n of goalSizes.length ? goalSizes : ctx.quick ? [largest] : []) {
      const c = cellAt(n);
      if (!c) continue;
      goals.push({ shape, what: `no-op vs find at ${n.toLocaleString('en')} files`, goal: `≤ ${FIND_GOAL}x`, measured: `${fmtRatio(c.findRatio)} (${fmtMs(c.noop.wallMs.median)} vs ${fmtMs(c.find.wallMs.median)})`, met: c.findRatio <= FIND_GOAL, load: c.loadAverage, commits: [c.commit] });
      goals.push({
        shape,
        what: `no-op vs rclone's no-op copy at ${n.toLocaleString('en')} files`,
        goal: `≥ ${RCLONE_GOAL}x faster`,
        measured: c.rclone ? `${fmtRatio(c.rcloneSpeedup)} faster (${fmtMs(c.noop.wallMs.median)} vs ${fmtMs(c.rclone.wallMs.median)})` : `rclone not installed (${rclone.reason})`,
        met: c.rclone ? c.rcloneSpeedup >= RCLONE_GOAL : null,
        load: c.loadAverage,
        commits: [c.commit],
      });
    }
  }
  const scored = goals.filter((g) => g.met !== null);
  const met = scored.length > 0 && scored.every((g) => g.met);
  const summary = {
    head: ['shape', 'goal row', 'goal', 'measured', 'met?', 'load average (before / mid / end)', 'commit'],
    rows: goals.map((g) => [g.shape, g.what, g.goal, g.measured, g.met === null ? 'not measured' : metCell(g.met), g.load?.join(' / ') ?? '—', commitsCell(g.commits)]),
  };
  const sections = [
    {
      title: 'The trees',
      text:
        Object.entries(SHAPES)
          .map(([k, v]) => `- ${k}: ${v.replace(/^[^:]*: /, '')}`)
          .join('\n') +
        `\n\nEvery tree: .md 40 %, .txt 25 %, .html 20 %, .csv 15 %, 700-3,400 bytes each, every content unique, and ${LARGE_FILES} large text files (20, 34 and 48 MiB) among them. ` +
        `rclone: ${rclone.path ? `${rclone.version} (${rclone.how})` : `not installed (${rclone.reason})`}; its no-op is \`rclone copy SRC DST\` to a copy of the tree that \`rclone copy\` made before (it lists both trees and compares sizes and times).`,
    },
    {
      title: 'Scaling (medians; peak RSS of the process, GNU time)',
      text:
        'Every run is the CLI with `--json` (its report streams): the first sync `lanying-kb sync --no-wait --json` against a sandbox in its own process, ' +
        'the dry run `lanying-kb sync --dry-run --json` on a fresh state, the no-op `lanying-kb sync --json` on the state the first sync recorded. ' +
        'The first re-sync is the first no-op after the first sync, measured once: the first sync (`--no-wait`) left its documents unconfirmed, so no folder digest was recorded, and this run reads every folder\'s documents from the state and records the digests.',
      table: {
        head: ['shape', 'files', 'folders', 'first re-sync', 'no-op', 'find', 'rclone no-op', 'dry run', 'find | sha256sum', 'first sync', 'RSS no-op', 'RSS dry run', 'RSS first sync', 'RSS rclone', 'commit'],
        rows: Object.values(cells).flatMap((bySize) =>
          sizes
            .filter((n) => bySize[n])
            .map((n) => {
              const c = bySize[n];
              return [
                c.shape,
                c.files.toLocaleString('en'),
                c.folders.toLocaleString('en'),
                c.firstResync ? fmtMs(c.firstResync.wallMs) : '—',
                fmtMs(c.noop.wallMs.median),
                fmtMs(c.find.wallMs.median),
                c.rclone ? fmtMs(c.rclone.wallMs.median) : 'not installed',
                fmtMs(c.dryRun.wallMs.median),
                fmtMs(c.sha256sum.wallMs.median),
                fmtMs(c.firstSync.wallMs),
                `${kb2mib(c.noop.maxRssKb)} MiB`,
                `${kb2mib(c.dryRun.maxRssKb)} MiB`,
                `${kb2mib(c.firstSync.maxRssKb)} MiB`,
                c.rclone ? `${kb2mib(c.rclone.maxRssKb)} MiB` : '—',
                commitsCell([c.commit]),
              ];
            }),
        ),
      },
    },
    ...figures.scaling.map((f) => ({ title: `Log-log: ${f.shape}`, image: f.file })),
    {
      title: 'RSS over the run',
      text: 'Sampled from /proc/<pid>/status (VmRSS) every 200 ms of the first sync (every second at 1M files); the JSON holds every series (the dry runs and no-ops too).',
      image: figures.overTime,
    },
  ];
  const result = { summary, met, goals, sections, raw: { sizes, cells, rclone } };
  const missed = goals.filter((g) => g.met === false);
  if (missed.length) result.why = `Missed: ${missed.map((g) => `${g.shape}: ${g.what} (${g.measured}; goal ${g.goal})`).join('; ')}. See "This round (issue 12)" in docs/BENCHMARKS.md for where the time and memory go and what was tried.`;
  return result;
}

