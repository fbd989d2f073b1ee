import { appendFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFolderSource } from '../../src/sources/folder/config.js';
import { folderSource } from '../../src/sources/folder/adapter.js';
import { setupSync } from '../helpers/sync.js';
import { tmpDir, writeFile } from '../helpers/tmp-dir.js';

describe('maxFileSize is checked again whenever a file is hashed again', () => {
  it('does not upload a file that grew past maxFileSize between its hashing and its upload', async () => {
    const setup = await setupSync({ sources: (root) => [{ type: 'folder', name: 'docs', path: root, maxFileSize: 100 }] });
    const file = writeFile(setup.root, 'grows.md', `# Grows\n${'a'.repeat(50)}\n`);
    writeFile(setup.root, 'stays.md', '# Stays\n');
    let grown = false;
    const report = await setup.sync({
      onEvent: (event) => {
        // Hashed and decided "new"; the upload has not started yet.
        if (event.type === 'decision' && event.entry.key === 'grows.md' && !grown) {
          grown = true;
          appendFileSync(file, 'b'.repeat(100));
        }
      },
    });
    expect(grown).toBe(true);
    expect(statSync(file).size).toBeGreaterThan(100);
    const entry = report.entries.find((e) => e.key === 'grows.md');
    expect(entry).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/larger than maxFileSize \(\d+ > 100 bytes\)/) });
    await setup.sandbox.idle();
    expect(setup.sends().map((m) => JSON.parse(m.attachment).dName)).toEqual(['stays.md']);
    expect(setup.sandbox.state().objects.filter((o) => o.size > 100)).toEqual([]);
    // The next run reports it skipped, as any file over the limit.
    const next = await setup.sync();
    expect(next.entries.find((e) => e.key === 'grows.md')).toMatchObject({ action: 'skipped', reason: expect.stringMatching(/larger than maxFileSize/) });
    expect(setup.sends()).toHaveLength(1);
  });

  it("the folder source's hash refuses what it read when it is over the source's limit (it grew after the listing)", async () => {
    const root = tmpDir();
    const fsPath = writeFile(root, 'big.md', 'x'.repeat(300));
    const source = resolveFolderSource({ type: 'folder', name: 'docs', path: root, maxFileSize: 200 }, { baseDir: root });
    const item = { key: 'big.md', kind: 'file' as const, size: 150, payload: { type: 'file' as const, fsPath, name: 'big.md', title: undefined, link: undefined } };
    const [result] = await folderSource.hash(source, [item], { signal: new AbortController().signal });
    expect(result).toEqual({ failure: 'larger than maxFileSize (300 > 200 bytes)', gone: false, skip: { code: 'too-large', reason: 'larger than maxFileSize (300 > 200 bytes)' } });
    expect(path.basename(fsPath)).toBe('big.md');
  });
});
