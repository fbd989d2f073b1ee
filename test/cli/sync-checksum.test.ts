import { statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { setupSync } from '../helpers/sync.js';
import { runWith } from '../helpers/cli.js';
import { writeFile } from '../helpers/tmp-dir.js';

interface JsonReport {
  counts: Record<string, number>;
  entries: { key: string; action: string; outcome?: string }[];
}

describe('lanying-kb sync --checksum', () => {
  it('reads every file: finds a change that kept size, time and inode, which a sync without it does not see', async () => {
    const s = await setupSync();
    writeFileSync(path.join(s.dir, 'lanying-kb.config.json'), JSON.stringify(s.raw));
    const file = writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'b.md', 'bravo');
    // Whole seconds, so that putting the time back is exact.
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const sync = async (...flags: string[]) => {
      const run = await runWith(['sync', '--json', ...flags], { cwd: s.dir });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return JSON.parse(run.stdout) as JsonReport;
    };
    expect((await sync()).counts).toMatchObject({ new: 2, sent: 2 });

    // The same length, written in place, with the old time put back: only reading the file tells.
    const inode = statSync(file).ino;
    writeFileSync(file, 'ALPHA');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    expect(statSync(file).ino).toBe(inode);

    expect((await sync()).counts).toMatchObject({ changed: 0, unchanged: 2, sent: 0 });
    const thorough = await sync('--checksum');
    expect(thorough.counts).toMatchObject({ changed: 1, unchanged: 1, sent: 1 });
    expect(thorough.entries.find((e) => e.key === 'a.md')).toMatchObject({ action: 'changed', outcome: 'ingested' });
    expect((await sync('--checksum')).counts).toMatchObject({ changed: 0, unchanged: 2, sent: 0 });
    expect(s.sends()).toHaveLength(3);
  });
});
