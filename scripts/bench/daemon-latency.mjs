/**
 * (e) The daemon's latency: from the last write of a file to its message reaching the sandbox. The real CLI
 * (`lanying-kb watch`) runs as a child process against a sandbox in its own process; after `/readyz` the benchmark
 * rewrites one of 20 synced files at a time (each edit a new version, so each is sent), records the time the write
 * returned, and finds the `/message/send` request that carried that version (by the `path` and `sha256` of the
 * message's metadata) in the sandbox's request log: its arrival time `at` is the end of the measured interval. The
 * next edit starts once the message arrived (plus a short gap), so every edit is measured on its own.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inotifyWatchesOf, logTime, startDaemonProcess } from './lib/daemon-process.mjs';
import { generateTree } from './lib/tree.mjs';
import { percentile, round } from './lib/stats.mjs';
import { fmtMs, metCell } from './lib/format.mjs';

const EDITS = 200;
const QUICK_EDITS = 40;
/** The files edited in turn (2 folders of 10). */
const FOLDERS = 2;
const PER_FOLDER = 10;
/** `daemon.debounceMs`: the default, written in the config so that the report states what was measured. */
const DEBOUNCE_MS = 1000;
const GOAL_SLACK_MS = 500;
/** How often the sandbox's state is read while waiting for a message (does not affect the measured times). */
const POLL_MS = 100;
/** Pause between a message's arrival and the next edit. */
const GAP_MS = 300;
/** An edit whose message has not arrived after this long is counted as lost. */
const EDIT_TIMEOUT_MS = 30_000;

export default {
  id: 'daemon-latency',
  letter: 'e',
  title: 'Daemon: latency from the last write to the message reaching the sandbox',
  goal: `p95 over ${EDITS} edits at most debounce + ${GOAL_SLACK_MS} ms (${DEBOUNCE_MS + GOAL_SLACK_MS} ms with the default \`daemon.debounceMs\` of ${DEBOUNCE_MS})`,
  async run(ctx) {
    const edits = ctx.quick ? QUICK_EDITS : EDITS;
    const tree = generateTree(path.join(ctx.tmp, 'latency-tree'), { folders: FOLDERS, perFolder: PER_FOLDER, seed: 42 });
    const files = listFiles(tree.root);
    const sandbox = await ctx.startSandbox();
    const stateDir = path.join(ctx.tmp, 'state-latency');
    const config = ctx.writeConfig({
      name: 'watch-latency',
      sandbox,
      folder: tree.root,
      stateDir,
      daemon: { debounceMs: DEBOUNCE_MS, http: { host: '127.0.0.1', port: 0 } },
    });
    ctx.log(`(e) lanying-kb watch on ${files.length} files (debounce ${DEBOUNCE_MS} ms), sandbox in its own process ...`);
    const daemon = await startDaemonProcess({ node: ctx.node, cli: ctx.cli, config, stateDir, logFile: path.join(ctx.tmp, 'watch-latency.log'), cwd: ctx.tmp });
    const samples = [];
    let lost = 0;
    // Which watcher the daemon uses shows in its inotify watches: one per folder, or one per file and folder (chokidar).
    const inotifyWatches = inotifyWatchesOf(daemon.pid);
    try {
      const initial = (await sandbox.state()).messages.filter((m) => metadataOf(m)).length;
      if (initial !== files.length) throw new Error(`the first reconcile sent ${initial} documents, not ${files.length}`);
      ctx.log(`  ready in ${fmtMs(daemon.readyMs)} (first reconcile sent ${initial}); ${edits} edits, one at a time ...`);
      let seenMessages = 0;
      let seenRequests = 0;
      for (let i = 0; i < edits; i++) {
        const file = files[i % files.length];
        const key = path.relative(tree.root, file).split(path.sep).join('/');
        const body = `${fs.readFileSync(file, 'utf8').replace(/\nEdit \d+[^\n]*\n$/, '\n')}\nEdit ${i} of the latency benchmark.\n`;
        const sha256 = crypto.createHash('sha256').update(body).digest('hex');
        fs.writeFileSync(file, body);
        const writtenAt = Date.now();
        const deadline = writtenAt + EDIT_TIMEOUT_MS;
        let found;
        while (!found && Date.now() < deadline) {
          await sleep(POLL_MS);
          const state = await sandbox.state();
          const message = state.messages.slice(seenMessages).find((m) => {
            const meta = metadataOf(m);
            return meta?.path === key && meta.sha256 === sha256;
          });
          if (!message) continue;
          seenMessages = state.messages.indexOf(message) + 1;
          const requests = state.requests.slice(seenRequests);
          const send = requests.find((r) => r.path === '/message/send' && r.transaction_id !== undefined && r.transaction_id === message.transaction_id);
          const slot = requests.find((r) => r.path === '/file/upload/chat' && r.at >= writtenAt);
          seenRequests = state.requests.length;
          const arrivedAt = send?.at ?? message.timestamp;
          found = {
            edit: i,
            key,
            ms: arrivedAt - writtenAt,
            // From the write to the upload slot request: the watcher's event, the quiet period, the stability check,
            // the batch and the engine's plan (stat, hash, state).
            detectMs: slot ? slot.at - writtenAt : null,
            // From the upload slot request to the message's arrival: the three requests of one document.
            uploadMs: slot && send ? send.at - slot.at : null,
            sendServerMs: send?.duration_ms ?? null,
            fromRequestLog: Boolean(send),
          };
        }
        if (!found) {
          lost++;
          ctx.log(`  edit ${i} (${key}): no message after ${EDIT_TIMEOUT_MS / 1000} s`);
          continue;
        }
        samples.push(found);
        if ((i + 1) % 50 === 0) ctx.log(`  ${i + 1}/${edits} edits, p50 so far ${fmtMs(percentile(samples.map((s) => s.ms), 50))}`);
        await sleep(GAP_MS);
      }
    } finally {
      const stopped = await daemon.stop();
      if (stopped.code !== 0) ctx.log(`  (e) lanying-kb watch exited with ${stopped.code ?? stopped.signal}`);
    }
    const lines = daemon.logLines();
    const failedLines = lines.filter((l) => l.event === 'failed' || l.level === 'error' || l.level === 50).length;
    const raw = {
      edits,
      files: files.length,
      debounceMs: DEBOUNCE_MS,
      goalMs: DEBOUNCE_MS + GOAL_SLACK_MS,
      pollMs: POLL_MS,
      gapMs: GAP_MS,
      readyMs: daemon.readyMs,
      firstReconcileMs: diff(logTime(lines, 'reconcile-started'), logTime(lines, 'ready')),
      lost,
      failedLogLines: failedLines,
      watcher: { ...watcherSettings(ctx), inotifyWatches, folders: FOLDERS + 1 },
      total: spread(samples.map((s) => s.ms)),
      detect: spread(samples.filter((s) => s.detectMs !== null).map((s) => s.detectMs)),
      upload: spread(samples.filter((s) => s.uploadMs !== null).map((s) => s.uploadMs)),
      secondQuietPeriod: samples.filter((s) => s.detectMs !== null && s.detectMs >= 2 * DEBOUNCE_MS).length,
      samples,
    };
    return render(raw);
  },
};

function listFiles(root) {
  return fs
    .readdirSync(root)
    .sort()
    .flatMap((d) => fs.readdirSync(path.join(root, d)).sort().map((f) => path.join(root, d, f)));
}

function metadataOf(message) {
  try {
    return JSON.parse(message.ext)?.ai?.metadata;
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const diff = (a, b) => (a === undefined || b === undefined ? null : b - a);

function spread(values) {
  if (values.length === 0) return { n: 0 };
  return {
    n: values.length,
    min: Math.min(...values),
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: Math.max(...values),
    mean: round(values.reduce((s, x) => s + x, 0) / values.length),
  };
}

/** What in the watcher can wait besides `daemon.debounceMs`, read from the built code (so the text never goes stale). */
function watcherSettings(ctx) {
  const read = (rel) => {
    try {
      return fs.readFileSync(path.join(ctx.repoRoot, 'dist', 'daemon', rel), 'utf8');
    } catch {
      return '';
    }
  };
  const watcher = read('watcher.js');
  const daemon = read('daemon.js');
  const batcher = read('path-batcher.js');
  return {
    // chokidar's awaitWriteFinish (a stability poll of its own before it reports a write) is off unless set.
    awaitWriteFinish: /awaitWriteFinish\s*:/.test(watcher),
    coalesceMs: Number(/coalesceMs \?\? (\d+)/.exec(batcher)?.[1] ?? /coalesceMs\s*=\s*(\d+)/.exec(daemon)?.[1] ?? NaN),
  };
}

function watcherText(w) {
  const perFolder = w.inotifyWatches !== undefined && w.inotifyWatches <= w.folders;
  const chokidar = w.awaitWriteFinish
    ? "chokidar's `awaitWriteFinish` is set in src/daemon/watcher.ts: chokidar polls a file until its size is stable before it reports the write, on top of the quiet period"
    : "chokidar's `awaitWriteFinish` is not set (off) in src/daemon/watcher.ts, so chokidar adds no stability wait of its own (its `atomic` handling delays only deletions, by 100 ms, to pair an unlink with a re-add, and it drops repeated change events of a path within 50 ms without delaying the first)";
  return perFolder
    ? `the daemon held ${w.inotifyWatches} inotify watches for ${w.folders} folders: src/daemon/folder-watcher.ts, one watch per folder, reports an event after one \`lstat\` of the path, with no wait or throttle of its own. ` +
        `chokidar is used only when polling, following symbolic links or off Linux; ${chokidar}.`
    : `chokidar (the daemon held ${w.inotifyWatches ?? 'an unknown number of'} inotify watches for ${w.folders} folders). ${chokidar}.`;
}

function render(raw) {
  const { total, detect, upload } = raw;
  const met = raw.lost === 0 && total.n > 0 && total.p95 <= raw.goalMs;
  const summary = {
    head: ['measure', 'p50', 'p95', 'max', 'goal', 'met?'],
    rows: [
      [`last write → message at the sandbox (${total.n} edits${raw.lost ? `, ${raw.lost} lost` : ''})`, fmtMs(total.p50), fmtMs(total.p95), fmtMs(total.max), `p95 ≤ ${fmtMs(raw.goalMs)}`, metCell(met)],
      ['  of which: write → upload slot request (event, quiet period, stability check, batch, plan)', fmtMs(detect.p50), fmtMs(detect.p95), fmtMs(detect.max), '—', '—'],
      ['  of which: upload slot → message send (the three requests)', fmtMs(upload.p50), fmtMs(upload.p95), fmtMs(upload.max), '—', '—'],
      ['time beyond the quiet period (total − debounce)', fmtMs(total.p50 - raw.debounceMs), fmtMs(total.p95 - raw.debounceMs), fmtMs(total.max - raw.debounceMs), `≤ ${GOAL_SLACK_MS} ms`, '—'],
    ],
  };
  const sections = [
    {
      title: 'How it was measured',
      text:
        `\`lanying-kb watch --config F\` (the real CLI, a child process) with \`daemon.debounceMs\` ${raw.debounceMs} ms against a sandbox in its own process, on ` +
        `${raw.files} synced files (2 folders). Ready (\`/readyz\` 200) ${fmtMs(raw.readyMs)} after spawn. Then ${raw.edits} edits, one at a time: each rewrites ` +
        `one of the ${raw.files} files in place (\`fs.writeFileSync\`, a new version every time, the files taken in turn) and records the time the write ` +
        'returned. The sandbox\'s request log gives the arrival time (`at`) of the `/message/send` request whose message carries that version ' +
        '(metadata `path` and `sha256`); the sandbox and the benchmark share the machine\'s clock. The benchmark reads the sandbox\'s state every ' +
        `${raw.pollMs} ms while it waits (that only decides when the next edit starts), and starts the next edit ${raw.gapMs} ms after the message arrived.` +
        `${raw.lost ? ` ${raw.lost} edit(s) never reached the sandbox within ${EDIT_TIMEOUT_MS / 1000} s.` : ' Every edit reached the sandbox exactly as written.'}` +
        `${raw.failedLogLines ? ` The daemon logged ${raw.failedLogLines} failure or error line(s).` : ''}`,
    },
    {
      title: 'What waits between the write and the send',
      text:
        `- \`daemon.debounceMs\` = ${raw.debounceMs} ms: the quiet time per path after its last event (src/daemon/path-batcher.ts). When it ends the file's size and ` +
        'modification time are compared with those the event carried; a file that changed in between waits another full period (the daemon\'s own ' +
        `stability check). ${raw.secondQuietPeriod} of ${detect.n} edits took at least two periods before their upload started.\n` +
        `- The watcher: ${watcherText(raw.watcher)}\n` +
        `- Due paths are collected for ${Number.isFinite(raw.watcher.coalesceMs) ? raw.watcher.coalesceMs : 25} ms (the batcher's coalescing window, so a rename's two paths arrive together), then the scheduler hands them to the engine.\n` +
        '- The engine checks the file (stat, SHA-256, state) and sends it: upload slot, storage upload, message (three requests to the sandbox).',
    },
    {
      title: 'Distribution (ms)',
      table: {
        head: ['interval', 'n', 'min', 'p50', 'p95', 'p99', 'max', 'mean'],
        rows: [
          ['last write → message arrives', total],
          ['last write → upload slot request', detect],
          ['upload slot → message send', upload],
        ].map(([name, s]) => [name, s.n, s.min, s.p50, s.p95, s.p99, s.max, s.mean]),
      },
    },
  ];
  const result = { summary, met, sections, raw };
  if (!met) result.why = why(raw);
  return result;
}

function why(raw) {
  const { total, detect, upload } = raw;
  const parts = [];
  if (raw.lost) parts.push(`${raw.lost} of ${raw.edits} edits never reached the sandbox within ${EDIT_TIMEOUT_MS / 1000} s (see the daemon's log).`);
  if (total.n > 0 && total.p95 > raw.goalMs) {
    parts.push(
      `The p95 is ${fmtMs(total.p95)} against ${fmtMs(raw.goalMs)} (debounce ${raw.debounceMs} ms + ${GOAL_SLACK_MS} ms). Up to the upload slot request ` +
        `(watch event, quiet period, stability check, batch, plan) the p95 is ${fmtMs(detect.p95)}, ${fmtMs(detect.p95 - raw.debounceMs)} beyond the quiet period; the ` +
        `three requests of the send take ${fmtMs(upload.p95)} at p95.`,
    );
    if (raw.secondQuietPeriod > 0) {
      parts.push(
        `${raw.secondQuietPeriod} edit(s) waited a second quiet period: when the period ended, the file's size or time differed from what its event carried ` +
          '(the event was stat-ed while the write was still in progress), so the batcher treated it as still being written.',
      );
    }
  }
  return parts.join(' ');
}
