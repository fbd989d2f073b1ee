import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as admin from '../src/admin/index.js';
import * as daemon from '../src/daemon/index.js';
import * as core from '../src/index.js';
import * as sandbox from '../src/sandbox/index.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  engines: { node: string };
  exports: Record<string, Record<string, string> | string>;
  dependencies: Record<string, string>;
};

const ENTRIES = {
  'lanying-kb': { module: core as Record<string, unknown>, names: ['createClient', 'LanyingClient', 'loadConfig', 'parseConfig', 'configJsonSchema', 'syncOnce', 'SyncEngine', 'StateStore', 'parseCompletionNotice', 'parseSendReply', 'notifyRun', 'ApiError', 'AuthError', 'ConfigError'] },
  'lanying-kb/daemon': { module: daemon as Record<string, unknown>, names: ['startDaemon', 'createLogger', 'silentLogger'] },
  'lanying-kb/admin': { module: admin as Record<string, unknown>, names: ['applyProvision', 'checkPushImage', 'sendFileMessage'] },
  'lanying-kb/sandbox': { module: sandbox as Record<string, unknown>, names: ['startSandbox', 'formatSandboxBanner'] },
};

describe('the entry points', () => {
  it.each(Object.entries(ENTRIES))('%s exports what the README documents', (_entry, { module, names }) => {
    for (const name of names) expect(typeof module[name], name).toBe('function');
  });

  it('the core leaves the daemon, the admin pipelines and the sandbox to their own entry points', () => {
    expect(core.VERSION).toBe(manifest.version);
    for (const name of [...ENTRIES['lanying-kb/daemon'].names, ...ENTRIES['lanying-kb/admin'].names, ...ENTRIES['lanying-kb/sandbox'].names]) {
      expect(name in core, name).toBe(false);
    }
  });

  it('every entry point has types, import and a default condition (require() of ESM)', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './admin', './daemon', './package.json', './sandbox']);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (subpath === './package.json') continue;
      expect(Object.keys(target as Record<string, string>), subpath).toEqual(['types', 'import', 'default']);
    }
  });
});

describe('the packed package', () => {
  /** The tarball unpacked into a consumer project whose node_modules holds only the production dependencies. */
  let consumer: string;
  let pkg: string;

  let out: string;
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  beforeAll(() => {
    out = realpathSync(mkdtempSync(path.join(tmpdir(), 'lkb-pack-')));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop() as string;
    execFileSync('tar', ['-xzf', path.join(out, tarball), '-C', out]);
    consumer = path.join(out, 'consumer');
    const modules = path.join(consumer, 'node_modules');
    mkdirSync(modules, { recursive: true });
    pkg = path.join(modules, 'lanying-kb');
    renameSync(path.join(out, 'package'), pkg);
    // What `npm install` of the tarball would bring: the production dependency tree (no devDependencies, so no
    // @types/* of ours), linked from this checkout; plus the consumer's own typescript and @types/node.
    const prod = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    const top = new Set<string>(['typescript', '@types/node']);
    for (const dir of prod) {
      const rel = path.relative(path.join(root, 'node_modules'), dir);
      if (!rel || rel.startsWith('..') || rel.includes(`${path.sep}node_modules${path.sep}`)) continue;
      top.add(rel.split(path.sep).slice(0, rel.startsWith('@') ? 2 : 1).join('/'));
    }
    for (const name of top) {
      mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
      symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name));
    }
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  }, 120_000);

  it('holds the built CLI with its shebang, the declarations, LICENSE and the shipped files; no source maps or sources', () => {
    for (const file of ['dist/cli/bundle/lanying-kb.js', 'dist/index.js', 'dist/index.d.ts', 'dist/daemon/index.js', 'dist/admin/index.d.ts', 'dist/sandbox/index.js', 'lanying-kb.config.example.json', 'lanying-kb.schema.json', 'README.md', 'LICENSE', 'systemd/lanying-kb.service', 'systemd/lanying-kb@.service', 'systemd/user/lanying-kb.service']) {
      expect(existsSync(path.join(pkg, file)), file).toBe(true);
    }
    expect(readFileSync(path.join(pkg, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    expect(manifest.license).toBe('MIT');
    expect(existsSync(path.join(pkg, 'src'))).toBe(false);
    expect(existsSync(path.join(pkg, 'test'))).toBe(false);
    const files = (readdirSync(path.join(pkg, 'dist'), { recursive: true }) as string[]).map(String);
    // Maps would point at src/, which is not shipped.
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const file of files.filter((f) => f.endsWith('.js'))) expect(readFileSync(path.join(pkg, 'dist', file), 'utf8'), file).not.toContain('sourceMappingURL');
    expect(readFileSync(path.join(pkg, 'dist/cli/bundle/lanying-kb.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const packed = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { bin: Record<string, string>; engines: { node: string } };
    expect(packed.bin['lanying-kb']).toBe('dist/cli/bundle/lanying-kb.js');
    expect(packed.engines.node).toBe('>=20.19');
  });

  it('the packed bin runs', () => {
    const version = spawnSync(process.execPath, [path.join(pkg, 'dist/cli/bundle/lanying-kb.js'), '--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(manifest.version);
  });

  it('its types compile for a consumer with skipLibCheck: false, strict, and no devDependencies of ours', () => {
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: ['node'] }, files: ['consumer.ts'] }),
    );
    writeFileSync(
      path.join(consumer, 'consumer.ts'),
      [
        "import * as core from 'lanying-kb';",
        "import * as daemon from 'lanying-kb/daemon';",
        "import * as admin from 'lanying-kb/admin';",
        "import * as sandbox from 'lanying-kb/sandbox';",
        "import type { ResolvedConfig, SyncReport } from 'lanying-kb';",
        "import type { Daemon, DaemonStatus } from 'lanying-kb/daemon';",
        "import type { Sandbox, SandboxOptions } from 'lanying-kb/sandbox';",
        'export async function use(config: ResolvedConfig): Promise<[SyncReport, Daemon, Sandbox, DaemonStatus]> {',
        '  const client: core.LanyingClient = core.createClient(config);',
        "  void client; void admin.applyProvision; void core.parseCompletionNotice('');",
        '  const options: SandboxOptions = {};',
        '  const box = await sandbox.startSandbox(options);',
        '  const running = await daemon.startDaemon({ config, logger: daemon.silentLogger() });',
        '  return [await core.syncOnce({ config }), running, box, running.status()];',
        '}',
        '',
      ].join('\n'),
    );
    const tsc = spawnSync(process.execPath, [path.join(consumer, 'node_modules/typescript/bin/tsc'), '-p', consumer], { cwd: consumer, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 120_000);

  it('require() works for every entry point (require of ESM, Node 20.19+)', () => {
    const script = "for (const e of ['lanying-kb', 'lanying-kb/daemon', 'lanying-kb/admin', 'lanying-kb/sandbox']) console.log(e, Object.keys(require(e)).length > 0);";
    const run = spawnSync(process.execPath, ['--no-warnings', '-e', script], { cwd: consumer, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(['lanying-kb true', 'lanying-kb/daemon true', 'lanying-kb/admin true', 'lanying-kb/sandbox true']);
  });

  it('importing the core loads neither the daemon nor the sandbox (nor busboy, chokidar, prom-client, pino)', () => {
    // A module hook reports every module the import loads.
    const hooks = `let port; export function initialize(data) { port = data.port; } export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
    const script = `
      import { register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const urls = [];
      // One more module, loaded last (below): its URL arrives after those of every module the import loaded.
      const last = 'data:text/javascript,export default 1';
      let lastSeen;
      const seen = new Promise((resolve) => (lastSeen = resolve));
      port1.on('message', (url) => (url === last ? lastSeen() : urls.push(url)));
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), { data: { port: port2 }, transferList: [port2] });
      const entry = process.argv[1];
      await import(entry);
      await import(last);
      await seen;
      port1.close();
      console.log(JSON.stringify(urls));
    `;
    const loaded = (entry: string) => {
      const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, entry], { cwd: consumer, encoding: 'utf8', timeout: 60_000 });
      expect(run.stderr).toBe('');
      return (JSON.parse(run.stdout) as string[]).map((u) => u.replace(/^file:\/\/.*?\/node_modules\//, ''));
    };
    const coreModules = loaded('lanying-kb');
    expect(coreModules).toContain('lanying-kb/dist/index.js');
    expect(coreModules.filter((u) => /^lanying-kb\/dist\/(daemon|sandbox)\//.test(u) || /^(busboy|chokidar|prom-client|pino)\//.test(u))).toEqual([]);
    // The hook sees them when they are loaded.
    expect(loaded('lanying-kb/sandbox').some((u) => u.startsWith('lanying-kb/dist/sandbox/'))).toBe(true);
    expect(loaded('lanying-kb/daemon').some((u) => u.startsWith('lanying-kb/dist/daemon/'))).toBe(true);
  });
});

describe('what the README says about the package', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  it('names the Node.js lines .ci/run tests, and the expected duration of `npm test`', () => {
    const ci = readFileSync(path.join(root, '.ci/run'), 'utf8');
    const lines = (/LANYING_KB_CI_NODE_LINES-([\d ]+)\}/.exec(ci)?.[1] ?? '').split(' ').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(readme).toMatch(new RegExp(`Node\\.js ${line}\\b`));
    expect(readme).toContain(`suite on Node.js 20, ${lines.join(' and ')}.`);
    expect(manifest.engines.node).toBe('>=20.19');
    expect(readme).toMatch(/^npm test +# .*\(about \d+ minutes?[^)]*\)$/m);
  });

  it('`npm test` writes its report where git ignores it (test-results/)', () => {
    const check = spawnSync('git', ['check-ignore', '-q', 'test-results/vitest.json'], { cwd: root });
    expect(check.status).toBe(0);
  });
});
