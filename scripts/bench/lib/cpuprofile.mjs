/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and inclusive ("total") time
 * per function, as milliseconds and percentages of the profile's duration.
 */
import fs from 'node:fs';
import path from 'node:path';

function label(frame, root) {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  let file = frame.url.replace(/^file:\/\//, '');
  if (root && file.startsWith(root)) file = path.relative(root, file);
  file = file.replace(/^.*node_modules\//, 'node_modules/');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

/**
 * For the top-level code of a module (an anonymous function at line 0): its package (`undici`, `zod`, ...) or,
 * for the project's own code, `lanying-kb (dist/...)`; undefined for any other frame.
 */
function packageOfModuleFrame(frame, root) {
  if (frame.functionName || frame.lineNumber !== 0 || !frame.url || frame.url.startsWith('node:')) return undefined;
  const file = frame.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (m) return m[1];
  if (root && file.startsWith(root)) return 'lanying-kb (its own modules)';
  return undefined;
}

/**
 * @param {string} file a .cpuprofile
 * @param {{ root?: string, top?: number, pick?: string[] }} options `root` shortens paths; `top` rows per table
 *   (default 15); `pick`: function names (the part before the file) whose inclusive time to report
 */
export function summariseProfile(file, { root, top = 15, pick = [] } = {}) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample counts weighted by the time deltas.
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const totalUs = profile.endTime - profile.startTime;
  const selfBy = new Map();
  const inclBy = new Map();
  /** Module loading: inclusive time under the top-level code of each package's modules. */
  const loadBy = new Map();
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    const own = label(node.callFrame, root);
    selfBy.set(own, (selfBy.get(own) ?? 0) + us);
    // Inclusive: each distinct function on the stack once.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(nodes.get(cur).callFrame, root);
      if (seen.has(l)) continue;
      seen.add(l);
      inclBy.set(l, (inclBy.get(l) ?? 0) + us);
    }
    const seenPkg = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const pkg = packageOfModuleFrame(nodes.get(cur).callFrame, root);
      if (!pkg || seenPkg.has(pkg)) continue;
      seenPkg.add(pkg);
      loadBy.set(pkg, (loadBy.get(pkg) ?? 0) + us);
    }
  }
  const rows = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ fn, ms: Math.round(us / 100) / 10, pct: Math.round((1000 * us) / totalUs) / 10 }));
  const picked = pick.map((name) => {
    let us = 0;
    let fn = name;
    // The largest inclusive entry of a function of that name (a name can appear in several files).
    for (const [l, v] of inclBy) {
      if ((l === name || l.startsWith(`${name} `)) && v > us) {
        us = v;
        fn = l;
      }
    }
    return { fn, ms: Math.round(us / 100) / 10, pct: Math.round((1000 * us) / totalUs) / 10 };
  });
  return { file: path.basename(file), durationMs: Math.round(totalUs / 1000), self: rows(selfBy), total: rows(inclBy), picked, moduleLoading: rows(loadBy) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of process.argv.slice(2)) {
    const s = summariseProfile(f, { root: process.cwd(), top: Number(process.env.TOP ?? 25) });
    console.log(`${s.file}: ${s.durationMs} ms`);
    console.log('-- self');
    for (const r of s.self) console.log(`${String(r.pct).padStart(5)}% ${String(r.ms).padStart(8)} ms  ${r.fn}`);
    console.log('-- module loading (by package)');
    for (const r of s.moduleLoading) console.log(`${String(r.pct).padStart(5)}% ${String(r.ms).padStart(8)} ms  ${r.fn}`);
    console.log('-- total');
    for (const r of s.total) console.log(`${String(r.pct).padStart(5)}% ${String(r.ms).padStart(8)} ms  ${r.fn}`);
  }
}
