import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../helpers/cli-process.js';
import { runWith } from '../helpers/cli.js';
import { type SyncSetup, setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

async function synced(files: Record<string, string>, sync: Record<string, unknown> = {}): Promise<SyncSetup> {
  const s = await setupSync({ sync });
  for (const [name, text] of Object.entries(files)) writeFile(s.root, name, text);
  writeFileSync(path.join(s.dir, 'lanying-kb.config.json'), JSON.stringify(s.raw, null, 2));
  await s.sync();
  await s.sandbox.idle();
  return s;
}

describe('lanying-kb check, prune, documents, resend, forget', () => {
  it('check: exit 0 and one line when they agree; exit 3 with the differences and what fixes them after the knowledge base was wiped', async () => {
    const s = await synced({ 'a.md': 'A', 'b.md': 'B' });
    const agree = await runWith(['check'], { cwd: s.dir });
    expect(agree.stderr).toBe('');
    expect(agree.code).toBe(0);
    expect(agree.stdout).toContain(`Knowledge base "${s.config.knowledgeBase?.name}" (chatbot ${s.config.knowledgeBase?.chatbotUserId}, sources docs): 2 document(s); 2 tracked document(s) match.`);
    expect(agree.stdout).toContain('The knowledge base holds what the state records.');

    s.sandbox.reset();
    const differ = await runWith(['check'], { cwd: s.dir });
    expect(differ.code).toBe(3);
    expect(differ.stdout).toMatch(/^ {2}missing +docs:a\.md +\S+ +recorded as document \S+, which the knowledge base does not hold/m);
    expect(differ.stdout).toContain('2 difference(s): 2 missing (resend sends them again).');
    const json = await runWith(['check', '--json'], { cwd: s.dir });
    expect(json.code).toBe(3);
    const report = JSON.parse(json.stdout) as { differs: boolean; exitCode: number; knowledgeBases: { counts: Record<string, number> }[] };
    expect(report).toMatchObject({ differs: true, exitCode: 3 });
    expect(report.knowledgeBases[0]?.counts.missing).toBe(2);

    const resend = await runWith(['resend', '--all'], { cwd: s.dir });
    expect(resend.code).toBe(0);
    expect(resend.stdout).toContain('Marked 2 document(s) to send again.');
    expect(resend.stdout).toMatch(/sent 2 /);
    await s.sandbox.idle();
    expect((await runWith(['check'], { cwd: s.dir })).code).toBe(0);
  });

  it('check with an unknown source: exit 2 naming the configured ones', async () => {
    const s = await synced({ 'a.md': 'A' });
    const run = await runWith(['check', '--source', 'nope'], { cwd: s.dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('lanying-kb: unknown source "nope" (configured: docs)\n');
  });

  it('documents: a table, --status and --source filters, --json; an unknown status or source is refused', async () => {
    const s = await synced({ 'a.md': 'A', 'b.md': 'B' });
    writeFile(s.root, 'huge.exe', 'x');
    await s.sync();
    const table = await runWith(['documents'], { cwd: s.dir });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^STATUS +DOC ID +SENT +INGESTED +DOCUMENT$/);
    expect(lines[1]).toMatch(/^ingested +\S+-\d+ +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +docs:a\.md$/);
    expect(lines.some((l) => /^skipped .* docs:huge\.exe {2}\(.+\)$/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe('3 document(s).');

    const ingested = await runWith(['documents', '--status', 'ingested', '--json'], { cwd: s.dir });
    const docs = JSON.parse(ingested.stdout) as { key: string; status: string; docId: string; sentAt: number; ingestedAt: number }[];
    expect(docs.map((d) => [d.key, d.status])).toEqual([
      ['a.md', 'ingested'],
      ['b.md', 'ingested'],
    ]);
    expect(docs.every((d) => d.docId && d.sentAt > 0 && d.ingestedAt >= d.sentAt)).toBe(true);

    const badStatus = await runWith(['documents', '--status', 'uploaded'], { cwd: s.dir });
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/not a status: uploaded/);
    const badSource = await runWith(['documents', '--source', 'nope'], { cwd: s.dir });
    expect(badSource.code).toBe(2);
    expect(badSource.stderr).toBe('lanying-kb: the state tracks no document of source "nope" (sources in the state: docs)\n');
  });

  it('resend and forget name their documents: nothing named is a usage error; an unknown key too', async () => {
    const s = await synced({ 'a.md': 'A' });
    for (const command of ['resend', 'forget']) {
      const run = await runWith([command], { cwd: s.dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^lanying-kb: name the documents to ${command === 'resend' ? 'send again' : 'forget'}: --source S, KEY\\.\\.\\., or --all`));
      const unknown = await runWith([command, 'nope.md'], { cwd: s.dir });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toBe('lanying-kb: no tracked document "nope.md" (lanying-kb documents lists them)\n');
    }
    expect(s.sends()).toHaveLength(1);
  });

  it('resend --dry-run and forget --dry-run change nothing; forget says what stays in the knowledge base', async () => {
    const s = await synced({ 'a.md': 'A', 'b.md': 'B' });
    const dry = await runWith(['resend', 'a.md', '--dry-run'], { cwd: s.dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^ {2}would send again: docs:a\.md \(replacing document \S+\)$/m);
    expect(dry.stdout).toContain('Would send 1 document(s) again (dry run: nothing changed).');
    const forgetDry = await runWith(['forget', '--source', 'docs', '--dry-run'], { cwd: s.dir });
    expect(forgetDry.stdout).toContain('Would forget 2 document(s) (dry run: nothing changed).');
    expect(s.sends()).toHaveLength(2);
    const forget = await runWith(['forget', 'b.md'], { cwd: s.dir });
    expect(forget.code).toBe(0);
    expect(forget.stdout).toContain('Forgot 1 document(s).');
    expect(forget.stdout).toContain('1 of them were recorded in the knowledge base: they stay there, untracked');
    const left = JSON.parse((await runWith(['documents', '--json'], { cwd: s.dir })).stdout) as { key: string }[];
    expect(left.map((d) => d.key)).toEqual(['a.md']);
  });

  it('prune (the real CLI process): prints each deletion, exit 3 when sync.maxDelete holds deletions back', async () => {
    const s = await synced({ 'a.md': 'A', 'b.md': 'B', 'c.md': 'C' }, { maxDelete: { count: 1 } });
    rmSync(path.join(s.root, 'b.md'));
    rmSync(path.join(s.root, 'c.md'));
    await s.sync();
    const blocked = await runCliProcess(['prune'], { cwd: s.dir });
    expect(blocked.code).toBe(3);
    expect(blocked.stdout).toContain('Held back 2 deletion(s): 2 documents would be pruned, more than sync.maxDelete.count (1); raise sync.maxDelete if this is intended.');
    expect(s.sandbox.state().knowledgeBase.documents).toHaveLength(3);

    writeFileSync(path.join(s.dir, 'lanying-kb.config.json'), JSON.stringify({ ...s.raw, sync: { ...(s.raw.sync as object), maxDelete: { count: 5 } } }, null, 2));
    const pruned = await runCliProcess(['prune'], { cwd: s.dir });
    expect(pruned.stderr).toBe('');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/^ {2}deleted +removed +docs:b\.md \S+$/m);
    expect(pruned.stdout).toContain('deleted 2 document(s).');
    await s.sandbox.idle();
    expect(s.sandbox.state().knowledgeBase.documents.map((d) => d.filename)).toEqual(['a.md']);
  });
});
