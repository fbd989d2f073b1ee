/**
 * Bundles the built CLI (`dist/cli/main.js`, from tsc) into `dist/cli/bundle/`: the `lanying-kb` command's entry
 * `lanying-kb.js` and the chunks its lazily loaded commands share. `npm run build` runs it after tsc.
 *
 * Why: a command spends most of its start-up resolving, reading and linking modules, one file at a time (a one-file
 * dry run opens 273 files of ours and of the dependencies, 52 from the bundle). That dry run took 290-370 ms from
 * `dist/cli/main.js` and 200-230 ms from the bundle, with 8 MB less peak RSS (docs/BENCHMARKS.md, notes). The
 * library's entry points (`lanying-kb`, `lanying-kb/daemon`, ...) stay the unbundled modules of tsc.
 *
 * What stays outside the bundle:
 * - better-sqlite3 (a native addon that finds its `.node` file from its own folder);
 * - modules loaded at run time by a path: the fs worker thread (`fs-worker-thread.js`), cosmiconfig's `Explorer`
 *   (through `createRequire`), `package.json` and the JSON schema. Their `import.meta.url` is rewritten to the URL
 *   of the module as tsc wrote it, so each path resolves as it did before bundling.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'cli', 'bundle');
const entry = path.join(root, 'dist', 'cli', 'main.js');
const dist = path.join(root, 'dist') + path.sep;

/** `import.meta.url` of a module of `dist/` as the URL of that module, relative to the bundle (which moves with it). */
const moduleUrls = {
  name: 'module-urls',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(dist)) return undefined;
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'js' };
      const relative = path.relative(outdir, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

fs.rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: { 'lanying-kb': entry },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  external: ['better-sqlite3'],
  // The CommonJS dependencies call require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __lanyingKbCreateRequire } from 'node:module';\nconst require = __lanyingKbCreateRequire(import.meta.url);" },
  plugins: [moduleUrls],
  logLevel: 'warning',
});
