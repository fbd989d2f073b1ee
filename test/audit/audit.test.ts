import path from 'node:path';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkKnowledgeBase } from '../../src/audit/check.js';
import { pruneKnowledgeBase } from '../../src/audit/prune.js';
import { parseConfig } from '../../src/config/load.js';
import { forgetDocuments } from '../../src/documents/forget.js';
import { resendDocuments } from '../../src/documents/resend.js';
import { CommandTimeoutError } from '../../src/kb/channel.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { type DocumentRecord, StateStore } from '../../src/state/store.js';
import { syncOnce } from '../../src/sync/sync-once.js';
import { caught } from '../helpers/errors.js';
import { clientFor } from '../helpers/sandbox.js';
import { type SyncSetup, setupSync } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';

/** The knowledge base's documents: doc ID, the path their metadata names, their sync ID. */
function kbDocuments(sandbox: Sandbox): { docId: string; path: string; syncId: string; managed: boolean }[] {
  return sandbox
    .state()
    .knowledgeBase.documents.map((d) => ({ docId: d.doc_id, path: d.metadata.path ?? '', syncId: d.metadata.sync_id ?? '', managed: d.metadata.managed_by === 'lanying-kb' }));
}

async function settledSync(s: SyncSetup, options: Parameters<SyncSetup['sync']>[0] = {}) {
  const report = await s.sync(options);
  await s.sandbox.idle();
  return report;
}

function counts(report: Awaited<ReturnType<typeof checkKnowledgeBase>>) {
  const kb = report.knowledgeBases[0];
  if (!kb) throw new Error('no knowledge base checked');
  return Object.fromEntries(Object.entries(kb.counts).filter(([, n]) => n > 0));
}

describe('check', () => {
  it('finds nothing to say when the knowledge base holds what the state records', async () => {
    const s = await setupSync();
    for (const name of ['a.md', 'b.md', 'c.md']) writeFile(s.root, name, `# ${name}\n`);
    await settledSync(s);
    const report = await checkKnowledgeBase({ config: s.config });
    expect(report.differs).toBe(false);
    expect(report.knowledgeBases).toHaveLength(1);
    expect(report.knowledgeBases[0]).toMatchObject({ total: 3, matching: 3, notManaged: 0, unexamined: 0, findings: [], adopted: 0 });
  });

  it('a wiped knowledge base: every document missing; resend --all sends them again and check agrees', async () => {
    const s = await setupSync();
    for (const name of ['a.md', 'b.md']) writeFile(s.root, name, `# ${name}\n`);
    await settledSync(s);
    s.sandbox.reset();
    const before = await checkKnowledgeBase({ config: s.config });
    expect(before.differs).toBe(true);
    expect(counts(before)).toEqual({ missing: 2 });
    expect(before.knowledgeBases[0]?.findings[0]?.detail).toMatch(/which the knowledge base does not hold \(resend sends it again\)$/);

    const resent = await resendDocuments({ config: s.config, all: true });
    await s.sandbox.idle();
    expect(resent.marked.map((d) => d.key)).toEqual(['a.md', 'b.md']);
    expect(resent.report?.counts).toMatchObject({ sent: 2, ingested: 2 });
    expect(resent.report?.entries.find((e) => e.key === 'a.md')?.reason).toBe('to be sent again (lanying-kb resend)');
    expect(kbDocuments(s.sandbox).map((d) => d.path).sort()).toEqual(['a.md', 'b.md']);
    const after = await checkKnowledgeBase({ config: s.config });
    expect(after.differs).toBe(false);
  });

  it('resend of one document replaces its copy in the knowledge base once the new one is ingested', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'A');
    writeFile(s.root, 'b.md', 'B');
    await settledSync(s);
    const oldId = kbDocuments(s.sandbox).find((d) => d.path === 'a.md')?.docId;
    const resent = await resendDocuments({ config: s.config, keys: ['a.md'] });
    await s.sandbox.idle();
    expect(resent.report?.counts).toMatchObject({ sent: 1, ingested: 1, deleted: 1 });
    const docs = kbDocuments(s.sandbox);
    expect(docs.map((d) => d.path).sort()).toEqual(['a.md', 'b.md']);
    expect(docs.find((d) => d.path === 'a.md')?.docId).not.toBe(oldId);
    expect((await checkKnowledgeBase({ config: s.config })).differs).toBe(false);
  });

  it('resend of a document whose new version is unconfirmed: the version that one replaced goes once the resent copy is ingested', async () => {
    const s = await setupSync({ sync: { confirmTimeout: 1000 } });
    writeFile(s.root, 'a.md', 'v1');
    await settledSync(s);
    const first = kbDocuments(s.sandbox)[0]?.docId;
    s.sandbox.setFaults([{ chatbot: 'lose_notice' }]);
    writeFile(s.root, 'a.md', 'v2, longer');
    await settledSync(s);
    s.sandbox.setFaults([]);
    let store = s.state();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'unconfirmed', prevDocId: first });
    store.close();
    const resent = await resendDocuments({ config: s.config, keys: ['a.md'] });
    await s.sandbox.idle();
    expect(resent.report?.counts).toMatchObject({ sent: 1, ingested: 1 });
    expect(kbDocuments(s.sandbox).map((d) => d.docId)).not.toContain(first);
    store = s.state();
    expect(store.kbVersions({ states: ['superseded', 'delete'] })).toEqual([]);
    store.close();
  });

  it('a lost confirmation leaves a document unconfirmed; check --adopt proves it by its metadata and records it', async () => {
    const s = await setupSync({ sync: { confirmTimeout: 3000 }, sandbox: { faults: [{ chatbot: 'lose_notice', match: 'lost.md' }] } });
    writeFile(s.root, 'lost.md', 'lost');
    writeFile(s.root, 'kept.md', 'kept');
    await settledSync(s);
    const before = await checkKnowledgeBase({ config: s.config });
    // The status listing names the document, so even without --walk it is found and proven.
    expect(counts(before)).toEqual({ unconfirmed: 1, adoptable: 1 });
    const adopted = await checkKnowledgeBase({ config: s.config, adopt: true });
    expect(adopted.knowledgeBases[0]?.adopted).toBe(1);
    expect(adopted.differs).toBe(false);
    const store = s.state();
    const row = store.get('docs', 'lost.md');
    store.close();
    expect(row).toMatchObject({ status: 'ingested', docId: kbDocuments(s.sandbox).find((d) => d.path === 'lost.md')?.docId });
    expect((await checkKnowledgeBase({ config: s.config })).differs).toBe(false);
  });

  it('check --adopt of an interrupted first send: the adopted document is its sent version, not sent again', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'A');
    await settledSync(s);
    // A crash after the server took the send and before its answer was recorded leaves the row of an interrupted send.
    const writable = StateStore.open(s.config.sync.stateDir);
    const row = writable.get('docs', 'a.md') as DocumentRecord;
    writable.put({ ...row, status: 'pending', uploadedHash: null, msgId: null, downloadUrl: null, docId: null, uploadedAt: null, ingestedAt: null });
    writable.close();
    const adopted = await checkKnowledgeBase({ config: s.config, adopt: true });
    expect(adopted.knowledgeBases[0]?.adopted).toBe(1);
    await settledSync(s);
    expect(s.sends()).toHaveLength(1);
    expect(kbDocuments(s.sandbox)).toHaveLength(1);
    expect((await checkKnowledgeBase({ config: s.config, walk: true })).differs).toBe(false);
  });

  it('check --adopt of an interrupted send of a changed document: the version it replaces goes, as with a confirmation', async () => {
    const s = await setupSync({ sync: { onChange: 'append' } });
    writeFile(s.root, 'a.md', 'v1');
    await settledSync(s);
    let store = s.state();
    const v1 = store.get('docs', 'a.md') as DocumentRecord;
    store.close();
    writeFile(s.root, 'a.md', 'v2, longer');
    await settledSync(s);
    expect(kbDocuments(s.sandbox)).toHaveLength(2);
    // As if the send of v2 had been interrupted after the server took it: the row still names v1's document.
    const writable = StateStore.open(s.config.sync.stateDir);
    const v2 = writable.get('docs', 'a.md') as DocumentRecord;
    writable.put({ ...v2, status: 'pending', uploadedHash: v1.uploadedHash, docId: v1.docId, msgId: null, uploadedAt: null, ingestedAt: null });
    writable.close();
    const replace = parseConfig({ ...s.raw, sync: { ...(s.raw.sync as object), onChange: 'replace' } }, { baseDir: s.dir, env: {} });
    const adopted = await checkKnowledgeBase({ config: replace, adopt: true });
    expect(adopted.knowledgeBases[0]?.adopted).toBe(1);
    await syncOnce({ config: replace });
    await s.sandbox.idle();
    expect(kbDocuments(s.sandbox).map((d) => d.syncId)).toEqual([v2.syncId]);
    store = s.state();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'ingested', uploadedHash: v2.hash });
    store.close();
  });

  it('check --adopt of versions whose confirmation was lost: the versions they replace go, as with a confirmation', async () => {
    const s = await setupSync({ sync: { confirmTimeout: 1000 } });
    writeFile(s.root, 'a.md', 'A');
    writeFile(s.root, 'b.md', 'B1');
    await settledSync(s);
    s.sandbox.setFaults([{ chatbot: 'lose_notice' }]);
    // a.md sent again (its copy superseded), b.md changed (its first version replaced): both confirmations lost.
    await resendDocuments({ config: s.config, keys: ['a.md'] });
    writeFile(s.root, 'b.md', 'B2, longer');
    await settledSync(s);
    s.sandbox.setFaults([]);
    let store = s.state();
    expect(store.list({ status: ['unconfirmed'] }).map((r) => r.key)).toEqual(['a.md', 'b.md']);
    store.close();
    expect(kbDocuments(s.sandbox)).toHaveLength(4);
    const adopted = await checkKnowledgeBase({ config: s.config, adopt: true });
    expect(adopted.knowledgeBases[0]?.adopted).toBe(2);
    await settledSync(s);
    store = s.state();
    const current = [store.get('docs', 'a.md')?.syncId, store.get('docs', 'b.md')?.syncId];
    store.close();
    expect(kbDocuments(s.sandbox).map((d) => d.syncId).sort()).toEqual(current.sort());
    expect((await checkKnowledgeBase({ config: s.config, walk: true })).differs).toBe(false);
  });

  it('check --adopt never records a document the chatbot failed to ingest as ingested', async () => {
    const s = await setupSync({ sync: { confirmTimeout: 1000 }, sandbox: { faults: [{ chatbot: 'fail', reason: 'exception' }, { chatbot: 'lose_notice' }] } });
    writeFile(s.root, 'a.md', 'A');
    await settledSync(s);
    expect(s.sandbox.state().knowledgeBase.documents.map((d) => [d.status, d.metadata.managed_by])).toEqual([['error', 'lanying-kb']]);
    const report = await checkKnowledgeBase({ config: s.config, adopt: true });
    expect(report.knowledgeBases[0]?.adopted).toBe(0);
    expect(counts(report)).toEqual({ unconfirmed: 1, failed: 1 });
    const store = s.state();
    expect(store.get('docs', 'a.md')?.status).toBe('unconfirmed');
    store.close();
  });

  it('adopts a knowledge base filled before confirmations were followed: the walk reaches beyond the last 20 listed', async () => {
    const s = await setupSync({ sync: { confirmTimeout: 1000 }, sandbox: { faults: [{ chatbot: 'lose_notice' }] } });
    for (let i = 0; i < 25; i++) writeFile(s.root, `doc-${String(i).padStart(2, '0')}.md`, `doc ${i}`);
    await settledSync(s);
    const before = await checkKnowledgeBase({ config: s.config });
    expect(counts(before)).toEqual({ unconfirmed: 25, adoptable: 20 });
    expect(before.knowledgeBases[0]?.unexamined).toBe(5);
    const adopted = await checkKnowledgeBase({ config: s.config, adopt: true });
    expect(adopted.knowledgeBases[0]).toMatchObject({ adopted: 25, matching: 25, unexamined: 0, findings: [] });
    const store = s.state();
    expect(store.list({ status: ['ingested'] })).toHaveLength(25);
    store.close();
  });

  it('the walk finds old versions that onChange: append left; prune --walk deletes them and nothing else', async () => {
    const s = await setupSync({ sync: { onChange: 'append' } });
    writeFile(s.root, 'a.md', 'v1');
    writeFile(s.root, 'b.md', 'B');
    await settledSync(s);
    writeFile(s.root, 'a.md', 'v2, longer');
    await settledSync(s);
    expect(kbDocuments(s.sandbox)).toHaveLength(3);
    const listedOnly = await checkKnowledgeBase({ config: s.config });
    expect(counts(listedOnly)).toEqual({ stale: 1 });
    const dry = await pruneKnowledgeBase({ config: s.config, dryRun: true, walk: true });
    expect(dry.knowledgeBases[0]?.plan.delete.map((f) => [f.kind, f.key])).toEqual([['stale', 'a.md']]);
    expect(kbDocuments(s.sandbox)).toHaveLength(3);
    const pruned = await pruneKnowledgeBase({ config: s.config, walk: true });
    await s.sandbox.idle();
    expect(pruned).toMatchObject({ deleted: 1, failed: 0, blocked: false });
    const docs = kbDocuments(s.sandbox);
    expect(docs.map((d) => d.path).sort()).toEqual(['a.md', 'b.md']);
    const store = s.state();
    expect(docs.find((d) => d.path === 'a.md')?.syncId).toBe(store.get('docs', 'a.md')?.syncId);
    store.close();
    expect((await checkKnowledgeBase({ config: s.config, walk: true })).differs).toBe(false);
  });

  it('documents that left their sources: removed until prune deletes them; --dry-run and onRemove: keep delete nothing', async () => {
    const s = await setupSync();
    for (const name of ['a.md', 'b.md', 'c.md']) writeFile(s.root, name, name);
    await settledSync(s);
    rmSync(path.join(s.root, 'c.md'));
    await settledSync(s);
    const before = await checkKnowledgeBase({ config: s.config });
    expect(counts(before)).toEqual({ removed: 1 });

    const keep = parseConfig({ ...s.raw, sync: { ...(s.raw.sync as object), onRemove: 'keep' } }, { baseDir: s.dir, env: {} });
    const kept = await pruneKnowledgeBase({ config: keep });
    expect(kept.knowledgeBases[0]?.plan.kept.map((f) => f.key)).toEqual(['c.md']);
    expect(kept.deleted).toBe(0);
    await pruneKnowledgeBase({ config: s.config, dryRun: true });
    await s.sandbox.idle();
    expect(kbDocuments(s.sandbox)).toHaveLength(3);

    const pruned = await pruneKnowledgeBase({ config: s.config });
    await s.sandbox.idle();
    expect(pruned.deleted).toBe(1);
    expect(kbDocuments(s.sandbox).map((d) => d.path).sort()).toEqual(['a.md', 'b.md']);
    const store = s.state();
    expect(store.get('docs', 'c.md')?.status).toBe('deleted');
    store.close();
    expect((await checkKnowledgeBase({ config: s.config })).differs).toBe(false);
  });

  it('prune holds back every guarded deletion over sync.maxDelete', async () => {
    const s = await setupSync({ sync: { maxDelete: { count: 1 } } });
    for (const name of ['a.md', 'b.md', 'c.md']) writeFile(s.root, name, name);
    await settledSync(s);
    rmSync(path.join(s.root, 'b.md'));
    rmSync(path.join(s.root, 'c.md'));
    await settledSync(s);
    const pruned = await pruneKnowledgeBase({ config: s.config });
    await s.sandbox.idle();
    expect(pruned.blocked).toBe(true);
    expect(pruned.knowledgeBases[0]?.plan.blocked?.reason).toBe('2 documents would be pruned, more than sync.maxDelete.count (1)');
    expect(kbDocuments(s.sandbox)).toHaveLength(3);
  });

  it('prune weighs sync.maxDelete.percent against this configuration\'s documents, not the whole knowledge base', async () => {
    const s = await setupSync();
    for (let i = 0; i < 11; i++) writeFile(s.root, `doc-${i}.md`, `doc ${i}`);
    await settledSync(s);
    // Another configuration's 12 documents in the same knowledge base: prune never deletes them.
    const otherDir = path.join(s.dir, 'other');
    for (let i = 0; i < 12; i++) writeFile(otherDir, `x-${i}.md`, `x ${i}`);
    const other = parseConfig({ ...s.raw, sources: [{ type: 'folder', name: 'theirs', path: otherDir }], sync: { ...(s.raw.sync as object), stateDir: path.join(s.dir, 'other-state') } }, { baseDir: s.dir, env: {} });
    await syncOnce({ config: other });
    await s.sandbox.idle();
    expect(kbDocuments(s.sandbox)).toHaveLength(23);
    // The state folder is lost (a new machine, a wiped volume): every document of ours looks untracked.
    rmSync(s.config.sync.stateDir, { recursive: true, force: true });
    const pruned = await pruneKnowledgeBase({ config: s.config, walk: true });
    await s.sandbox.idle();
    expect(pruned.blocked).toBe(true);
    expect(pruned.knowledgeBases[0]?.plan.blocked?.reason).toBe('11 of 11 documents would be pruned (100 %), more than sync.maxDelete.percent (50 %)');
    expect(kbDocuments(s.sandbox)).toHaveLength(23);
  });

  it('never touches documents that are not lanying-kb\'s, nor those of another configuration\'s sources', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'A');
    await settledSync(s);
    // A page an admin sent by hand (no metadata of ours).
    s.sandbox.setPage('manual.html', { body: '<html><title>Manual</title><body>by hand</body></html>' });
    const { client } = clientFor(s.sandbox);
    const kb = s.sandbox.knowledgeBase;
    await client.messages.sendText({ users: [kb.chatbotUserId] }, `${s.sandbox.url}/_sandbox/site/manual.html`, { from: kb.adminUserIds[0] as number });
    // Another configuration (another state folder) with a source of another name, into the same knowledge base.
    const otherDir = path.join(s.dir, 'other');
    writeFile(otherDir, 'x.md', 'X');
    const other = parseConfig({ ...s.raw, sources: [{ type: 'folder', name: 'theirs', path: otherDir }], sync: { ...(s.raw.sync as object), stateDir: path.join(s.dir, 'other-state') } }, { baseDir: s.dir, env: {} });
    await syncOnce({ config: other });
    await s.sandbox.idle();
    expect(kbDocuments(s.sandbox)).toHaveLength(3);

    const report = await checkKnowledgeBase({ config: s.config, walk: true });
    expect(report.differs).toBe(false);
    expect(counts(report)).toEqual({ foreign: 1 });
    expect(report.knowledgeBases[0]).toMatchObject({ notManaged: 1, matching: 1 });
    const pruned = await pruneKnowledgeBase({ config: s.config, walk: true });
    await s.sandbox.idle();
    expect(pruned.deleted).toBe(0);
    expect(kbDocuments(s.sandbox)).toHaveLength(3);
  });

  it('forget: the state forgets; the next sync sends as new, and check --walk shows the first copies as duplicates that prune --walk deletes', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'A');
    writeFile(s.root, 'b.md', 'B');
    await settledSync(s);
    const dry = await forgetDocuments({ config: s.config, keys: ['a.md'], dryRun: true });
    expect(dry).toMatchObject({ forgotten: [{ key: 'a.md' }], inKnowledgeBase: 1 });
    let store = s.state();
    expect(store.get('docs', 'a.md')).toBeDefined();
    store.close();
    await forgetDocuments({ config: s.config, keys: ['a.md'] });
    store = s.state();
    expect(store.get('docs', 'a.md')).toBeUndefined();
    store.close();
    const untracked = await checkKnowledgeBase({ config: s.config, walk: true });
    expect(counts(untracked)).toEqual({ extra: 1 });
    await settledSync(s);
    const twice = await checkKnowledgeBase({ config: s.config, walk: true });
    expect(counts(twice)).toEqual({ duplicate: 1 });
    await pruneKnowledgeBase({ config: s.config, walk: true });
    await s.sandbox.idle();
    expect(kbDocuments(s.sandbox).map((d) => d.path).sort()).toEqual(['a.md', 'b.md']);
    expect((await checkKnowledgeBase({ config: s.config, walk: true })).differs).toBe(false);
  });

  it('resend --all after a file left its source: the copy it leaves behind is not hidden from check, and prune deletes it', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'A');
    writeFile(s.root, 'b.md', 'B');
    await settledSync(s);
    rmSync(path.join(s.root, 'a.md'));
    const resent = await resendDocuments({ config: s.config, all: true });
    await s.sandbox.idle();
    expect(resent.marked.map((d) => d.key)).toEqual(['a.md', 'b.md']);
    // a.md was not sent again (its file is gone) and its row is forgotten; its first copy is still there.
    let store = s.state();
    expect(store.get('docs', 'a.md')).toBeUndefined();
    store.close();
    expect(kbDocuments(s.sandbox).map((d) => d.path).sort()).toEqual(['a.md', 'b.md']);
    const check = await checkKnowledgeBase({ config: s.config });
    expect(counts(check)).toEqual({ extra: 1 });
    expect(check.knowledgeBases[0]?.findings[0]).toMatchObject({ kind: 'extra', key: 'a.md', prunable: true });
    const pruned = await pruneKnowledgeBase({ config: s.config });
    await s.sandbox.idle();
    expect(pruned).toMatchObject({ deleted: 1, failed: 0 });
    expect(kbDocuments(s.sandbox).map((d) => d.path)).toEqual(['b.md']);
    store = s.state();
    expect(store.kbVersions({ states: ['superseded', 'delete'] })).toEqual([]);
    store.close();
    expect((await checkKnowledgeBase({ config: s.config, walk: true })).differs).toBe(false);
  });

  it('a document the chatbot would not read during a walk is reported, never taken for nothing there', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'A');
    writeFile(s.root, 'b.md', 'B');
    await settledSync(s);
    await forgetDocuments({ config: s.config, keys: ['a.md'] });
    const docId = kbDocuments(s.sandbox).find((d) => d.path === 'a.md')?.docId as string;
    s.sandbox.setFaults([{ chatbot: 'refuse', reason: 'round_limit', match: `/bluevector metadata get ${docId}` }]);
    const report = await checkKnowledgeBase({ config: s.config, walk: true });
    expect(report.differs).toBe(true);
    expect(counts(report)).toEqual({ unreadable: 1 });
    expect(report.knowledgeBases[0]?.findings[0]).toMatchObject({ kind: 'unreadable', docId, prunable: false });
  });

  it('a chatbot that runs no commands: check fails with one clear error', async () => {
    const s = await setupSync({ sync: { commandTimeout: 300 }, sandbox: { faults: [{ chatbot: 'no_commands', answer: 'silent' }] } });
    const error = await caught(checkKnowledgeBase({ config: s.config }));
    expect(error).toBeInstanceOf(CommandTimeoutError);
    expect((error as Error).message).toBe(`the chatbot did not answer "/bluevector status ${s.config.knowledgeBase?.name}" within 300 ms (sync.commandTimeout)`);
  });
});
