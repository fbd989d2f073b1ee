import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../helpers/cli-process.js';
import { setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

describe('lanying-kb why PATH (the real CLI process)', () => {
  it('names the rule that leaves a path out, why a document is skipped, and what the state records', async () => {
    const s = await setupSync({ sources: (root) => [{ type: 'folder', name: 'docs', path: root, include: ['**/*.md', '**/*.svg'], exclude: ['drafts/'] }] });
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'notes.txt', 'text');
    writeFile(s.root, 'logo.svg', '<svg/>');
    writeFile(s.root, 'drafts/x.md', 'draft');
    writeFile(s.root, 'guide/.kbignore', '# local\n*.tmp.md\n');
    writeFile(s.root, 'guide/s.tmp.md', 'scratch');
    writeFile(s.root, '.private/p.md', 'private');
    writeFileSync(path.join(s.dir, 'lanying-kb.config.json'), JSON.stringify(s.raw));
    expect((await runCliProcess(['sync', '-q'], { cwd: s.dir })).code).toBe(0);

    const why = await runCliProcess(['why', 'docs/drafts/x.md', 'docs/guide/s.tmp.md', 'docs/notes.txt', 'docs/.private/p.md', 'docs/logo.svg', 'docs/a.md', 'elsewhere.md'], { cwd: s.dir });
    expect(why.code).toBe(0);
    expect(why.stderr).toBe('');
    expect(why.stdout.split('\n').filter(Boolean)).toEqual([
      'docs/drafts/x.md: left out of source "docs": in folder "drafts", which is left out: matches exclude pattern "drafts/" (sources[0].exclude[0])',
      `docs/guide/s.tmp.md: left out of source "docs": matches .kbignore rule "*.tmp.md" (${path.join(s.root, 'guide/.kbignore')}:2)`,
      'docs/notes.txt: left out of source "docs": matches no include pattern (sources[0].include)',
      'docs/.private/p.md: left out of source "docs": in folder ".private", which is left out: a hidden name (it starts with a dot)',
      expect.stringMatching(/^docs\/logo\.svg: reported by source "docs" as logo\.svg but not sent: unsupported type \(\.svg\); the state records it as skipped/),
      expect.stringMatching(/^docs\/a\.md: a document of source "docs" \(key a\.md\): sent when new or changed; the state records it as (uploaded|ingested) since \d{4}-\d\d-\d\dT/),
      'elsewhere.md: not inside the folder of any enabled source',
    ]);

    const json = await runCliProcess(['why', '--json', 'docs/guide/s.tmp.md'], { cwd: s.dir });
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      paths: [
        {
          path: 'docs/guide/s.tmp.md',
          absolute: path.join(s.root, 'guide/s.tmp.md'),
          answers: [
            {
              source: 'docs',
              key: 'guide/s.tmp.md',
              isDir: false,
              exists: true,
              verdict: 'left-out',
              rule: { kind: 'kbignore', where: `${path.join(s.root, 'guide/.kbignore')}:2`, pattern: '*.tmp.md', description: 'matches .kbignore rule "*.tmp.md"' },
            },
          ],
        },
      ],
    });
    const none = await runCliProcess(['why'], { cwd: s.dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing required argument 'path'/);
  });
});
