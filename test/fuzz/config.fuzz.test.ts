import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { tmpDir } from '../helpers/tmp-dir.js';
import { assertTypedFailure, bounded } from './fuzz-helpers.js';

const valid = {
  api: { endpoint: 'https://api.example.test', appId: 'app1', accessToken: '${TOKEN}', timeoutMs: 1000 },
  knowledgeBase: { chatbotUserId: 11, adminUserId: 12, name: 'kb' },
  sources: [
    { type: 'folder', name: 'docs', path: './docs', maxFileSize: '1MiB' },
    { type: 'urls', name: 'web', urls: ['https://example.test/'], refreshInterval: '15m' },
  ],
  daemon: { reconcileInterval: '1h', http: { port: 0 } },
};

/** A valid configuration with one value somewhere replaced by anything. */
const mutated = fc
  .tuple(fc.constantFrom(...leafPaths(valid)), fc.oneof(fc.jsonValue(), fc.anything(), fc.string({ unit: 'binary' })))
  .map(([where, value]) => setPath(structuredClone(valid), where, value));

function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]))];
}

function setPath(target: Record<string, unknown>, where: (string | number)[], value: unknown): unknown {
  if (where.length === 0) return value;
  let node: Record<string | number, unknown> = target;
  for (const key of where.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[where.at(-1) as string | number] = value;
  return target;
}

function expectResultOrConfigError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assertTypedFailure(error, ConfigError);
  }
}

// YAML pieces that reach the parser's corners: anchors, aliases, merge keys, tags, flow and block collections.
const yamlPiece = fc.oneof(
  fc.constantFrom('api:', '  endpoint: https://api.example.test', '  appId: a', '  accessToken: t', 'sources:', '  - type: urls', '    name: w', '    urls: [https://a.test/]'),
  fc.constantFrom('&a', '*a', '<<: *a', '!!str', '!!binary', '!custom', '---', '...', '? ', ': ', '- ', '[', ']', '{', '}', '|', '>', '#', '"', "'", '\t', '%YAML 1.2'),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const yamlText = fc
  .array(fc.tuple(yamlPiece, fc.constantFrom('\n', '\n  ', ' ', '')), { maxLength: 40 })
  .map((pieces) => pieces.map(([piece, separator]) => piece + separator).join(''));

describe('fuzz: configuration files', () => {
  it('parseConfig: any value anywhere gives a resolved config or a ConfigError', () => {
    fc.assert(
      fc.property(mutated, (raw) => expectResultOrConfigError(() => parseConfig(raw, { baseDir: '/x', filepath: '/x/c.json', env: { TOKEN: 't' } }))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.anything(), (raw) => expectResultOrConfigError(() => parseConfig(raw, { baseDir: '/x', env: {} }))),
      { numRuns: 200 },
    );
  });

  it('loadConfig: JSON and YAML text of any shape gives a resolved config or a ConfigError, in bounded time', async () => {
    const dir = tmpDir();
    let n = 0;
    const load = async (ext: string, text: string) => {
      const file = path.join(dir, `c${n++}${ext}`);
      writeFileSync(file, text);
      await bounded(() => loadConfig({ file, env: { TOKEN: 't' } }).then(
        () => undefined,
        (error: unknown) => assertTypedFailure(error, ConfigError),
      ));
    };
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), mutated.map((c) => JSON.stringify(c) ?? ''), fc.string({ unit: 'binary' })), (text) => load('.json', text)),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(yamlText, (text) => load('.yaml', text)),
      { numRuns: 200 },
    );
  });
});
