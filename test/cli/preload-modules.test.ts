import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** The files that `preloadLaterModules` loads modules through: its own, and the loaders it calls. */
const PRELOADERS = ['cli/preload-modules.ts', 'api/lazy-modules.ts'];

/**
 * Where a lazy `import()` is not the daemon's business: the CLI's command wiring (a running `watch` loads no other
 * command) and the sandbox (never part of a daemon).
 */
const NOT_THE_DAEMONS = [/^cli\//, /^sandbox\//];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The modules a file imports lazily (`import('...')` with a literal name), as package names or source paths. */
function lazyImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)]
    .map((match) => match[1] as string)
    .filter((specifier) => !specifier.startsWith('node:'))
    .map((specifier) => (specifier.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, '.ts') : specifier));
}

describe('the daemon preloads its lazy modules', () => {
  it('every module library code imports lazily is loaded by preloadLaterModules (an upgrade replaces their chunk files)', () => {
    const preloaded = new Set(PRELOADERS.flatMap((file) => lazyImports(path.join(SRC, file))));
    const lazy = sourceFiles(SRC)
      .map((file) => path.relative(SRC, file))
      .filter((file) => !PRELOADERS.includes(file) && !NOT_THE_DAEMONS.some((pattern) => pattern.test(file)))
      .flatMap((file) => lazyImports(path.join(SRC, file)).map((module) => ({ file, module })));
    // The scan finds the known ones (a scan that finds nothing would hold nothing).
    expect(lazy.map((l) => l.module)).toEqual(expect.arrayContaining(['yaml', 'chokidar', 'sources/urls/fetch.ts', 'util/html-text.ts']));
    expect(lazy.filter((l) => !preloaded.has(l.module))).toEqual([]);
  });
});
