// `npm run breaks`: breaks each rule of the list below on purpose, one at a time, with a one-line change to the source,
// runs the tests named for it, and checks that at least one of them fails; then puts the file back as it was (copied
// aside first, copied back after, and compared byte for byte). A break that leaves its tests green is a rule no test
// holds. docs/MUTATION.md lists the breaks and the tests that catch them.
//
//   node scripts/rule-breaks.mjs            every break
//   node scripts/rule-breaks.mjs 3 7        breaks 3 and 7
//   node scripts/rule-breaks.mjs --list     the list, without running anything
//
// Not part of `npm test`: it runs the named test files once per break (a few minutes on 2 cores).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BREAKS } from './mutation/rule-breaks.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs vitest on `tests`; the exit code and the failed tests (" FAIL  file > suite > test" lines of the default reporter). */
function vitest(tests) {
  const child = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...tests, '--reporter=default'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${child.stdout}\n${child.stderr}`;
  let failed = [...new Set(output.split('\n').filter((line) => /^\s*FAIL\s/.test(line)).map((line) => line.replace(/^\s*FAIL\s+/, '').trim()))];
  if (failed.length === 0 && child.status !== 0) failed = [`vitest exited with ${child.status}: ${output.trim().split('\n').slice(-3).join(' ')}`];
  return { code: child.status, failed };
}

/** `npm run build` (the bundled CLI that some tests spawn). */
function build() {
  const child = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`npm run build failed: ${`${child.stdout}\n${child.stderr}`.trim().split('\n').slice(-5).join(' ')}`);
}

function run(breaks) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'lanying-kb-breaks-'));
  const results = [];
  try {
    for (const { index, item } of breaks) {
      const file = path.join(root, item.file);
      const original = readFileSync(file, 'utf8');
      const count = original.split(item.from).length - 1;
      const missing = item.tests.filter((t) => !existsSync(path.join(root, t)));
      if (missing.length) {
        results.push({ index, item, status: `stale: no test file ${missing.join(', ')}` });
        continue;
      }
      if (count !== 1) {
        results.push({ index, item, status: `stale: the text to change occurs ${count} times in ${item.file}` });
        continue;
      }
      const aside = path.join(scratch, `${index}-${path.basename(file)}`);
      copyFileSync(file, aside);
      let result;
      try {
        writeFileSync(file, original.replace(item.from, item.to));
        // A break whose tests run the built CLI (`build: true`) is built first, and the build is made again after.
        if (item.build) build();
        result = vitest(item.tests);
      } finally {
        copyFileSync(aside, file);
        if (item.build) build();
      }
      if (readFileSync(file, 'utf8') !== original) throw new Error(`${item.file} was not restored (a copy is at ${aside})`);
      results.push({ index, item, status: result.code === 0 ? 'SURVIVED' : 'caught', failed: result.failed });
      const last = results[results.length - 1];
      console.log(`${String(index).padStart(2)} ${last.status.padEnd(8)} ${item.rule}`);
      for (const name of last.failed.slice(0, 3)) console.log(`           ${name}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

const args = process.argv.slice(2);
const numbered = BREAKS.map((item, i) => ({ index: i + 1, item }));
if (args.includes('--list')) {
  for (const { index, item } of numbered) console.log(`${String(index).padStart(2)} ${item.issue ? '*' : ' '} ${item.file}: ${item.rule}`);
  process.exit(0);
}
const wanted = args.map(Number).filter((n) => Number.isInteger(n) && n > 0);
const selected = wanted.length ? numbered.filter(({ index }) => wanted.includes(index)) : numbered;
// The tests must pass before anything is broken, or a failure would prove nothing.
const baseline = vitest([...new Set(selected.flatMap(({ item }) => item.tests))].filter((t) => existsSync(path.join(root, t))));
if (baseline.code !== 0) {
  console.error(`the tests fail before any break:\n  ${baseline.failed.join('\n  ')}`);
  process.exit(2);
}
const results = run(selected);
const bad = results.filter((r) => r.status !== 'caught');
// Kept for scripts/mutation-report.mjs (docs/MUTATION.md); a partial run (some breaks only) is not written.
if (wanted.length === 0) {
  mkdirSync(path.join(root, 'reports'), { recursive: true });
  const out = results.map(({ index, item, status, failed }) => ({ index, rule: item.rule, file: item.file, issue: item.issue === true, status, caughtBy: failed ?? [] }));
  writeFileSync(path.join(root, 'reports', 'rule-breaks.json'), `${JSON.stringify({ date: new Date().toISOString(), results: out }, null, 2)}\n`);
}
console.log(`\n${results.length - bad.length} of ${results.length} breaks caught`);
for (const r of bad) console.log(`  ${r.index}: ${r.status}: ${r.item.rule}`);
process.exit(bad.length ? 1 : 0);
