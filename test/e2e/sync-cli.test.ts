import { chmodSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliProcess, startCli } from '../helpers/cli-process.js';
import { canTestPermissions } from '../helpers/permissions.js';
import { attachmentOf, metadataOf, setupSync, waitFor } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

/** Writes the setup's config where the CLI finds it. */
function writeConfigFile(dir: string, raw: Record<string, unknown>): void {
  writeFileSync(path.join(dir, 'lanying-kb.config.json'), JSON.stringify(raw, null, 2));
}


describe('lanying-kb sync (the real CLI process against the sandbox)', () => {
  it('first sync sends each document once with the right ext, attachment and metadata; then nothing; an edit one; a touch none', async () => {
    const s = await setupSync();
    writeFile(s.root, 'handbook.md', '# Handbook\n\nRules.');
    writeFile(s.root, 'faq/questions.txt', 'Q and A');
    writeFile(s.root, 'faq/prices.csv', 'question,answer\nHow much?,Free\n');
    writeConfigFile(s.dir, s.raw);

    const first = await runCliProcess(['sync'], { cwd: s.dir });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Done in .*: sent 3 \(.*3 new, 0 changed\), 0 failed/);
    const sends = s.sends();
    expect(sends).toHaveLength(3);
    for (const message of sends) {
      const attachment = attachmentOf(message);
      const metadata = metadataOf(message);
      expect(message.content_type).toBe(4);
      expect(metadata.path?.endsWith(attachment.dName)).toBe(true);
      expect(metadata).toMatchObject({ source: 'docs', managed_by: 'lanying-kb' });
      expect(Object.values(metadata).every((v) => typeof v === 'string')).toBe(true);
    }
    await waitFor(() => s.sandbox.state().knowledgeBase.documents.length === 3, 3000, 'three documents');
    const docs = s.sandbox.state().knowledgeBase.documents;
    expect(docs.map((d) => d.filename).sort()).toEqual(['handbook.md', 'prices.csv', 'questions.txt']);
    expect(docs.find((d) => d.filename === 'handbook.md')?.metadata).toMatchObject({ title: 'Handbook', path: 'handbook.md' });

    const second = await runCliProcess(['sync'], { cwd: s.dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/sent 0 .* 3 unchanged\./);
    expect(s.sends()).toHaveLength(3);

    writeFile(s.root, 'faq/questions.txt', 'Q and A, revised');
    const edited = await runCliProcess(['sync', '--json'], { cwd: s.dir });
    expect(edited.code).toBe(0);
    const report = JSON.parse(edited.stdout) as { counts: Record<string, number>; entries: { action: string; key: string }[] };
    expect(report.counts).toMatchObject({ changed: 1, sent: 1, unchanged: 2 });
    expect(report.entries.map((e) => [e.action, e.key])).toEqual([['changed', 'faq/questions.txt']]);
    expect(s.sends()).toHaveLength(4);

    const later = new Date(Date.now() + 120_000);
    utimesSync(path.join(s.root, 'handbook.md'), later, later);
    const touched = await runCliProcess(['sync'], { cwd: s.dir });
    expect(touched.code).toBe(0);
    expect(s.sends()).toHaveLength(4);
  });

  it('--dry-run prints the plan with reasons and sends nothing', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'logo.svg', '<svg/>');
    writeConfigFile(s.dir, s.raw);
    const plan = await runCliProcess(['sync', '--dry-run'], { cwd: s.dir });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/Plan for source "docs" \(dry run: nothing is sent, nothing recorded\)/);
    expect(plan.stdout).toMatch(/new +docs:a\.md +5 B +first seen/);
    expect(plan.stdout).toMatch(/skipped +docs:logo\.svg +6 B +unsupported type/);
    expect(plan.stdout).toMatch(/Would send 1 document\(s\), 5 B: 1 new, 0 changed/);
    expect(s.sends()).toHaveLength(0);
  });

  it('exits 2 with one clear line for a missing folder, 4 for a wrong token, 3 when a document failed', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeConfigFile(s.dir, { ...s.raw, sources: [{ type: 'folder', name: 'docs', path: './nowhere' }] });
    const missing = await runCliProcess(['sync'], { cwd: s.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`lanying-kb: source "docs": folder ${path.join(s.dir, 'nowhere')} does not exist\n`);

    writeConfigFile(s.dir, { ...s.raw, api: { ...(s.raw.api as object), accessToken: '${KB_TOKEN}' } });
    const wrong = await runCliProcess(['sync'], { cwd: s.dir, env: { KB_TOKEN: 'definitely-wrong' } });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/^lanying-kb: GET \/file\/upload\/chat failed: code 10008, invalid access-token/m);
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
    expect(wrong.stderr + wrong.stdout).not.toContain('definitely-wrong');

    writeConfigFile(s.dir, s.raw);
    s.sandbox.setFaults([{ route: 'POST /message/send', status: 500 }]);
    const failing = await runCliProcess(['sync'], { cwd: s.dir });
    expect(failing.code).toBe(3);
    expect(failing.stdout).toMatch(/FAILED +docs:a\.md .*POST \/message\/send failed: HTTP 500/);
  });

  it('reports config errors with the file and key, exit 2, no stack trace', async () => {
    const s = await setupSync();
    writeFileSync(path.join(s.dir, 'lanying-kb.config.json'), '{ "api": { "endpoint": "http://example.com", "appId": 1 }, "sourcez": [] }');
    const bad = await runCliProcess(['sync'], { cwd: s.dir });
    expect(bad.code).toBe(2);
    const file = path.join(s.dir, 'lanying-kb.config.json');
    expect(bad.stderr.split('\n').filter(Boolean)).toEqual(
      expect.arrayContaining([
        `lanying-kb: ${file}: api.appId: expected string, received number`,
        `lanying-kb: ${file}: api.accessToken: required (string), or set api.accessTokenFile`,
        `lanying-kb: ${file}: sourcez: unknown key`,
      ]),
    );
  });

  it('kill -9 while a send is in flight, then a new run: the chatbot gets the document once', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeConfigFile(s.dir, s.raw);
    s.sandbox.setFaults([{ route: 'POST /message/send', slowBodyMs: 10_000, times: 1 }]);
    const run = startCli(['sync'], { cwd: s.dir });
    await waitFor(() => s.sends().length === 1, 5000, 'the send to arrive');
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');

    const again = await runCliProcess(['sync'], { cwd: s.dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/sent 1 /);
    expect(s.sends()).toHaveLength(1);
    // Both sends of the document carried the transaction ID recorded before the first one (the commands that
    // confirm it carry their own).
    const store = s.state();
    const transactionId = store.get('docs', 'a.md')?.transactionId;
    store.close();
    const sendRequests = s.sandbox.state().requests.filter((r) => r.path === '/message/send' && r.transaction_id === transactionId);
    expect(sendRequests).toHaveLength(2);
    await s.sandbox.idle();
    expect(s.sandbox.state().knowledgeBase.documents).toHaveLength(1);
    const status = await runCliProcess(['status', '--json'], { cwd: s.dir });
    const parsed = JSON.parse(status.stdout) as { sources: Record<string, Record<string, number>>; runs: { outcome: string }[] };
    expect(parsed.sources.docs).toEqual({ ingested: 1 });
    expect(parsed.runs.map((r) => r.outcome)).toEqual(['ok', 'aborted']);
  });

  it('status shows counts per source and status, the last runs and failed documents with their reasons', async () => {
    const s = await setupSync({ sync: { maxAttempts: 1 }, api: { maxRetries: 0 } });
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'b.md', 'beta');
    writeConfigFile(s.dir, s.raw);
    s.sandbox.setFaults([{ route: 'POST /message/send', status: 500, times: 1 }]);
    await runCliProcess(['sync'], { cwd: s.dir });
    const status = await runCliProcess(['status'], { cwd: s.dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/docs: 1 failed, 1 ingested/);
    expect(status.stdout).toMatch(/#1 sync .* partial .*: sent 1, failed 1/);
    expect(status.stdout).toMatch(/Failed documents:\n {2}docs:[ab]\.md \(1 attempt\(s\), .*\): POST \/message\/send failed: HTTP 500/);
  });

  it('ends quietly when its reader goes away (`lanying-kb sync --dry-run | head`)', async () => {
    const s = await setupSync();
    for (let i = 0; i < 3000; i++) writeFile(s.root, `section/document-with-a-long-name-${i}.md`, `# ${i}\n`);
    writeConfigFile(s.dir, s.raw);
    for (const args of [['sync', '--dry-run'], ['sync', '--dry-run', '--json']]) {
      const cli = startCli(args, { cwd: s.dir });
      // Read the first piece, then close the pipe, as `head` does.
      cli.child.stdout?.once('data', () => cli.child.stdout?.destroy());
      const run = await cli.done;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
  });

  it.runIf(canTestPermissions)('skips a file it cannot read, with the reason, and sends the rest (run as an unprivileged user)', async () => {
    const s = await setupSync();
    writeFile(s.root, 'open.md', 'readable');
    const secret = writeFile(s.root, 'secret.md', 'not for you');
    chmodSync(secret, 0o000);
    writeConfigFile(s.dir, s.raw);
    const run = await runCliProcess(['sync', '--json'], { cwd: s.dir, unprivileged: true });
    const report = JSON.parse(run.stdout) as { counts: Record<string, number>; entries: { key: string; action: string; reason: string }[] };
    expect(report.counts).toMatchObject({ sent: 1, skipped: 1 });
    expect(report.entries.find((e) => e.key === 'secret.md')).toMatchObject({ action: 'skipped', reason: expect.stringMatching(/unreadable/) });
    expect(s.sends().map((m) => attachmentOf(m).dName)).toEqual(['open.md']);
  });
});
