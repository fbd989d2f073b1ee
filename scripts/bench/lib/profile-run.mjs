/**
 * One extra run of a CLI command under `node --cpu-prof`, summarised: where the time goes, by function
 * (self time and inclusive time), for the "why" of a missed goal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { summariseProfile } from './cpuprofile.mjs';
import { measure } from './proc.mjs';

/**
 * @param {import('../context.mjs').BenchContext} ctx
 * @param {string} name a folder name for the profile
 * @param {string[]} cliArgs arguments after the CLI path
 * @param {{ pick?: string[], top?: number }} [options] `pick`: function names whose inclusive time to report
 */
export async function profileCli(ctx, name, cliArgs, { pick = [], top = 12 } = {}) {
  const dir = path.join(ctx.tmp, 'profiles', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const run = await measure(ctx.node, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250', ctx.cli, ...cliArgs]);
  // The main thread's profile is the longest one (a stat worker thread writes its own).
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const summaries = files.map((f) => summariseProfile(f, { root: ctx.repoRoot, top, pick }));
  summaries.sort((a, b) => b.durationMs - a.durationMs);
  const main = summaries[0];
  return { command: `node --cpu-prof lanying-kb ${cliArgs.join(' ')}`, wallMs: Math.round(run.wallMs), threads: summaries.length, ...main };
}

/** Table rows for a profile's picked functions. */
export function pickedRows(profile) {
  return (profile.picked ?? []).map((p) => [`\`${p.fn}\``, `${p.ms} ms`, `${p.pct} %`]);
}

/** Table rows for a profile's top self-time functions. */
export function selfRows(profile, n = 10) {
  return profile.self.slice(0, n).map((p) => [`\`${p.fn}\``, `${p.ms} ms`, `${p.pct} %`]);
}
