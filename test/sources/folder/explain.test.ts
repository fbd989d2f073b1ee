import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedFolderSource } from '../../../src/sources/folder/config.js';
import { folderExplain, folderLeftOut } from '../../../src/sources/folder/left-out.js';
import { PathRules } from '../../../src/sources/folder/path-filter.js';
import { scanFolder } from '../../../src/sources/folder/scan.js';
import { tmpDir, writeFile } from '../../helpers/tmp-dir.js';

function source(root: string, overrides: Partial<ResolvedFolderSource> = {}): ResolvedFolderSource {
  return { type: 'folder', name: 'docs', path: root, include: undefined, exclude: [], followSymlinks: false, maxFileSize: 1e9, metadata: {}, chatbotUserId: undefined, enabled: true, linkBase: undefined, ...overrides } as ResolvedFolderSource;
}

describe('the rules explain themselves (PathRules.explainDir / explainFile)', () => {
  const root = '/srv/docs';
  const rules = (include: string[] | undefined, exclude: string[], state = '/srv/docs/state') => new PathRules({ path: root, include, exclude }, [state]);

  it.each([
    // [include, exclude, kbignore, key, isDir, expected rule (or undefined: kept)]
    [undefined, [], undefined, '.git', true, { kind: 'hidden' }],
    [undefined, [], undefined, '.notes.md', false, { kind: 'hidden' }],
    [undefined, [], undefined, 'state', true, { kind: 'state-folder' }],
    [undefined, ['drafts/'], undefined, 'drafts', true, { kind: 'exclude', index: 0, pattern: 'drafts/' }],
    [undefined, ['drafts/'], undefined, 'drafts', false, undefined], // a file named drafts: dir-only pattern
    [undefined, ['*.tmp', 'old/**'], undefined, 'a/b.tmp', false, { kind: 'exclude', index: 0, pattern: '*.tmp' }],
    [undefined, ['*.tmp', 'old/**'], undefined, 'old/x.md', false, { kind: 'exclude', index: 1, pattern: 'old/**', via: 'old' }],
    [undefined, ['archive', '!archive/keep/**'], undefined, 'archive/other.md', false, { kind: 'exclude', index: 0, pattern: 'archive', via: 'archive' }],
    [undefined, ['archive', '!archive/keep/**'], undefined, 'archive/keep/a.md', false, undefined],
    [['docs/**'], [], undefined, 'other', true, { kind: 'include', reach: true }],
    [['**/*.md'], [], undefined, 'a.txt', false, { kind: 'include', reach: false }],
    [['**/*.md', '!secret.md'], [], undefined, 'secret.md', false, { kind: 'include-exception', index: 1, pattern: '!secret.md' }],
    [undefined, [], '# c\n\n*.log\n!keep.log\n', 'x.log', false, { kind: 'kbignore', file: '.kbignore', line: 3, pattern: '*.log' }],
    [undefined, [], '*.log\n!keep.log\n', 'keep.log', false, undefined],
    [undefined, [], 'build/\n', 'build', true, { kind: 'kbignore', file: '.kbignore', line: 1, pattern: 'build/' }],
  ] as const)('include %j exclude %j .kbignore %j: %s (folder: %s)', (include, exclude, kbignore, key, isDir, expected) => {
    const r = rules(include as string[] | undefined, [...exclude]);
    const slash = key.lastIndexOf('/');
    let state = r.rootState(kbignore);
    // Walk down like the scan: every folder above must be kept.
    const parts = key.split('/');
    for (let i = 0; i < parts.length - 1; i++) {
      const dirKey = parts.slice(0, i + 1).join('/');
      const child = r.childDir(state, dirKey, parts[i] as string);
      if (!child) {
        expect(expected).toMatchObject({ via: dirKey });
        return;
      }
      state = child;
    }
    const name = slash < 0 ? key : key.slice(slash + 1);
    const realKey = key === 'state' ? '/srv/docs/state' : undefined;
    const rule = isDir ? r.explainDir(state, key, name, realKey) : r.explainFile(state, key, name);
    expect(rule).toEqual(expected);
    // An explanation exactly when the rule the scan applies leaves the path out.
    const kept = isDir ? r.childDir(state, key, name, realKey) !== undefined : r.includesFileIn(state, key, name);
    expect(kept).toBe(expected === undefined);
  });

  it('explains exactly the paths a scan leaves out (random trees and rules)', async () => {
    const names = ['a', 'b', 'drafts', 'old', '.hid'];
    const exts = ['.md', '.txt', '.tmp', ''];
    const patternChoices = ['*.tmp', 'drafts/', 'old/**', '!old/keep*', 'a', '!a/b.md', 'b/', '**/*.md', '!*.txt'];
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.constantFrom(...names), fc.constantFrom(...names), fc.constantFrom('keep', 'x', 'y'), fc.constantFrom(...exts)), { minLength: 1, maxLength: 12 }),
        fc.subarray(patternChoices),
        fc.subarray(patternChoices),
        fc.option(fc.constantFrom('*.txt\n', 'b/\n!b/keep.md\n', '# none\n'), { nil: undefined }),
        async (files, include, exclude, kbignore) => {
          const root = tmpDir('lkb-explain-');
          const keys = files.map(([d1, d2, base, ext]) => `${d1}/${d2}/${base}${ext}`);
          for (const key of keys) writeFile(root, key, 'x');
          if (kbignore !== undefined) writeFile(root, 'a/.kbignore', kbignore);
          const src = source(root, { include: include.length ? include : undefined, exclude });
          const scanned = new Set((await scanFolder(src)).map((f) => f.key));
          for (const key of keys) {
            const answer = folderExplain(src, path.join(root, key), { excludeDirs: [] });
            expect(answer?.leftOut === undefined, `${key}: ${JSON.stringify(answer)}`).toBe(scanned.has(key));
          }
          // The listing names every left-out file or a folder above it, and nothing the scan reports.
          const listed = [];
          for await (const p of folderLeftOut(src, { excludeDirs: [] })) listed.push(p);
          for (const key of keys) {
            const covered = listed.some((p) => (p.isDir ? key.startsWith(`${p.key}/`) : p.key === key));
            expect(covered, key).toBe(!scanned.has(key));
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('folderExplain (lanying-kb why)', () => {
  it('names the folder above that is left out, the rule and file and line of a .kbignore, and why a document is skipped', () => {
    const root = realpathSync(tmpDir());
    writeFile(root, 'guide/.kbignore', '# generated\n*.bak.md\n');
    writeFile(root, 'guide/a.bak.md', 'x');
    writeFile(root, 'drafts/deep/x.md', 'x');
    writeFile(root, 'logo.svg', '<svg/>');
    writeFile(root, 'empty.md', '');
    writeFile(root, 'ok.md', 'ok');
    mkdirSync(path.join(root, 'folder'));
    const src = source(root, { exclude: ['drafts/'] });
    const explain = (rel: string) => folderExplain(src, path.join(root, rel), { excludeDirs: [] });
    expect(explain('guide/a.bak.md')).toEqual({
      key: 'guide/a.bak.md',
      isDir: false,
      exists: true,
      leftOut: { kind: 'kbignore', where: `${root}/guide/.kbignore:2`, pattern: '*.bak.md', description: 'matches .kbignore rule "*.bak.md"' },
    });
    expect(explain('drafts/deep/x.md')?.leftOut).toEqual({ kind: 'exclude', where: 'exclude[0]', pattern: 'drafts/', via: 'drafts', description: 'in folder "drafts", which is left out: matches exclude pattern "drafts/"' });
    expect(explain('logo.svg')).toEqual({ key: 'logo.svg', isDir: false, exists: true, skip: { code: 'unsupported', reason: 'unsupported type (.svg)' } });
    expect(explain('empty.md')?.skip).toEqual({ code: 'empty', reason: 'empty file' });
    expect(explain('ok.md')).toEqual({ key: 'ok.md', isDir: false, exists: true });
    expect(explain('folder')).toEqual({ key: 'folder', isDir: true, exists: true });
    expect(explain('gone.md')).toEqual({ key: 'gone.md', isDir: false, exists: false });
    expect(folderExplain(src, path.join(root, '..', 'elsewhere.md'), { excludeDirs: [] })).toBeUndefined();
  });
});
