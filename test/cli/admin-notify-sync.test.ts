import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiFor, runWith, writeConfig } from '../helpers/cli.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';

type Req = { method: string; path: string };
type Stored = { content: string; to_id: number };

describe('lanying-kb sync with a notify section', () => {
  it('sends the summary after a run that sent documents, nothing after a run that changed nothing, and a failed push never fails the sync', async () => {
    const sandbox = await useSandbox({ pushEnabled: false });
    const [reader] = (await registerUsers(clientFor(sandbox).client, ['reader'])) as number[];
    const kb = sandbox.knowledgeBase;
    const dir = writeConfig({
      api: apiFor(sandbox),
      knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name },
      sources: [{ type: 'folder', name: 'docs', path: './docs' }],
      notify: {
        push: { audience: 'all', title: '{kb}', body: '{added} added' },
        message: { from: kb.adminUserIds[0], users: [reader], text: 'KB {kb} ({source}): {added} added, {updated} updated, {failed} failed, run {run}' },
      },
    });
    mkdirSync(path.join(dir, 'docs'));
    writeFileSync(path.join(dir, 'docs', 'a.md'), '# A\n');
    writeFileSync(path.join(dir, 'docs', 'b.txt'), 'B\n');

    const first = await runWith(['--json', 'sync'], { cwd: dir });
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { counts: { sent: number }; notify: { ok: boolean; deliveries: { channel: string; ok: boolean; code?: number }[] } };
    expect(report.counts.sent).toBe(2);
    expect(report.notify.ok).toBe(false);
    expect(report.notify.deliveries).toEqual([
      expect.objectContaining({ channel: 'push', ok: false, code: 12006 }),
      expect.objectContaining({ channel: 'message', ok: true }),
    ]);
    expect(first.stderr).toMatch(/warning: the push notification \(all\) failed: .*code 12006, push feature not enabled/);
    const summaries = () => (sandbox.state().messages as Stored[]).filter((m) => m.to_id === reader);
    expect(summaries().map((m) => m.content)).toEqual([expect.stringMatching(new RegExp(`^KB ${kb.name} \\(docs\\): 2 added, 0 updated, 0 failed, run \\d+$`))]);

    const pushCalls = () => (sandbox.state().requests as Req[]).filter((r) => r.path === '/push/notify').length;
    const pushesBefore = pushCalls();
    const second = await runWith(['sync'], { cwd: dir });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(pushCalls()).toBe(pushesBefore);
    expect(summaries()).toHaveLength(1);
  });
});
