/**
 * The dry run of (h) at a size where a first sync does not fit in a working session (a million files: the first
 * sync, and so the no-op on its state, takes hours; `node scripts/bench.mjs --large --only h` runs them): the CLI's
 * `sync --dry-run --json` on a fresh state, peak RSS sampled over the run, side by side with `find` and
 * `find | xargs sha256sum`, one run each after the tree is generated. Prints one JSON object per shape.
 *
 *   npm run build && node scripts/bench/dry-run-large.mjs [--files 1000000] [--shapes flat,one-folder]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchContext } from './context.mjs';
import { measure } from './lib/proc.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const files = Number(option('--files', '1000000'));
const shapes = option('--shapes', 'flat,one-folder').split(',');
const ctx = new BenchContext({ quick: false, log: (line) => console.error(line) });
// A dry run makes no request: any endpoint will do.
const offline = { config: { api: { endpoint: 'http://127.0.0.1:9', appId: 'bench', accessToken: 'bench-token' }, knowledgeBase: { chatbotUserId: 1, adminUserId: 2, name: 'bench' } } };
try {
  for (const shape of shapes) {
    const tree = ctx.shapedTree(shape, files, 3);
    const config = ctx.writeConfig({ name: `large-${shape}`, sandbox: offline, folder: tree.root, stateDir: path.join(ctx.tmp, `state-large-${shape}`) });
    const load = [os.loadavg()[0]];
    const out = path.join(ctx.tmp, `large-${shape}.json`);
    const dry = await measure(ctx.node, [ctx.cli, 'sync', '--config', config, '--dry-run', '--json'], { stdout: out, timeoutMs: 3 * 3600_000, sampleRssMs: 250, allowFail: true });
    const counts = JSON.parse(fs.readFileSync(out, 'utf8')).counts;
    fs.rmSync(out);
    const find = await measure('find', [tree.root, '-type', 'f', '-printf', '%s %T@\n'], { timeoutMs: 3600_000 });
    const sha = await measure('sh', ['-c', `find '${tree.root}' -type f -print0 | xargs -0 sha256sum > /dev/null`], { timeoutMs: 3 * 3600_000 });
    load.push(os.loadavg()[0]);
    const row = { shape, files: tree.files, folders: tree.folders, new: counts.new, dryRunMs: Math.round(dry.wallMs), dryRunMaxRssMiB: Math.round(dry.maxRssKb / 1024), findMs: Math.round(find.wallMs), sha256sumMs: Math.round(sha.wallMs), vsSha256sum: Number((dry.wallMs / sha.wallMs).toFixed(2)), loadAverage: load.map((l) => Number(l.toFixed(2))) };
    console.log(JSON.stringify(row));
    ctx.dropShapedTree(shape, files);
  }
} finally {
  await ctx.close();
}
