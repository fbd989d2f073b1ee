import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkKnowledgeBase } from '../../src/audit/check.js';
import { pruneKnowledgeBase } from '../../src/audit/prune.js';
import { resendDocuments } from '../../src/documents/resend.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { StateStore } from '../../src/state/store.js';
import { ChatbotRefusedError } from '../../src/sync/confirm.js';
import type { SyncReport } from '../../src/sync/report.js';
import { caught } from '../helpers/errors.js';
import { attachmentOf, type SyncSetup, setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';
import { daemonEnv, logSink, useDaemon, waitFor as waitForDaemon } from '../daemon/helpers.js';

/** The documents of the sandbox's knowledge base, by the `path` their metadata names. */
function kbDocuments(sandbox: Sandbox, status?: string): { docId: string; path: string; syncId: string; status: string }[] {
  return sandbox
    .state()
    .knowledgeBase.documents.filter((d) => status === undefined || d.status === status)
    .map((d) => ({ docId: d.doc_id, path: d.metadata.path ?? '', syncId: d.metadata.sync_id ?? '', status: d.status }));
}

/** Syncs and waits until the chatbot has nothing left to do (so that the knowledge base can be read). */
async function syncSettled(s: SyncSetup, options: Parameters<SyncSetup['sync']>[0] = {}): Promise<SyncReport> {
  const report = await s.sync(options);
  await s.sandbox.idle();
  return report;
}

describe('confirmed ingestion', () => {
  it('records a document as ingested with its document ID, only once the chatbot confirmed it', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', '# A\n');
    writeFile(s.root, 'b.md', '# B\n');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ new: 2, sent: 2, ingested: 2, unconfirmed: 0 });
    expect(report.outcome).toBe('ok');
    const store = s.state();
    const rows = store.list();
    store.close();
    const docs = kbDocuments(s.sandbox);
    expect(rows.map((r) => [r.key, r.status])).toEqual([
      ['a.md', 'ingested'],
      ['b.md', 'ingested'],
    ]);
    for (const row of rows) expect(docs.find((d) => d.path === row.key)?.docId).toBe(row.docId);
  });

  it('ties completions that come in another order than the sends to the right documents', async () => {
    const s = await setupSync({ sandbox: { faults: [{ chatbot: 'delay', match: 'first.md', delayMs: 300 }] } });
    writeFile(s.root, 'first.md', 'first');
    writeFile(s.root, 'second.md', 'second');
    writeFile(s.root, 'third.md', 'third');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ ingested: 3 });
    const store = s.state();
    const byKey = new Map(store.list().map((r) => [r.key, r.docId]));
    store.close();
    for (const doc of kbDocuments(s.sandbox)) expect(byKey.get(doc.path)).toBe(doc.docId);
  });

  it('a lost notice leaves the document unconfirmed (exit 3), never sent again blindly; a repeated notice counts once', async () => {
    const s = await setupSync({
      sync: { confirmTimeout: 1000 },
      sandbox: { faults: [{ chatbot: 'lose_notice', match: 'lost.md' }, { chatbot: 'duplicate_notice', match: 'twice.md' }] },
    });
    writeFile(s.root, 'lost.md', 'lost');
    writeFile(s.root, 'twice.md', 'twice');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ sent: 2, ingested: 1, unconfirmed: 1 });
    expect(report.outcome).toBe('partial');
    expect(report.entries.find((e) => e.key === 'lost.md')).toMatchObject({ outcome: 'unconfirmed', error: expect.stringMatching(/no confirmation from the chatbot within 1 s/) });
    const again = await syncSettled(s);
    expect(again.counts).toMatchObject({ sent: 0, unchanged: 2 });
    expect(s.sends()).toHaveLength(2);
    expect(kbDocuments(s.sandbox)).toHaveLength(2);
  });

  it('a confirmation that comes after sync.confirmTimeout is taken by the next run (the document was unconfirmed meanwhile)', async () => {
    const s = await setupSync({ sync: { confirmTimeout: '1s' }, sandbox: { faults: [{ chatbot: 'delay', match: 'slow.md', delayMs: 2000 }] } });
    writeFile(s.root, 'slow.md', 'version 1');
    const first = await syncSettled(s);
    expect(first.counts).toMatchObject({ sent: 1, unconfirmed: 1 });
    const second = await syncSettled(s);
    expect(second.counts).toMatchObject({ sent: 0 });
    let store = s.state();
    const [doc] = kbDocuments(s.sandbox);
    expect(store.get('docs', 'slow.md')).toMatchObject({ status: 'ingested', docId: doc?.docId });
    store.close();
    // Now its replacement deletes it.
    s.sandbox.setFaults([]);
    writeFile(s.root, 'slow.md', 'version 2, longer');
    expect((await syncSettled(s)).counts).toMatchObject({ changed: 1, ingested: 1, deleted: 1 });
    expect(kbDocuments(s.sandbox)).toHaveLength(1);
    store = s.state();
    expect(store.get('docs', 'slow.md')?.status).toBe('ingested');
    store.close();
  });

  it('a notice whose proof the chatbot refused (or the API failed) is proven again, not left unconfirmed', async () => {
    const s = await setupSync({ sync: { confirmTimeout: '5s' }, sandbox: { faults: [{ chatbot: 'refuse', reason: 'round_limit', match: '/bluevector metadata get*', times: 1 }] } });
    writeFile(s.root, 'a.md', 'a');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ sent: 1, ingested: 1, unconfirmed: 0 });
  });

  it('a document the chatbot failed to ingest is recorded with its reason, its failed document deleted, and sent again after the retry delay, then quarantined', async () => {
    const s = await setupSync({
      sync: { ingestRetryDelay: 0, maxIngestAttempts: 2 },
      sandbox: { faults: [{ chatbot: 'fail', reason: 'exception', match: 'broken.md' }] },
    });
    writeFile(s.root, 'broken.md', 'cannot be parsed');
    const first = await syncSettled(s);
    expect(first.counts).toMatchObject({ sent: 1, ingestFailed: 1 });
    expect(first.outcome).toBe('partial');
    let store = s.state();
    expect(store.get('docs', 'broken.md')).toMatchObject({ status: 'ingest-failed', lastError: 'exception', ingestAttempts: 1 });
    store.close();
    // The failed document (in `error`) was deleted from the knowledge base.
    expect(kbDocuments(s.sandbox)).toEqual([]);

    const second = await syncSettled(s);
    expect(second.counts).toMatchObject({ new: 1, sent: 1, ingestFailed: 1 });
    expect(second.entries.find((e) => e.key === 'broken.md')?.reason).toBe('the chatbot failed to ingest it (exception); sending again');
    const third = await syncSettled(s);
    expect(third.counts).toMatchObject({ sent: 0, skipped: 1 });
    expect(third.entries.find((e) => e.key === 'broken.md')?.reason).toBe('quarantined: the chatbot failed to ingest it 2 times (exception); sent again once it changes');
    s.sandbox.setFaults([]);
    writeFile(s.root, 'broken.md', 'fixed');
    const fixed = await syncSettled(s);
    expect(fixed.counts).toMatchObject({ sent: 1, ingested: 1 });
    expect(kbDocuments(s.sandbox).map((d) => d.path)).toEqual(['broken.md']);
    store = s.state();
    expect(store.get('docs', 'broken.md')).toMatchObject({ status: 'ingested', ingestAttempts: 0 });
    store.close();
  });

  it('a failure notice read again after its document was sent again (a later run reads from an older send) is not taken for the new send', async () => {
    // Run 1: lost.md's notice never comes (it stays a late candidate, so later runs read the conversation from its
    // send, before broken.md's failure notice); broken.md fails once, and its failed document stays listed a while.
    const s = await setupSync({
      sync: { confirmTimeout: '1s', ingestRetryDelay: 0 },
      sandbox: {
        faults: [
          { chatbot: 'lose_notice', match: 'lost.md' },
          { chatbot: 'fail', reason: 'exception', match: 'broken.md', times: 1 },
          { chatbot: 'delete_later', delayMs: 8000 },
        ],
      },
    });
    writeFile(s.root, 'broken.md', 'parsed the second time');
    writeFile(s.root, 'lost.md', 'lost');
    const first = await s.sync();
    expect(first.counts).toMatchObject({ sent: 2, ingestFailed: 1, unconfirmed: 1 });
    // Run 2 sends broken.md again; its notice comes after the run stopped waiting.
    s.sandbox.setFaults([{ chatbot: 'delay', match: 'broken.md', delayMs: 2500 }, { chatbot: 'delete_later', delayMs: 8000 }]);
    const second = await s.sync();
    expect(second.counts).toMatchObject({ sent: 1, unconfirmed: 1 });
    // Run 3 reads the old failure notice again: it is about the first send, not the one on its way.
    const third = await s.sync();
    expect(third.counts).toMatchObject({ sent: 0, ingestFailed: 0 });
    expect(s.sends().filter((m) => attachmentOf(m).dName === 'broken.md')).toHaveLength(2);
    await s.sandbox.idle();
    const fourth = await s.sync();
    expect(fourth.counts).toMatchObject({ sent: 0 });
    const store = s.state();
    const row = store.get('docs', 'broken.md');
    store.close();
    expect(row).toMatchObject({ status: 'ingested' });
    expect(kbDocuments(s.sandbox).filter((d) => d.path === 'broken.md').map((d) => d.docId)).toEqual([row?.docId]);
  });

  it('a failure notice tied while the rest of its folder is still being sent leaves the folder to be looked at again (it is sent again by the next run)', async () => {
    // a.md's failure notice comes while b.md's send is on its way: the folder's digest must not be recorded over it.
    const s = await setupSync({
      sync: { concurrency: 1, ingestRetryDelay: 0 },
      sandbox: {
        faults: [
          { chatbot: 'fail', reason: 'exception', match: 'a.md', times: 1 },
          // a.md's message goes at once, b.md's takes 1.5 s (the commands that prove a.md's notice, sent meanwhile, none).
          { route: 'POST /message/send', latencyMs: 0, times: 1 },
          { route: 'POST /message/send', latencyMs: 1500, times: 1 },
        ],
      },
    });
    writeFile(s.root, 'a.md', 'failed once');
    writeFile(s.root, 'b.md', 'ingested');
    const first = await syncSettled(s);
    expect(first.counts).toMatchObject({ sent: 2, ingestFailed: 1, ingested: 1 });
    s.sandbox.setFaults([]);
    const second = await syncSettled(s);
    expect(second.counts).toMatchObject({ sent: 1, ingested: 1 });
    const store = s.state();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingested' });
    store.close();
  });

  it('a document that failed to be ingested and whose file is skipped since (too large) leaves its folder to be skipped as unchanged', async () => {
    const s = await setupSync({ sync: { ingestRetryDelay: 0 }, sources: (root) => [{ type: 'folder', name: 'docs', path: root, maxFileSize: 1000 }] });
    writeFile(s.root, 'sub/a.md', 'v1');
    writeFile(s.root, 'sub/b.md', 'b');
    await syncSettled(s);
    s.sandbox.setFaults([{ chatbot: 'fail', reason: 'exception', match: 'a.md', times: 1 }]);
    writeFile(s.root, 'sub/a.md', 'v2');
    expect((await syncSettled(s)).counts).toMatchObject({ changed: 1, ingestFailed: 1 });
    writeFile(s.root, 'sub/a.md', 'x'.repeat(5000));
    expect((await syncSettled(s)).counts).toMatchObject({ sent: 0, skipped: 1 });
    await syncSettled(s);
    const store = s.state();
    expect(store.get('docs', 'sub/a.md')).toMatchObject({ status: 'ingest-failed', skipReason: expect.any(String) });
    expect(store.folderDigest('docs', 'sub')).toBeDefined();
    store.close();
  });

  it('a failure notice that comes after a document was sent again (lanying-kb resend) is tied to the send it is about, by its transaction ID', async () => {
    const s = await setupSync({
      sync: { confirmTimeout: '1s', ingestRetryDelay: 0 },
      // The first send fails, but only after 3 s: the run has stopped waiting (unconfirmed).
      sandbox: { faults: [{ chatbot: 'fail', reason: 'exception', match: 'a.md', times: 1 }, { chatbot: 'delay', match: 'a.md', delayMs: 3000, times: 1 }] },
    });
    writeFile(s.root, 'a.md', 'content');
    expect((await s.sync()).counts).toMatchObject({ sent: 1, unconfirmed: 1 });
    // Sent again (same version, same sync ID) and ingested; its notice comes after the first send's failure notice.
    s.sandbox.setFaults([{ chatbot: 'delay', match: 'a.md', delayMs: 4000, times: 1 }]);
    expect((await resendDocuments({ config: s.config, keys: ['a.md'] })).marked).toHaveLength(1);
    await s.sandbox.idle();
    const next = await syncSettled(s);
    expect(next.counts).toMatchObject({ sent: 0, ingestFailed: 0 });
    await syncSettled(s);
    const store = s.state();
    const row = store.get('docs', 'a.md');
    const versions = store.kbVersions({ source: 'docs', key: 'a.md' });
    store.close();
    expect(s.sends()).toHaveLength(2);
    expect(row).toMatchObject({ status: 'ingested' });
    // The second send's copy is the document; the failed one was deleted.
    expect(kbDocuments(s.sandbox).map((d) => d.docId)).toEqual([row?.docId]);
    expect(versions.map((v) => v.state)).toEqual(['deleted']);
  });

  it('a refusal that holds for every document stops the run with a clear message (no document fails one by one)', async () => {
    const s = await setupSync({ sandbox: { chatbot: { serviceExpired: true } }, sync: { concurrency: 1 } });
    for (let i = 0; i < 10; i++) writeFile(s.root, `doc-${i}.md`, `doc ${i}`);
    const error = await caught(s.sync());
    expect(error).toBeInstanceOf(ChatbotRefusedError);
    expect((error as Error).message).toMatch(/^the chatbot refuses documents: the app's AI service has expired/);
    expect(s.sends().length).toBeLessThan(10);
    const store = s.state();
    expect(store.list({ status: ['refused'] }).length).toBeGreaterThan(0);
    expect(store.list({ status: ['ingested', 'sent'] })).toHaveLength(0);
    store.close();
  });

  it('--no-wait records documents as sent and leaves their confirmation to a later run', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'a');
    const report = await s.sync({ wait: false });
    expect(report.counts).toMatchObject({ sent: 1, ingested: 0 });
    expect(report.outcome).toBe('ok');
    let store = s.state();
    expect(store.get('docs', 'a.md')?.status).toBe('sent');
    store.close();
    await s.sandbox.idle();
    const later = await syncSettled(s);
    expect(later.counts).toMatchObject({ sent: 0 });
    store = s.state();
    expect(store.get('docs', 'a.md')?.status).toBe('ingested');
    store.close();
  });
});

describe('changed documents are replaced', () => {
  it('sends the new version, and deletes the old one only once the new one is ingested', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'version 1');
    await syncSettled(s);
    const [v1] = kbDocuments(s.sandbox);
    writeFile(s.root, 'a.md', 'version 2, longer');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ changed: 1, sent: 1, ingested: 1, deleted: 1 });
    const docs = kbDocuments(s.sandbox);
    expect(docs).toHaveLength(1);
    expect(docs[0]?.docId).not.toBe(v1?.docId);
    writeFile(s.root, 'a.md', 'version 3, longer still');
    await syncSettled(s);
    expect(kbDocuments(s.sandbox)).toHaveLength(1);
  });

  it('keeps the old version when the new one fails to be ingested', async () => {
    const s = await setupSync({ sandbox: { faults: [] }, sync: { ingestRetryDelay: '1h' } });
    writeFile(s.root, 'a.md', 'good version');
    await syncSettled(s);
    const [good] = kbDocuments(s.sandbox);
    s.sandbox.setFaults([{ chatbot: 'fail', reason: 'exception' }]);
    writeFile(s.root, 'a.md', 'broken version!');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ changed: 1, ingestFailed: 1, deleted: 1 });
    // The failed document went; the good one answers still.
    expect(kbDocuments(s.sandbox).map((d) => d.docId)).toEqual([good?.docId]);
    const store = s.state();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingest-failed', docId: good?.docId });
    store.close();
  });

  it('with onChange: append, old versions stay', async () => {
    const s = await setupSync({ sync: { onChange: 'append' } });
    writeFile(s.root, 'a.md', 'one');
    await syncSettled(s);
    writeFile(s.root, 'a.md', 'two!');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ changed: 1, ingested: 1, deleted: 0 });
    expect(kbDocuments(s.sandbox)).toHaveLength(2);
  });

  it('a moved file whose path metadata could not be set (the command refused, or its document not yet confirmed) gets it on a later run', async () => {
    const s = await setupSync({ sources: (root) => [{ type: 'folder', name: 'docs', path: root, linkBase: 'https://docs.example.test/' }] });
    writeFile(s.root, 'old/place.md', 'same content');
    await syncSettled(s);
    s.sandbox.setFaults([{ chatbot: 'refuse', reason: 'round_limit', match: '/bluevector metadata set*', times: 1 }]);
    rmSync(path.join(s.root, 'old'), { recursive: true });
    writeFile(s.root, 'new/place.md', 'same content');
    expect((await syncSettled(s)).counts).toMatchObject({ moved: 1, sent: 0 });
    expect(s.sandbox.state().knowledgeBase.documents[0]?.metadata.path).toBe('old/place.md');
    await syncSettled(s);
    expect(s.sandbox.state().knowledgeBase.documents[0]?.metadata).toMatchObject({ path: 'new/place.md', link: 'https://docs.example.test/new/place.md' });
    // Once set, it is not set again.
    const commands = () => s.sandbox.state().messages.filter((m) => m.content.startsWith('/bluevector metadata set')).length;
    const before = commands();
    await syncSettled(s);
    expect(commands()).toBe(before);

    // A file moved while its document awaits the chatbot's confirmation: its path follows once it is confirmed.
    s.sandbox.setFaults([{ chatbot: 'delay', match: 'fresh.md', delayMs: 1500 }]);
    writeFile(s.root, 'a/fresh.md', 'fresh content');
    await s.sync({ wait: false });
    rmSync(path.join(s.root, 'a'), { recursive: true });
    writeFile(s.root, 'b/fresh.md', 'fresh content');
    expect((await syncSettled(s)).counts).toMatchObject({ moved: 1, sent: 0 });
    await syncSettled(s);
    expect(kbDocuments(s.sandbox).map((d) => d.path).sort()).toEqual(['b/fresh.md', 'new/place.md']);
  });

  it('a moved file edited afterwards: its old version (sent under the old path) is deleted once the new one is ingested', async () => {
    const s = await setupSync();
    writeFile(s.root, 'old/a.md', 'version 1');
    await syncSettled(s);
    rmSync(path.join(s.root, 'old'), { recursive: true });
    writeFile(s.root, 'new/a.md', 'version 1');
    expect((await syncSettled(s)).counts).toMatchObject({ moved: 1, sent: 0 });
    writeFile(s.root, 'new/a.md', 'version 2, longer');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ changed: 1, ingested: 1, deleted: 1 });
    expect(kbDocuments(s.sandbox).map((d) => d.path)).toEqual(['new/a.md']);
  });

  it('a moved file is not sent again: its document follows it (path and link metadata)', async () => {
    const s = await setupSync({ sources: (root) => [{ type: 'folder', name: 'docs', path: root, linkBase: 'https://docs.example.test/' }] });
    writeFile(s.root, 'old/place.md', 'same content');
    await syncSettled(s);
    rmSync(path.join(s.root, 'old'), { recursive: true });
    writeFile(s.root, 'new/place.md', 'same content');
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ moved: 1, sent: 0 });
    const [doc] = s.sandbox.state().knowledgeBase.documents;
    expect(doc?.metadata).toMatchObject({ path: 'new/place.md', link: 'https://docs.example.test/new/place.md' });
  });
});

describe('documents that left their sources are deleted, safely', () => {
  it('a one-shot sync keeps them until --prune, which deletes them; a file back afterwards is sent again', async () => {
    const s = await setupSync();
    writeFile(s.root, 'keep.md', 'keep');
    writeFile(s.root, 'gone.md', 'gone');
    await syncSettled(s);
    rmSync(path.join(s.root, 'gone.md'));
    const plain = await syncSettled(s);
    expect(plain.counts).toMatchObject({ removed: 1, deleted: 0 });
    expect(kbDocuments(s.sandbox)).toHaveLength(2);
    const pruned = await syncSettled(s, { prune: 'all' });
    expect(pruned.counts).toMatchObject({ deleted: 1 });
    expect(kbDocuments(s.sandbox).map((d) => d.path)).toEqual(['keep.md']);
    let store = s.state();
    expect(store.get('docs', 'gone.md')?.status).toBe('deleted');
    store.close();
    writeFile(s.root, 'gone.md', 'gone');
    const back = await syncSettled(s);
    expect(back.counts).toMatchObject({ new: 1, ingested: 1 });
    expect(back.entries.find((e) => e.key === 'gone.md')?.reason).toBe('back in the source after its document was deleted');
    store = s.state();
    expect(store.get('docs', 'gone.md')?.status).toBe('ingested');
    store.close();
  });

  it('a file deleted after its new version failed to send, to be ingested, or was refused: its document is still deleted', async () => {
    for (const fault of [{ route: 'POST /_oss/*', status: 500 }, { chatbot: 'fail', reason: 'exception' }, { chatbot: 'refuse', reason: 'round_limit' }] as const) {
      const s = await setupSync({ sync: { ingestRetryDelay: '1h' } });
      writeFile(s.root, 'a.md', 'version 1');
      await syncSettled(s);
      writeFile(s.root, 'a.md', 'version 2, longer');
      s.sandbox.setFaults([fault]);
      const failed = await syncSettled(s);
      expect(failed.counts.failed + failed.counts.ingestFailed + failed.counts.refused).toBe(1);
      s.sandbox.setFaults([]);
      rmSync(path.join(s.root, 'a.md'));
      const pruned = await syncSettled(s, { prune: 'all' });
      expect(pruned.counts, JSON.stringify(fault)).toMatchObject({ removed: 1, deleted: 1 });
      expect(kbDocuments(s.sandbox), JSON.stringify(fault)).toEqual([]);
    }
  });

  it('a file deleted or moved while its last send was never confirmed: the version it replaced is deleted, and check --adopt finds the unconfirmed copy, which is deleted or follows the file', async () => {
    for (const how of ['deleted', 'moved'] as const) {
      const s = await setupSync({ sync: { confirmTimeout: 1000 } });
      writeFile(s.root, 'a.md', 'version 1');
      await syncSettled(s);
      writeFile(s.root, 'a.md', 'version 2, longer');
      s.sandbox.setFaults([{ chatbot: 'lose_notice', match: 'a.md' }]);
      expect((await syncSettled(s)).counts).toMatchObject({ changed: 1, unconfirmed: 1 });
      s.sandbox.setFaults([]);
      if (how === 'deleted') rmSync(path.join(s.root, 'a.md'));
      else {
        mkdirSync(path.join(s.root, 'guide'));
        renameSync(path.join(s.root, 'a.md'), path.join(s.root, 'guide/b.md'));
      }
      const pruned = await syncSettled(s, { prune: 'all' });
      // Version 1 goes either way: deleted with its file, or replaced by the moved version 2 once that is found.
      expect(pruned.counts, how).toMatchObject(how === 'deleted' ? { removed: 1, deleted: 1 } : { moved: 1, deleted: 0 });
      expect(kbDocuments(s.sandbox).map((d) => d.path).sort(), how).toEqual(how === 'deleted' ? ['a.md'] : ['a.md', 'a.md']);
      const check = await checkKnowledgeBase({ config: s.config, adopt: true });
      expect(check.knowledgeBases[0]?.adopted, how).toBe(1);
      const settled = await syncSettled(s, { prune: 'all' });
      expect(settled.counts.deleted, how).toBe(1);
      if (how === 'deleted') expect(kbDocuments(s.sandbox)).toEqual([]);
      else expect(kbDocuments(s.sandbox).map((d) => d.path)).toEqual(['guide/b.md']);
      const store = s.state();
      expect(store.get('docs', how === 'deleted' ? 'a.md' : 'guide/b.md')?.status, how).toBe(how === 'deleted' ? 'deleted' : 'ingested');
      store.close();
    }
  });

  it('prune deletes both documents of files deleted while their last sends were unconfirmed, and the next sync has nothing left to count against maxDelete', async () => {
    const s = await setupSync({ sync: { confirmTimeout: 1000 } });
    for (const f of ['a.md', 'b.md']) writeFile(s.root, f, `version 1 of ${f}`);
    await syncSettled(s);
    for (const f of ['a.md', 'b.md']) writeFile(s.root, f, `version 2 of ${f}, longer`);
    s.sandbox.setFaults([{ chatbot: 'lose_notice', match: '*.md' }]);
    expect((await syncSettled(s)).counts).toMatchObject({ changed: 2, unconfirmed: 2 });
    s.sandbox.setFaults([]);
    for (const f of ['a.md', 'b.md']) rmSync(path.join(s.root, f));
    expect((await syncSettled(s)).counts).toMatchObject({ removed: 2, deleted: 0 });
    // The versions they replaced (recorded), and the unconfirmed copies (found by their sync IDs; the status listing
    // names them here), in either order: each row is deleted once both of its documents are gone.
    expect((await pruneKnowledgeBase({ config: s.config })).deleted).toBe(4);
    await s.sandbox.idle();
    expect(kbDocuments(s.sandbox)).toEqual([]);
    const store = s.state();
    expect(store.list().map((r) => [r.key, r.status])).toEqual([
      ['a.md', 'deleted'],
      ['b.md', 'deleted'],
    ]);
    store.close();
    s.config.sync.maxDelete.count = 1;
    const after = await syncSettled(s, { prune: 'all' });
    expect([after.outcome, after.counts.deleted, after.counts.deleteBlocked]).toEqual(['ok', 0, 0]);
  });

  it('the late notice of a file deleted before its send was confirmed ties its copy, which is then deleted with it', async () => {
    const s = await setupSync({ sync: { confirmTimeout: '1s' }, sandbox: { faults: [{ chatbot: 'delay', match: 'a.md', delayMs: 2500 }] } });
    writeFile(s.root, 'a.md', 'version 1');
    expect((await s.sync()).counts).toMatchObject({ sent: 1, unconfirmed: 1 });
    rmSync(path.join(s.root, 'a.md'));
    expect((await s.sync()).counts).toMatchObject({ removed: 1, deleted: 0 });
    await s.sandbox.idle();
    // The notice came after both runs: the next one reads it, and deletes the copy with the document.
    const pruned = await syncSettled(s, { prune: 'all' });
    expect(pruned.counts).toMatchObject({ deleted: 1 });
    expect(kbDocuments(s.sandbox)).toEqual([]);
    const store = s.state();
    expect(store.get('docs', 'a.md')?.status).toBe('deleted');
    store.close();
  });

  it('resend of an unconfirmed document whose new send is refused: check lists the first copy (notice lost) as adoptable, prune --walk keeps it, check --adopt records it', async () => {
    const s = await setupSync({ sync: { confirmTimeout: '1s' } });
    writeFile(s.root, 'a.md', 'version 1');
    s.sandbox.setFaults([{ chatbot: 'lose_notice', match: 'a.md' }]);
    expect((await syncSettled(s)).counts).toMatchObject({ sent: 1, unconfirmed: 1 });
    s.sandbox.setFaults([{ chatbot: 'refuse', reason: 'round_limit', match: 'a.md' }]);
    await resendDocuments({ config: s.config, keys: ['a.md'] });
    s.sandbox.setFaults([]);
    await s.sandbox.idle();
    const [copy] = kbDocuments(s.sandbox);
    // The row names no version now (refused), but the copy holds its current content: its current version.
    const check = await checkKnowledgeBase({ config: s.config, walk: true });
    expect(check.knowledgeBases[0]?.findings.filter((f) => f.docId === copy?.docId).map((f) => f.kind)).toEqual(['adoptable']);
    expect((await pruneKnowledgeBase({ config: s.config, walk: true })).deleted).toBe(0);
    expect(kbDocuments(s.sandbox)).toHaveLength(1);
    expect((await checkKnowledgeBase({ config: s.config, adopt: true })).knowledgeBases[0]?.adopted).toBe(1);
    const store = s.state();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingested', docId: copy?.docId, syncId: copy?.syncId });
    store.close();
    expect((await syncSettled(s)).counts).toMatchObject({ sent: 0, unchanged: 1 });
    expect(kbDocuments(s.sandbox).map((d) => d.docId)).toEqual([copy?.docId]);
    expect((await checkKnowledgeBase({ config: s.config, walk: true })).differs).toBe(false);
  });

  it('a missing source folder deletes nothing', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'a');
    await syncSettled(s);
    rmSync(s.root, { recursive: true });
    await caught(s.sync({ prune: 'all' }));
    expect(kbDocuments(s.sandbox)).toHaveLength(1);
  });

  it('over sync.maxDelete nothing is deleted: a warning, and the run is partial (exit 3)', async () => {
    const s = await setupSync({ sync: { maxDelete: { count: 2 } } });
    for (let i = 0; i < 4; i++) writeFile(s.root, `d${i}.md`, `doc ${i}`);
    await syncSettled(s);
    for (let i = 0; i < 3; i++) rmSync(path.join(s.root, `d${i}.md`));
    const report = await syncSettled(s, { prune: 'all' });
    expect(report.counts).toMatchObject({ removed: 3, deleted: 0, deleteBlocked: 3 });
    expect(report.outcome).toBe('partial');
    expect(report.deleteBlocked).toBe('3 documents left their sources, more than sync.maxDelete.count (2)');
    expect(kbDocuments(s.sandbox)).toHaveLength(4);
  });

  it('over sync.maxDelete.percent of the knowledge base nothing is deleted (runs of more than 10 deletions)', async () => {
    const s = await setupSync({ sync: { maxDelete: { percent: 40 } } });
    for (let i = 0; i < 30; i++) writeFile(s.root, `d${String(i).padStart(2, '0')}.md`, `doc ${i}`);
    await syncSettled(s);
    for (let i = 0; i < 16; i++) rmSync(path.join(s.root, `d${String(i).padStart(2, '0')}.md`));
    const report = await syncSettled(s, { prune: 'all' });
    expect(report.deleteBlocked).toBe('16 of 30 documents left their sources (53 %), more than sync.maxDelete.percent (40 %)');
    expect(kbDocuments(s.sandbox)).toHaveLength(30);
    for (let i = 0; i < 5; i++) writeFile(s.root, `d${String(i).padStart(2, '0')}.md`, `doc ${i}`);
    // Eleven of thirty (37 %) are within the bound.
    const within = await syncSettled(s, { prune: 'all' });
    expect(within.counts).toMatchObject({ deleted: 11 });
    expect(kbDocuments(s.sandbox)).toHaveLength(19);
  });

  it('never deletes a document whose metadata is not lanying-kb\'s', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'a');
    await syncSettled(s);
    const [doc] = kbDocuments(s.sandbox);
    // Someone took the document over (another tool set its metadata).
    await adminCommand(s, `/bluevector metadata set ${doc?.docId} managed_by someone-else`);
    rmSync(path.join(s.root, 'a.md'));
    const events: unknown[] = [];
    const report = await syncSettled(s, { prune: 'all', onEvent: (e) => events.push(e) });
    expect(report.counts).toMatchObject({ deleted: 0 });
    expect(kbDocuments(s.sandbox)).toHaveLength(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'deleted', deletion: expect.objectContaining({ result: 'not-ours' }) }));
  });

  it('with onRemove: keep, nothing is ever deleted', async () => {
    const s = await setupSync({ sync: { onRemove: 'keep' } });
    writeFile(s.root, 'a.md', 'a');
    await syncSettled(s);
    rmSync(path.join(s.root, 'a.md'));
    const report = await syncSettled(s, { prune: 'all' });
    expect(report.counts).toMatchObject({ removed: 1, deleted: 0 });
    expect(kbDocuments(s.sandbox)).toHaveLength(1);
  });
});

describe('answers read late', () => {
  it('a run with nothing on its way and nothing to look for makes no request (a no-op stays local)', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'a');
    await syncSettled(s);
    const before = s.sandbox.state().requests.length;
    const report = await syncSettled(s);
    expect(report.counts).toMatchObject({ unchanged: 1, sent: 0 });
    expect(s.sandbox.state().requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('refusals of an earlier run that did not wait are read before the next run decides: it sends those documents again and is not stopped by old refusals', async () => {
    const s = await setupSync({ sandbox: { faults: [{ chatbot: 'refuse', reason: 'deduct_failed' }] } });
    for (let i = 0; i < 8; i++) writeFile(s.root, `doc-${i}.md`, `# ${i}\n`);
    expect((await s.sync({ wait: false })).counts).toMatchObject({ sent: 8 });
    await s.sandbox.idle();
    s.sandbox.setFaults([]);
    // Every document was refused; the state does not know yet (the run did not wait for the answers).
    const report = await syncSettled(s);
    expect(report.outcome).toBe('ok');
    expect(report.counts).toMatchObject({ sent: 8, ingested: 8 });
    expect(kbDocuments(s.sandbox).map((d) => d.path).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `doc-${i}.md`));
  });
});

describe('sends interrupted after the server took them', () => {
  it('sends that reached the chatbot but whose answers were lost (a stopped or killed run) are not sent twice, and an old refusal among them neither stops the next run nor loses its document', async () => {
    const s = await setupSync({ sync: { concurrency: 1 }, sandbox: { faults: [{ chatbot: 'refuse', reason: 'deduct_failed', match: 'a.md' }] } });
    writeFile(s.root, 'a.md', 'a');
    writeFile(s.root, 'b.md', 'b');
    expect((await syncSettled(s, { wait: false })).counts).toMatchObject({ sent: 2 });
    // The chatbot refused a.md and ingested b.md. As a run stopped (or killed) between the sends and their answers
    // leaves them: pending, with the transaction IDs the server saw, no message IDs.
    expect(kbDocuments(s.sandbox).map((d) => d.path)).toEqual(['b.md']);
    const store = StateStore.open(s.config.sync.stateDir);
    for (const row of store.list()) {
      store.put({ ...row, status: 'pending', msgId: null, uploadedHash: null, syncId: null, docId: null, uploadedAt: null, ingestedAt: null, downloadUrl: null, lastError: null });
    }
    store.close();
    s.sandbox.setFaults([]);
    const report = await syncSettled(s);
    expect(report.outcome).toBe('ok');
    expect(report.counts).toMatchObject({ sent: 2, ingested: 2, refused: 0 });
    // a.md went again as a new message; b.md's repeat was dropped by the server and its old answers taken.
    expect(s.sends().map((m) => attachmentOf(m).dName)).toEqual(['a.md', 'b.md', 'a.md']);
    expect(kbDocuments(s.sandbox).map((d) => d.path).sort()).toEqual(['a.md', 'b.md']);
  });
});

describe('the daemon: documents that left their sources', () => {
  it('a change seen in a root that then vanished (an unmounted disk) is no removal: nothing is deleted, and the change is sent once the root is back', async () => {
    const env = await daemonEnv({ sync: { deleteAfter: 0 } });
    env.write('a.md', 'a');
    env.write('b.md', 'b');
    const logs = logSink();
    const daemon = await useDaemon(env.config(), { logs, maintainIntervalMs: 50, unavailableRecheckMs: 200 });
    await daemon.ready;
    await waitForDaemon(() => env.read((s) => s.list({ status: ['ingested'] }).length) === 2, 10_000, 'both ingested');
    env.write('a.md', 'a, edited');
    renameSync(env.docs, `${env.docs}.away`);
    await waitForDaemon(() => logs.lines.some((l) => l.event === 'batch-finished' || l.event === 'paths-failed' || l.event === 'source-unavailable'), 10_000, 'the watched change handled');
    await daemon.whenIdle();
    await env.sandbox.idle();
    expect(env.read((s) => s.list().map((r) => [r.key, r.status]))).toEqual([
      ['a.md', 'ingested'],
      ['b.md', 'ingested'],
    ]);
    expect(kbDocuments(env.sandbox)).toHaveLength(2);
    renameSync(`${env.docs}.away`, env.docs);
    await waitForDaemon(() => env.sentPaths().length === 3, 20_000, 'the edit, sent once the root is back');
  });
});

describe('a chatbot that runs no commands', () => {
  it('is found out once: a warning, no replace and no delete, documents unconfirmed, no loop', async () => {
    const s = await setupSync({ sync: { commandTimeout: 300, confirmTimeout: 1000 }, sandbox: { faults: [{ chatbot: 'no_commands', answer: 'silent' }] } });
    writeFile(s.root, 'a.md', 'a');
    writeFile(s.root, 'b.md', 'b');
    const warnings: string[] = [];
    const report = await syncSettled(s, { onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
    expect(report.counts).toMatchObject({ sent: 2, unconfirmed: 2 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the chatbot does not run \/bluevector commands/);
    const commands = s.sandbox.state().messages.filter((m) => m.content.startsWith('/bluevector'));
    // One command found it out; none after.
    expect(commands).toHaveLength(1);
  });
});

describe('the state is keyed to the target', () => {
  it('a configuration pointing at another knowledge base sends every document there, and says so', async () => {
    const s = await setupSync({ sandbox: { knowledgeBase: { otherKnowledgeBases: [] } } });
    writeFile(s.root, 'a.md', 'a');
    await syncSettled(s);
    const other = { ...s.config, knowledgeBase: { ...(s.config.knowledgeBase as NonNullable<typeof s.config.knowledgeBase>), name: 'another-kb' } };
    const warnings: string[] = [];
    const report = await (await import('../../src/sync/sync-once.js')).syncOnce({ config: other, wait: false, onEvent: (e) => e.type === 'warning' && warnings.push(e.message) });
    expect(report.counts).toMatchObject({ new: 1, sent: 1 });
    expect(report.entries[0]?.reason).toBe('not yet in this knowledge base (the configuration points at another one than the state records)');
    expect(warnings[0]).toMatch(/the state records 1 document\(s\) sent to another knowledge base/);
  });

  it('sync.maxSendsPerRun caps what one run sends; the next run sends the rest', async () => {
    const s = await setupSync({ sync: { maxSendsPerRun: 2 } });
    for (let i = 0; i < 5; i++) writeFile(s.root, `d${i}.md`, `doc ${i}`);
    const first = await syncSettled(s);
    expect(first.counts).toMatchObject({ sent: 2, skipped: 3 });
    expect(first.entries.filter((e) => e.reason === 'over sync.maxSendsPerRun: sent by a later run')).toHaveLength(3);
    expect((await syncSettled(s)).counts).toMatchObject({ sent: 2 });
    expect((await syncSettled(s)).counts).toMatchObject({ sent: 1 });
    expect(kbDocuments(s.sandbox)).toHaveLength(5);
  });
});

/** Sends a text as the knowledge-base admin to the chatbot (a command a person could type). */
async function adminCommand(s: SyncSetup, text: string): Promise<void> {
  const kb = s.sandbox.knowledgeBase;
  const response = await fetch(`${s.sandbox.url}/message/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', app_id: s.sandbox.appId, 'access-token': s.sandbox.accessToken },
    body: JSON.stringify({ type: 1, targets: [kb.chatbotUserId], from_user_id: kb.adminUserIds[0], content_type: 0, content: text }),
  });
  expect(response.status).toBe(200);
  await s.sandbox.idle();
}
