import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as library from '../src/index.js';
import { tmpDir } from './helpers/tmp-dir.js';

const root = fileURLToPath(new URL('../', import.meta.url));

describe('the package', () => {
  it('exports the library API the README documents', () => {
    for (const name of ['createClient', 'LanyingClient', 'loadConfig', 'parseConfig', 'syncOnce', 'SyncEngine', 'startSandbox', 'applyProvision', 'notifyRun', 'ApiError', 'AuthError', 'ConfigError']) {
      expect(typeof (library as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(library.VERSION).toBe(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  });

  it('npm pack holds the built CLI with its shebang, the declarations and the shipped files; the packed bin runs', () => {
    const out = tmpDir('lkb-pack-');
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop() as string;
    execFileSync('tar', ['-xzf', path.join(out, tarball), '-C', out]);
    const pkg = path.join(out, 'package');
    for (const file of ['dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'lanying-kb.config.example.json', 'lanying-kb.schema.json', 'README.md', 'systemd/lanying-kb.service']) {
      expect(existsSync(path.join(pkg, file)), file).toBe(true);
    }
    expect(existsSync(path.join(pkg, 'src'))).toBe(false);
    expect(existsSync(path.join(pkg, 'test'))).toBe(false);
    expect(readFileSync(path.join(pkg, 'dist/cli/main.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { bin: Record<string, string>; engines: { node: string } };
    expect(manifest.bin['lanying-kb']).toBe('dist/cli/main.js');
    expect(manifest.engines.node).toBe('>=20.19');
    // Run the packed CLI with this checkout's installed dependencies.
    symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
    const version = spawnSync(process.execPath, [path.join(pkg, 'dist/cli/main.js'), '--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(manifest && JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')).version);
  });
});
