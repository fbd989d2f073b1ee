// The benchmark's helpers (scripts/bench/): generated trees, statistics, profile summaries and the report.
// No timing is asserted here: the benchmark itself reports ratios measured side by side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (rel: string): Promise<any> => import(pathToFileURL(path.join(root, rel)).href);

const tmpDirs: string[] = [];
afterEach(() => {
  for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('bench helpers', () => {
  it('generates a deterministic tree of distinct small .md/.txt files', async () => {
    const { generateTree } = await load('scripts/bench/lib/tree.mjs');
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tree-'));
    tmpDirs.push(base);
    const a = generateTree(path.join(base, 'a'), { folders: 3, perFolder: 7, seed: 5 });
    const b = generateTree(path.join(base, 'b'), { folders: 3, perFolder: 7, seed: 5 });
    expect(a.files).toBe(21);
    const files = (root: string) =>
      fs
        .readdirSync(root)
        .sort()
        .flatMap((d) => fs.readdirSync(path.join(root, d)).sort().map((f) => path.join(d, f)));
    expect(files(a.root)).toEqual(files(b.root));
    const contents = new Set<string>();
    let bytes = 0;
    for (const rel of files(a.root)) {
      expect(rel).toMatch(/\.(md|txt)$/);
      const body = fs.readFileSync(path.join(a.root, rel));
      expect(body.length).toBeGreaterThanOrEqual(200);
      expect(body.length).toBeLessThanOrEqual(4000);
      expect(body.equals(fs.readFileSync(path.join(b.root, rel)))).toBe(true);
      contents.add(body.toString('utf8'));
      bytes += body.length;
    }
    expect(contents.size).toBe(21);
    expect(bytes).toBe(a.bytes);
  });

  it.each(['flat', 'nested', 'one-folder'])('generates a %s tree of mixed types with large files, every file distinct', async (shape) => {
    const { generateShapedTree } = await load('scripts/bench/lib/tree.mjs');
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-shape-'));
    tmpDirs.push(base);
    const tree = generateShapedTree(path.join(base, shape), { shape, files: 400, seed: 3, largeFiles: 1 });
    const files = fs.readdirSync(tree.root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
    expect(files).toHaveLength(400);
    expect(tree.files).toBe(400);
    const exts = new Set(files.map((f) => path.extname(f)));
    expect([...exts].sort()).toEqual(['.csv', '.html', '.md', '.txt']);
    const large = files.filter((f) => fs.statSync(f).size > 1024 * 1024);
    expect(large.map((f) => fs.statSync(f).size)).toEqual([20 * 1024 * 1024]);
    const hashes = new Set(files.filter((f) => !large.includes(f)).map((f) => fs.readFileSync(f, 'utf8')));
    expect(hashes.size).toBe(399);
    const depths = new Set(files.map((f) => path.relative(tree.root, path.dirname(f)).split(path.sep).length));
    if (shape === 'nested') expect([...depths].every((d) => d >= 3 && d <= 5)).toBe(true);
    if (shape === 'one-folder') expect(tree.folders).toBe(1);
    if (shape === 'flat') expect(tree.folders).toBe(4);
  });

  it('draws log-log and RSS-over-time charts as SVG', async () => {
    const { logLogFigure, rssOverTime } = await load('scripts/bench/lib/svg-plot.mjs');
    const svg = logLogFigure({
      title: 'flat',
      panels: [
        { title: 'wall time', unit: 'ms', series: [{ name: 'no-op', points: [[1e4, 300], [1e5, 900]] }, { name: 'find', points: [[1e4, 30], [1e5, 250]], dashed: true }] },
        { title: 'peak RSS', unit: 'MiB', series: [{ name: 'no-op', points: [[1e4, 90], [1e5, 110]] }, { name: 'find', points: [[1e4, 3], [1e5, 3]] }] },
      ],
    });
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg).toContain('100k');
    expect(rssOverTime({ title: 'rss', series: [{ name: 'first sync', points: [[0, 40_000], [500, 90_000]] }] })).toContain('<polyline');
  });

  it('summarises samples', async () => {
    const { summarise, ratio } = await load('scripts/bench/lib/stats.mjs');
    const s = summarise([5, 1, 3, 4, 2]);
    expect(s).toMatchObject({ n: 5, min: 1, median: 3, mean: 3, max: 5 });
    expect(summarise([1, 2, 3, 4]).median).toBe(2.5);
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeNull();
  });

  it('summarises a CPU profile by self time, inclusive time and module loading', async () => {
    const { summariseProfile } = await load('scripts/bench/lib/cpuprofile.mjs');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prof-'));
    tmpDirs.push(dir);
    const frame = (functionName: string, url = '', lineNumber = 5) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '1' });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('', 'file:///x/node_modules/pkg/index.js', 0), children: [3] },
        { id: 3, callFrame: frame('compile'), children: [] },
        { id: 4, callFrame: frame('work', 'file:///x/dist/a.js'), children: [] },
      ],
      startTime: 0,
      endTime: 4000,
      samples: [3, 3, 4, 4],
      timeDeltas: [0, 1000, 1000, 1000, 1000],
    };
    const file = path.join(dir, 'p.cpuprofile');
    fs.writeFileSync(file, JSON.stringify(profile));
    const s = summariseProfile(file, { pick: ['work'] });
    expect(s.durationMs).toBe(4);
    expect(s.self.map((r: { fn: string }) => r.fn)).toContain('compile');
    expect(s.picked[0]).toMatchObject({ fn: 'work /x/dist/a.js:6' });
    expect(s.moduleLoading[0]).toMatchObject({ fn: 'pkg' });
  });

  it('a partial run of (h) replaces its own cells and keeps the others with the commit they were measured at', async () => {
    const { withEarlierCells } = await load('scripts/bench/scaling.mjs');
    const previous = {
      commit: 'aaa1111',
      measuredAt: '2026-11-01T00:00:00.000Z',
      raw: {
        cells: {
          nested: { 10000: { files: 10000, tag: 'old nested 10k' } },
          flat: { 10000: { files: 10000, tag: 'old flat 10k', commit: 'bbb2222', measuredAt: '2026-11-02T00:00:00.000Z' }, 100000: { files: 100000, tag: 'old flat 100k' } },
        },
      },
    };
    const fresh = { flat: { 100000: { files: 100000, tag: 'new flat 100k', commit: 'ccc3333' }, 1000000: { files: 1000000, tag: 'new flat 1M', commit: 'ccc3333' } } };
    const { cells, sizes } = withEarlierCells(previous, fresh);
    expect(sizes).toEqual([10000, 100000, 1000000]);
    // In the order of the shapes, not of the runs.
    expect(Object.keys(cells)).toEqual(['flat', 'nested']);
    expect(cells.flat[10000]).toMatchObject({ tag: 'old flat 10k', commit: 'bbb2222', measuredAt: '2026-11-02T00:00:00.000Z' });
    expect(cells.flat[100000]).toMatchObject({ tag: 'new flat 100k', commit: 'ccc3333' });
    expect(cells.flat[1000000]).toMatchObject({ tag: 'new flat 1M' });
    // A cell from before cells carried their commit takes its result's.
    expect(cells.nested[10000]).toMatchObject({ tag: 'old nested 10k', commit: 'aaa1111', measuredAt: '2026-11-01T00:00:00.000Z' });
    // Nothing before: the fresh cells alone.
    expect(withEarlierCells(undefined, fresh).sizes).toEqual([100000, 1000000]);
  });

  it('renders whatever results exist, and lists planned benchmarks', async () => {
    const { renderReport } = await load('scripts/bench/report.mjs');
    const machine = { date: '2026-01-01T00:00:00.000Z', cpuModel: 'CPU', cores: 2, ramGiB: 24, node: 'v20', platform: 'Linux', tmpDir: '/tmp', tools: {} };
    const md: string = renderReport({
      quick: false,
      machine,
      results: {
        noop: {
          measuredAt: machine.date,
          met: false,
          summary: { head: ['files', 'ratio'], rows: [['100,000', '3.00x | x']] },
          why: 'Because.',
          sections: [{ title: 'Detail', text: 'Some text', table: { head: ['a'], rows: [[1]] } }],
        },
        custom: { title: 'Something new', goal: 'a goal', measuredAt: machine.date, met: true, summary: { head: ['x'], rows: [['y']] } },
      },
    });
    expect(md).toContain('## (a) No-op re-sync of an unchanged tree');
    expect(md).toContain('**Why the goal is missed.** Because.');
    expect(md).toContain('3.00x \\| x');
    expect(md).toContain('Something new');
    expect(md).toContain('## Not measured yet');
    expect(md).toContain('(e) Daemon');
    expect(md).not.toContain('## (b)');
  });
});
