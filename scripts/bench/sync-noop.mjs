/**
 * (a) A no-op re-sync of an unchanged tree: the whole `lanying-kb sync` CLI process after a first sync recorded
 * everything, against `find DIR -type f -printf '%s %T@\n'` (which reads the same metadata: every entry's
 * size and time). The sandbox runs in its own process, so its cost is not counted (a no-op sends nothing anyway).
 */
import fs from 'node:fs';
import path from 'node:path';
import { interleave } from './lib/proc.mjs';
import { pickedRows, profileCli, selfRows } from './lib/profile-run.mjs';
import { ratio } from './lib/stats.mjs';
import { commandRows, fmtMs, fmtRatio, kb2mib, medianAndMin, metCell } from './lib/format.mjs';

const GOAL = 2;

export default {
  id: 'noop',
  letter: 'a',
  title: 'No-op re-sync of an unchanged tree',
  goal: `at most ${GOAL}x the time of \`find DIR -type f -printf '%s %T@\\n'\` at 100k files`,
  async run(ctx) {
    const sizes = {};
    const empty = ctx.dir('empty-folder');
    const sandbox = await ctx.sharedSandbox();
    const emptyConfig = ctx.writeConfig({ name: 'empty', sandbox, folder: empty, stateDir: path.join(ctx.tmp, 'state-empty') });

    for (const files of ctx.sizes) {
      const synced = await ctx.syncedState(files);
      const out = path.join(ctx.tmp, `noop-${files}.json`);
      const engineMs = [];
      ctx.log(`(a) no-op re-sync vs find at ${files.toLocaleString('en')} files: ${ctx.runs} interleaved runs after a warm-up ...`);
      const commands = [
        {
          name: 'lanying-kb sync',
          cmd: ctx.node,
          args: [ctx.cli, 'sync', '--config', synced.config, '--json'],
          stdout: out,
          check: () => {
            const report = JSON.parse(fs.readFileSync(out, 'utf8'));
            if (report.counts.unchanged !== files || report.counts.sent !== 0) {
              throw new Error(`the re-sync was not a no-op: ${JSON.stringify(report.counts)}`);
            }
            engineMs.push(report.durationMs);
          },
        },
        { name: 'find', cmd: 'find', args: [synced.tree.root, '-type', 'f', '-printf', '%s %T@\n'] },
        { name: 'node -e 0', cmd: ctx.node, args: ['-e', '0'] },
        { name: 'lanying-kb sync (empty folder)', cmd: ctx.node, args: [ctx.cli, 'sync', '--config', emptyConfig, '--json'] },
      ];
      const res = await interleave(commands, { runs: ctx.runs, warmup: 1 });
      const ours = res['lanying-kb sync'];
      const ref = res.find;
      sizes[files] = {
        files,
        bytes: synced.tree.bytes,
        firstSync: synced.firstSync,
        commands: res,
        engineMs: engineMs.slice(1), // the warm-up round's is first
        ratioMedian: ratio(ours.wallMs.median, ref.wallMs.median),
        ratioMin: ratio(ours.wallMs.min, ref.wallMs.min),
      };
      ctx.log(`  ours ${fmtMs(ours.wallMs.median)}, find ${fmtMs(ref.wallMs.median)}: ${fmtRatio(sizes[files].ratioMedian)}`);
    }

    const largest = Math.max(...ctx.sizes);
    const at = sizes[largest];
    const met = at.ratioMedian <= GOAL;
    let profile;
    if (!met) {
      ctx.log('(a) goal missed: profiling one no-op run (node --cpu-prof) ...');
      profile = await profileCli(ctx, `noop-${largest}`, ['sync', '--config', (await ctx.syncedState(largest)).config, '--json'], {
        pick: ['evaluate', 'syncOnce', 'open', 'documentsInDir', 'folders', 'planBatch', 'folderDigest', '(garbage collector)'],
      });
    }
    return render({ sizes, largest, met, profile, quick: ctx.quick });
  },
};

function render({ sizes, largest, met, profile, quick }) {
  const summary = {
    head: ['files', 'lanying-kb sync (median / min)', 'find (median / min)', 'ratio (median / min)', 'goal', 'met?'],
    rows: Object.values(sizes).map((s) => {
      const o = s.commands['lanying-kb sync'].wallMs;
      const f = s.commands.find.wallMs;
      const goalHere = s.files === 100_000 || (quick && s.files === largest);
      return [
        s.files.toLocaleString('en'),
        `${fmtMs(o.median)} / ${fmtMs(o.min)}`,
        `${fmtMs(f.median)} / ${fmtMs(f.min)}`,
        `${fmtRatio(s.ratioMedian)} / ${fmtRatio(s.ratioMin)}`,
        goalHere ? `≤ ${GOAL}x${s.files === 100_000 ? '' : ' (goal is for 100k)'}` : '—',
        goalHere ? metCell(s.ratioMedian <= GOAL) : '—',
      ];
    }),
  };
  const sections = [
    {
      title: 'All commands (wall time of the whole process, interleaved runs)',
      table: {
        head: ['files', 'command', 'median', 'min', 'max', 'peak RSS', 'CPU (user+sys, median)'],
        rows: commandRows(sizes),
      },
      text:
        '`node -e 0` is Node\'s own start-up; `lanying-kb sync (empty folder)` is the CLI\'s fixed cost (start-up, ' +
        'configuration, state database, lock) with nothing to scan. The engine time is the report\'s `durationMs` (scan, ' +
        'state read, plan), without process start-up and module loading.',
    },
    {
      title: 'Engine time inside the process (report `durationMs`)',
      table: {
        head: ['files', 'median', 'min', 'share of the process (median)'],
        rows: Object.values(sizes).map((s) => {
          const { median: med, min } = medianAndMin(s.engineMs);
          return [s.files.toLocaleString('en'), fmtMs(med), fmtMs(min), `${Math.round((100 * med) / s.commands['lanying-kb sync'].wallMs.median)} %`];
        }),
      },
    },
    {
      title: 'First full sync (to record the state)',
      table: {
        head: ['files', 'MB', 'concurrency', 'wall time', 'documents/s', 'peak RSS', 'CPU (user+sys)'],
        rows: Object.values(sizes).map((s) => [
          s.files.toLocaleString('en'),
          (s.bytes / 1e6).toFixed(1),
          s.firstSync.concurrency,
          fmtMs(s.firstSync.wallMs),
          s.firstSync.docsPerSecond,
          `${kb2mib(s.firstSync.maxRssKb)} MiB`,
          fmtMs(s.firstSync.cpuMs),
        ]),
      },
      text:
        'The real CLI (`lanying-kb sync --json`) against the sandbox in its own process, with no added latency. Each document ' +
        'is three requests (upload slot, storage upload, message send), and the sandbox\'s chatbot downloads each file ' +
        'again to "ingest" it, on the same two cores.',
    },
  ];
  if (profile) sections.push(...profileSections(profile));
  const result = { summary, met, sections, raw: { sizes, profile } };
  if (!met) result.why = why(sizes[largest], profile);
  return result;
}

export function profileSections(profile) {
  return [
    {
      title: `Where the time goes: CPU profile of one run (${profile.durationMs} ms profiled, main thread)`,
      text:
        `\`${profile.command}\` (the profiler slows the run down). Inclusive time of chosen functions (time with the function on the stack; ` +
        'they overlap; `evaluate` is the loading and top-level evaluation of the modules), the top functions by self time, and the packages ' +
        'whose modules\' top-level code (loading) took the most time.',
      table: { head: ['function', 'inclusive', 'share'], rows: pickedRows(profile) },
    },
    { table: { head: ['function (self time)', 'self', 'share'], rows: selfRows(profile) } },
    { table: { head: ['package (module loading, inclusive)', 'time', 'share'], rows: (profile.moduleLoading ?? []).slice(0, 6).map((p) => [p.fn, `${p.ms} ms`, `${p.pct} %`]) } },
  ];
}

export function why(at, profile) {
  const c = at.commands;
  const ours = c['lanying-kb sync'].wallMs.median;
  const find = c.find.wallMs.median;
  const nodeStart = c['node -e 0'].wallMs.median;
  const fixed = c['lanying-kb sync (empty folder)'].wallMs.median;
  const engine = medianAndMin(at.engineMs).median;
  const parts = [
    `At ${at.files.toLocaleString('en')} files the no-op takes ${fmtMs(ours)} against find's ${fmtMs(find)} (${fmtRatio(at.ratioMedian)}; goal ${GOAL}x, i.e. ${fmtMs(GOAL * find)}).`,
    `The CLI's fixed cost (a sync of an empty folder: start-up, modules, configuration, state database, lock) is ${fmtMs(fixed)}, ${Math.round((100 * fixed) / (GOAL * find))} % of that budget on its own; \`node -e 0\` alone takes ${fmtMs(nodeStart)}.`,
    `The engine's own time (scan, state read, plan) is ${fmtMs(engine)}, ${fmtRatio(ratio(engine, find))} find.`,
  ];
  const pick = (name) => profile?.picked.find((p) => p.fn === name || p.fn.startsWith(`${name} `));
  const evaluate = pick('evaluate');
  if (evaluate) {
    const top = (profile.moduleLoading ?? []).slice(0, 3).map((p) => `${p.fn} ${p.ms} ms`).join(', ');
    parts.push(`Loading the modules (\`evaluate\`) is ${evaluate.pct} % of the profiled run (largest: ${top}); undici, form-data, the HTML parser and the MIME tables are loaded only when a run sends or fetches something.`);
  }
  const known = pick('documentsInDir');
  const scan = pick('folders');
  const plan = pick('planBatch');
  const digest = pick('folderDigest');
  const gc = pick('(garbage collector)');
  if (scan) {
    parts.push(
      `In the profile the scan (\`folders\` of src/sources/folder/scan.ts: readdir and lstat of every entry, the lstat calls shared with the worker thread) takes ${scan.ms} ms (${scan.pct} %), ` +
        `the folder digests (\`folderDigest\`: one SHA-1 over each folder's names, sizes, times and inodes, compared with the recorded one) ${digest ? `${digest.ms} ms` : 'n/a'}, ` +
        `the state read of folders that changed (\`documentsInDir\`) ${known ? `${known.ms} ms` : 'none'}, planning (\`planBatch\`) ${plan ? `${plan.ms} ms` : 'none'}, and the garbage collector ${gc ? `${gc.ms} ms` : 'n/a'}. ` +
        `The scan alone is ${fmtRatio(ratio(scan.ms, find))} find's whole run (find makes the same system calls from C with no per-entry JavaScript objects). With start-up (~${fmtMs(fixed)}) on top, ${GOAL}x find ` +
        'leaves little room for a Node process that starts, loads its modules, opens its state database, scans and compares.',
    );
  }
  return parts.join(' ');
}
