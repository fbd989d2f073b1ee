import { createHash } from 'node:crypto';
import { renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthError, UnavailableError } from '../../src/api/errors.js';
import { createClient } from '../../src/runtime/create-client.js';
import type { SyncReport } from '../../src/sync/report.js';
import { SourceError, StateError, UsageError } from '../../src/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { syncOnce } from '../../src/sync/sync-once.js';
import { type DocumentRecord, StateStore } from '../../src/state/store.js';
import type { SyncEvent } from '../../src/sync/engine.js';
import { attachmentOf, metadataOf, setupSync, waitFor } from '../helpers/sync.js';
import { writeFile } from '../helpers/tmp-dir.js';
import { caught } from '../helpers/errors.js';

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

describe('sync engine: change detection', () => {
  it('sends every supported document once, with metadata, attachment and ext as the chatbot wants them', async () => {
    const s = await setupSync({
      sources: (root) => [{ type: 'folder', name: 'docs', path: root, linkBase: 'https://docs.example/kb', metadata: { team: 'support' } }],
    });
    writeFile(s.root, 'guide/Intro Page.MD', '# Introduction\n\nHello.');
    writeFile(s.root, 'notes.txt', 'plain notes');
    writeFile(s.root, 'page.html', '<html><head><title>A page</title></head><body>x</body></html>');
    const report = await s.sync();
    expect(report.counts).toMatchObject({ new: 3, sent: 3, failed: 0 });
    expect(report.outcome).toBe('ok');

    const sends = s.sends();
    expect(sends).toHaveLength(3);
    const intro = sends.find((m) => attachmentOf(m).dName === 'Intro Page.md');
    expect(intro).toBeDefined();
    const message = intro as NonNullable<typeof intro>;
    expect(message.content_type).toBe(4);
    expect(message.content).toBe('');
    expect(message.transaction_id).toBeGreaterThan(0);
    expect(attachmentOf(message)).toMatchObject({ dName: 'Intro Page.md', fLen: '# Introduction\n\nHello.'.length });
    expect(attachmentOf(message).url).toContain('/file/download/chat?file_sign=');
    expect(metadataOf(message)).toEqual({
      link: 'https://docs.example/kb/guide/Intro%20Page.MD',
      title: 'Introduction',
      team: 'support',
      source: 'docs',
      path: 'guide/Intro Page.MD',
      sha256: sha('# Introduction\n\nHello.'),
      sync_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      transaction_id: String(message.transaction_id),
      managed_by: 'lanying-kb',
    });
    expect(JSON.parse(message.ext)).toEqual({ ai: { metadata: metadataOf(message) } });
    const page = sends.find((m) => attachmentOf(m).dName === 'page.html') as NonNullable<typeof intro>;
    expect(metadataOf(page).title).toBe('A page');

    // The chatbot made one document per message, and every value of the metadata is a string.
    await s.sandbox.idle();
    const docs = s.sandbox.state().knowledgeBase.documents;
    expect(docs.map((d) => d.filename).sort()).toEqual(['Intro Page.md', 'notes.txt', 'page.html']);
    expect(docs.every((d) => d.status === 'finish')).toBe(true);

    const store = s.state();
    const row = store.get('docs', 'guide/Intro Page.MD');
    store.close();
    expect(row).toMatchObject({ status: 'ingested', uploadedHash: sha('# Introduction\n\nHello.'), msgId: message.msg_id, transactionId: message.transaction_id });
  });

  it('a second sync sends nothing; an edit sends one message; a touch sends nothing', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'b.md', 'beta');
    await s.sync();
    expect(s.sends()).toHaveLength(2);

    const again = await s.sync();
    expect(again.counts).toMatchObject({ sent: 0, unchanged: 2, new: 0, changed: 0 });
    expect(s.sends()).toHaveLength(2);

    writeFile(s.root, 'a.md', 'alpha, edited');
    const edited = await s.sync();
    expect(edited.counts).toMatchObject({ changed: 1, sent: 1, unchanged: 1 });
    expect(s.sends()).toHaveLength(3);
    expect(metadataOf(s.sends()[2] as never).sha256).toBe(sha('alpha, edited'));

    const future = new Date(Date.now() + 60_000);
    utimesSync(path.join(s.root, 'b.md'), future, future);
    const touched = await s.sync();
    expect(touched.counts).toMatchObject({ sent: 0, unchanged: 2 });
    expect(s.sends()).toHaveLength(3);
    // The new time is recorded, so the next run needs no hash.
    const store = s.state();
    expect(store.get('docs', 'b.md')?.mtimeMs).toBe(statSync(path.join(s.root, 'b.md')).mtimeMs);
    store.close();
  });

  it('--checksum hashes every file: it finds a change that kept size, time and inode, and still sends nothing unchanged', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'b.md', 'bravo');
    // A whole second, so that putting the time back below is exact.
    const file = path.join(s.root, 'a.md');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    await s.sync();
    // The same length, written in place (same inode), with the old modification time put back.
    const before = statSync(file);
    writeFileSync(file, 'ALPHA');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    expect(statSync(file).ino).toBe(before.ino);
    const quick = await s.sync();
    expect(quick.counts).toMatchObject({ unchanged: 2, sent: 0 });
    const thorough = await s.sync({ checksum: true });
    expect(thorough.counts).toMatchObject({ changed: 1, unchanged: 1, sent: 1 });
    expect(thorough.entries.find((e) => e.key === 'a.md')).toMatchObject({ action: 'changed', outcome: 'ingested' });
    expect((await s.sync({ checksum: true })).counts).toMatchObject({ unchanged: 2, sent: 0 });
  });

  it('a folder that looks as when its documents were settled is not decided again; any change to its rows or files is', async () => {
    const s = await setupSync();
    writeFile(s.root, 'sub/a.md', 'alpha');
    writeFile(s.root, 'sub/b.md', 'bravo');
    writeFile(s.root, 'sub/c.exe', 'binary');
    await s.sync();
    const second = await s.sync({ listUnchanged: true });
    expect(second.counts).toMatchObject({ unchanged: 2, skipped: 1, sent: 0 });
    // A row changed behind the folder's back (here: marked failed) makes the folder be decided again.
    const store = StateStore.open(path.join(s.dir, '.lanying-kb'));
    store.put({ ...(store.get('docs', 'sub/b.md') as DocumentRecord), status: 'failed', uploadedHash: null, lastError: 'test' });
    store.close();
    const third = await s.sync();
    expect(third.counts).toMatchObject({ new: 1, sent: 1, unchanged: 1 });
    expect(third.entries.find((e) => e.key === 'sub/b.md')?.reason).toBe('not sent yet (last error: test)');
    // A file added to the folder changes what the folder looks like.
    writeFile(s.root, 'sub/d.md', 'delta');
    expect((await s.sync()).counts).toMatchObject({ new: 1, sent: 1, unchanged: 2 });
    expect((await s.sync()).counts).toMatchObject({ unchanged: 3, skipped: 1, sent: 0 });
  });

  it('recognises a move by its hash: records it and sends nothing', async () => {
    const s = await setupSync();
    writeFile(s.root, 'old/place.md', 'same content');
    await s.sync();
    renameSync(path.join(s.root, 'old'), path.join(s.root, 'new'));
    const report = await s.sync();
    expect(report.counts).toMatchObject({ moved: 1, sent: 0, removed: 0 });
    expect(report.entries.find((e) => e.action === 'moved')).toMatchObject({ key: 'new/place.md', movedFrom: 'docs:old/place.md' });
    expect(s.sends()).toHaveLength(1);
    const store = s.state();
    expect(store.get('docs', 'old/place.md')).toBeUndefined();
    expect(store.get('docs', 'new/place.md')).toMatchObject({ status: 'ingested', movedFrom: 'docs:old/place.md' });
    store.close();
  });

  it('keeps documents that left the source as removed, deletes nothing remotely, and sends a returning file again only if changed', async () => {
    const s = await setupSync();
    writeFile(s.root, 'gone.md', 'bye');
    writeFile(s.root, 'stay.md', 'hi');
    await s.sync();
    rmSync(path.join(s.root, 'gone.md'));
    const report = await s.sync();
    expect(report.counts).toMatchObject({ removed: 1, sent: 0 });
    expect(s.sandbox.state().knowledgeBase.documents).toHaveLength(2);
    const store = s.state();
    expect(store.get('docs', 'gone.md')?.status).toBe('removed');
    store.close();
    writeFile(s.root, 'gone.md', 'bye');
    const back = await s.sync();
    expect(back.counts).toMatchObject({ sent: 0 });
    expect(s.sends()).toHaveLength(2);
  });

  it('sends identical content only once within a run, and reports the twin', async () => {
    const s = await setupSync();
    writeFile(s.root, 'one/readme.md', 'identical');
    writeFile(s.root, 'two/readme.md', 'identical');
    const report = await s.sync();
    expect(report.counts).toMatchObject({ sent: 1, skipped: 1 });
    expect(report.entries.find((e) => e.action === 'skipped')?.reason).toMatch(/^same content as docs:one\/readme\.md/);
  });

  it('a dry run prints the plan with reasons and bytes, and sends and records nothing', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'image.png', 'png');
    writeFile(s.root, 'empty.txt', '');
    const plan = await s.sync({ dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(plan.runId).toBeUndefined();
    expect(plan.entries.map((e) => [e.action, e.key, e.bytes, e.reason])).toEqual(
      expect.arrayContaining([
        ['new', 'a.md', 5, 'first seen'],
        ['skipped', 'image.png', 3, expect.stringContaining('unsupported type')],
        ['skipped', 'empty.txt', 0, expect.stringContaining('empty')],
      ]),
    );
    expect(s.sends()).toHaveLength(0);
    expect(() => statSync(path.join(s.dir, '.lanying-kb'))).toThrow();
  });

  it('warns when the state records documents sent to another knowledge base than the configured one', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    writeFile(s.root, 'sub/b.md', 'beta');
    expect((await s.sync({ wait: false })).warnings ?? []).toEqual([]);
    expect((await s.sync({ dryRun: true })).warnings ?? []).toEqual([]);
    const kb = s.raw.knowledgeBase as Record<string, unknown>;
    const renamed = parseConfig({ ...s.raw, knowledgeBase: { ...kb, name: `${String(kb.name)}-2` } }, { baseDir: s.dir, filepath: path.join(s.dir, 'lanying-kb.config.json'), env: {} });
    const report = await syncOnce({ config: renamed, dryRun: true });
    expect(report.warnings).toEqual([expect.stringMatching(/^source docs: the state records 2 document\(s\) sent to another knowledge base than .*-2 \(app\/chatbot\/admin\/name\): they are sent again to this one/)]);
    expect(report.counts).toMatchObject({ new: 2 });
  });
});

describe('sync engine: bad input', () => {
  it('skips empty, oversized and unsupported files with a reason, never uploading them', async () => {
    const s = await setupSync({ sources: (root) => [{ type: 'folder', name: 'docs', path: root, maxFileSize: 100 }] });
    writeFile(s.root, 'empty.md', '');
    writeFile(s.root, 'big.md', 'x'.repeat(101));
    writeFile(s.root, 'tool.exe', 'MZ');
    writeFile(s.root, 'ok.md', 'fine');
    const report = await s.sync();
    expect(report.counts).toMatchObject({ sent: 1, skipped: 3 });
    const reasons = Object.fromEntries(report.entries.filter((e) => e.action === 'skipped').map((e) => [e.key, e.reason]));
    expect(reasons['empty.md']).toMatch(/empty/);
    expect(reasons['big.md']).toMatch(/larger than/);
    expect(reasons['tool.exe']).toMatch(/unsupported type/);
    expect(s.sandbox.state().objects).toHaveLength(1);
  });

  it('syncs a file whose name is not valid UTF-8', async () => {
    const s = await setupSync();
    writeFile(s.root, 'ok.md', 'fine');
    const name = Buffer.concat([Buffer.from(s.root + '/caf'), Buffer.from([0xe9]), Buffer.from('.md')]);
    writeFileSync(name, 'latin-1 name');
    const report = await s.sync();
    expect(report.counts).toMatchObject({ sent: 2, failed: 0 });
    const odd = s.sends().map(attachmentOf).find((a) => a.dName !== 'ok.md');
    expect(odd?.dName).toBe('caf%E9.md');
    expect(metadataOf(s.sends().find((m) => attachmentOf(m).dName === 'caf%E9.md') as never).sha256).toBe(sha('latin-1 name'));
    expect((await s.sync()).counts.sent).toBe(0);
  });

  it('refuses a folder that does not exist (exit 2) and never takes it for "every document removed"', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    await s.sync();
    renameSync(s.root, `${s.root}-unmounted`);
    const error = await caught(s.sync());
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(`source "docs": folder ${s.root} does not exist`);
    const store = s.state();
    expect(store.get('docs', 'a.md')?.status).toBe('ingested');
    store.close();
  });

  it('a file covered by two sources is sent once, by the first source', async () => {
    const s = await setupSync({
      sources: (root) => [
        { type: 'folder', name: 'all', path: root },
        { type: 'folder', name: 'guides', path: path.join(root, 'guides') },
      ],
    });
    writeFile(s.root, 'guides/setup.md', 'setup');
    const report = await s.sync();
    expect(report.counts).toMatchObject({ sent: 1, skipped: 1 });
    expect(report.entries.find((e) => e.source === 'guides')?.reason).toBe('also in source "all", which syncs it');
    // Syncing only the second source still leaves the file to the first.
    const only = await s.sync({ sources: ['guides'] });
    expect(only.counts).toMatchObject({ sent: 0, skipped: 1 });
    expect(s.sends()).toHaveLength(1);
  });

  it('a file deleted between the scan and its upload is not sent and not counted as failed', async () => {
    const s = await setupSync();
    writeFile(s.root, 'vanishing.md', 'now you see me');
    writeFile(s.root, 'stays.md', 'still here');
    const onEvent = (event: SyncEvent) => {
      if (event.type === 'planned') rmSync(path.join(s.root, 'vanishing.md'));
    };
    const report = await s.sync({ onEvent });
    expect(report.entries.find((e) => e.key === 'vanishing.md')?.outcome).toBe('vanished');
    expect(report.counts).toMatchObject({ sent: 1, failed: 0 });
    expect(s.sends().map((m) => attachmentOf(m).dName)).toEqual(['stays.md']);
    const store = s.state();
    expect(store.get('docs', 'vanishing.md')).toBeUndefined();
    store.close();
  });

  it('an edited file whose folder vanishes (unmounted) between the scan and its upload is not taken for removed', async () => {
    // Found by the lifecycle property (test/property): the daemon deleted such a document once the grace period was
    // over, while its root was unmounted. Only an observation of the source, behind its root checks, decides removals.
    const s = await setupSync();
    writeFile(s.root, 'kept.md', 'version one');
    expect((await s.sync()).counts).toMatchObject({ sent: 1, ingested: 1 });
    writeFile(s.root, 'kept.md', 'version two');
    const away = `${s.root}-away`;
    const onEvent = (event: SyncEvent) => {
      if (event.type === 'planned' && statSync(s.root, { throwIfNoEntry: false })) renameSync(s.root, away);
    };
    const report = await s.sync({ onEvent, prune: 'all' });
    expect(report.entries.find((e) => e.key === 'kept.md')?.outcome).toBe('vanished');
    expect(report.counts).toMatchObject({ sent: 0, deleted: 0 });
    const store = s.state();
    expect(store.get('docs', 'kept.md')).toMatchObject({ status: 'ingested', hash: sha('version one'), docId: expect.any(String) });
    store.close();
    await s.sandbox.idle();
    const finished = () => s.sandbox.state().knowledgeBase.documents.filter((d) => d.status === 'finish').map((d) => d.metadata.sha256);
    expect(finished()).toEqual([sha('version one')]);
    // Back: the next run replaces the old version with the new one.
    renameSync(away, s.root);
    expect((await s.sync({ prune: 'all' })).counts).toMatchObject({ sent: 1, ingested: 1 });
    await s.sandbox.idle();
    expect(finished()).toEqual([sha('version two')]);
  });

  it('an edited file whose folder vanishes (unmounted) between the scan and its hashing is not taken for removed', async () => {
    // The same as above, one stage earlier: the scan listed the file, then the whole folder went away before its
    // content was read.
    const s = await setupSync();
    writeFile(s.root, 'kept.md', 'version one');
    expect((await s.sync()).counts).toMatchObject({ sent: 1, ingested: 1 });
    writeFile(s.root, 'kept.md', 'version two');
    const away = `${s.root}-away`;
    const onEvent = (event: SyncEvent) => {
      if (event.type === 'observed' && event.phase === 'scan' && statSync(s.root, { throwIfNoEntry: false })) renameSync(s.root, away);
    };
    const report = await s.sync({ onEvent, prune: 'all' });
    expect(report.counts).toMatchObject({ sent: 0, removed: 0, deleted: 0 });
    const store = s.state();
    expect(store.get('docs', 'kept.md')).toMatchObject({ status: 'ingested', hash: sha('version one'), docId: expect.any(String) });
    store.close();
    await s.sandbox.idle();
    const finished = () => s.sandbox.state().knowledgeBase.documents.filter((d) => d.status === 'finish').map((d) => d.metadata.sha256);
    expect(finished()).toEqual([sha('version one')]);
    renameSync(away, s.root);
    expect((await s.sync({ prune: 'all' })).counts).toMatchObject({ sent: 1, ingested: 1 });
    await s.sandbox.idle();
    expect(finished()).toEqual([sha('version two')]);
  });

  it('a file changed during its upload is sent as its new version', async () => {
    const s = await setupSync({ sandbox: { faults: [{ route: 'POST /_oss/*', latencyMs: 300, times: 1 }] } });
    const file = writeFile(s.root, 'live.md', 'version one');
    const onEvent = (event: SyncEvent) => {
      if (event.type === 'planned') setTimeout(() => writeFileSync(file, 'version two, longer'), 100);
    };
    const report = await s.sync({ onEvent });
    expect(report.counts).toMatchObject({ sent: 1, failed: 0 });
    const sends = s.sends();
    expect(sends).toHaveLength(1);
    expect(metadataOf(sends[0] as never).sha256).toBe(sha('version two, longer'));
    expect(attachmentOf(sends[0] as never).fLen).toBe('version two, longer'.length);
    const object = s.sandbox.state().objects.find((o) => o.size === 'version two, longer'.length);
    expect(object?.sha256).toBe(sha('version two, longer'));
    expect((await s.sync()).counts.sent).toBe(0);
  });

  it('reports a corrupt state database by name and overwrites nothing', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    const dbFile = path.join(s.dir, '.lanying-kb', 'state.db');
    writeFile(s.dir, '.lanying-kb/state.db', 'garbage, not a database');
    const error = await caught(s.sync());
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toContain(dbFile);
    expect(s.sends()).toHaveLength(0);
    expect(statSync(dbFile).size).toBe('garbage, not a database'.length);
  });

  it('names an unknown --source', async () => {
    const s = await setupSync();
    const error = await caught(s.sync({ sources: ['nope'] }));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe('unknown source "nope" (configured: docs)');
  });
});

describe('sync engine: failures and crash safety', () => {
  it('retries transient failures and goes on; a document that keeps failing is marked failed with its reason', async () => {
    // One retry layer: the client retries transport failures (api.maxRetries); the engine does not retry them again.
    const s = await setupSync({ api: { maxRetries: 1 } });
    writeFile(s.root, 'a.md', 'alpha');
    s.sandbox.setFaults([{ route: 'POST /message/send', status: 503, times: 1 }]);
    const retried = await s.sync();
    expect(retried.counts).toMatchObject({ sent: 1, failed: 0 });

    writeFile(s.root, 'b.md', 'beta');
    s.sandbox.setFaults([{ route: 'GET /file/upload/chat', status: 500 }]);
    const failed = await s.sync();
    expect(failed.outcome).toBe('partial');
    expect(failed.counts).toMatchObject({ failed: 1, sent: 0 });
    const store = s.state();
    expect(store.get('docs', 'b.md')).toMatchObject({ status: 'failed', attempts: 1, lastError: 'GET /file/upload/chat failed: HTTP 500' });
    store.close();

    s.sandbox.setFaults([]);
    const recovered = await s.sync();
    expect(recovered.counts).toMatchObject({ new: 1, sent: 1 });
    expect(recovered.entries.find((e) => e.key === 'b.md')?.reason).toMatch(/^not sent yet \(last error: GET \/file\/upload\/chat failed: HTTP 500\)/);
  });

  it('stops at once on an auth error, leaving nothing recorded as uploaded', async () => {
    const s = await setupSync({ api: { accessToken: 'wrong-token' } });
    for (let i = 0; i < 10; i++) writeFile(s.root, `doc-${i}.md`, `doc ${i}`);
    const error = await caught(s.sync());
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe(10008);
    const uploadSlots = s.sandbox.state().requests.filter((r) => r.path === '/file/upload/chat');
    expect(uploadSlots.length).toBeLessThanOrEqual(4);
    const store = s.state();
    expect(store.list({ status: ['sent', 'ingested'] })).toHaveLength(0);
    expect(store.recentRuns(1)[0]?.outcome).toBe('failed');
    store.close();
  });

  it('stops early when the API stays down (the client breaker gives up): a temporary error, the documents left for the next run', async () => {
    const s = await setupSync();
    for (let i = 0; i < 20; i++) writeFile(s.root, `doc-${i}.md`, `doc ${i}`);
    s.sandbox.setFaults([{ route: 'GET /file/upload/chat', status: 503 }]);
    const client = createClient(s.config, { maxRetries: 10, sleep: async () => {}, breaker: { failureThreshold: 3, openMs: 20, maxWaitMs: 100 } });
    const error = await caught(s.sync({ client }));
    expect(error).toBeInstanceOf(UnavailableError);
    const report = (error as { report?: SyncReport }).report as SyncReport;
    expect(report.outcome).toBe('failed');
    expect(report.counts.sent).toBe(0);
    // Far fewer requests than 20 documents x 11 attempts: the breaker lets one probe through at a time.
    expect(s.sandbox.state().requests.filter((r) => r.path === '/file/upload/chat').length).toBeLessThan(40);
    const store = s.state();
    expect(store.list({ status: ['sent', 'ingested', 'failed'] })).toHaveLength(0);
    store.close();
    s.sandbox.setFaults([]);
    expect((await s.sync()).counts).toMatchObject({ sent: 20, failed: 0 });
  });

  it('re-sends an interrupted send with the same transaction_id, so the chatbot gets one copy', async () => {
    const s = await setupSync();
    writeFile(s.root, 'a.md', 'alpha');
    // The first send reaches the server, but its answer never comes back before the run is stopped.
    s.sandbox.setFaults([{ route: 'POST /message/send', slowBodyMs: 5000, times: 1 }]);
    const abort = new AbortController();
    const stopped = s.sync({
      signal: abort.signal,
      onEvent: () => undefined,
    });
    await waitFor(() => s.sends().length === 1, 5000, 'the send to reach the server');
    abort.abort();
    await caught(stopped);
    const store = s.state();
    const pending = store.get('docs', 'a.md');
    store.close();
    expect(pending).toMatchObject({ status: 'pending' });
    expect(s.sends()).toHaveLength(1);

    const resumed = await s.sync();
    expect(resumed.counts).toMatchObject({ sent: 1 });
    // The document's two sends carry one transaction ID (the commands that confirm it carry their own).
    const sendRequests = s.sandbox.state().requests.filter((r) => r.path === '/message/send' && r.transaction_id === pending?.transactionId);
    expect(sendRequests).toHaveLength(2);
    expect(s.sends()).toHaveLength(1);
    await s.sandbox.idle();
    expect(s.sandbox.state().knowledgeBase.documents).toHaveLength(1);
  });

  it('a send whose every attempt lost its answer fails, and the next run sends it under the same transaction_id: one copy', async () => {
    const s = await setupSync({ api: { maxRetries: 1, timeoutMs: 300 } });
    writeFile(s.root, 'a.md', 'alpha');
    // Both attempts reach the server (the first makes the message, the second is its repeat); both answers come too late.
    s.sandbox.setFaults([{ route: 'POST /message/send', slowBodyMs: 3000, times: 2 }]);
    const report = await s.sync();
    expect(report.counts).toMatchObject({ failed: 1, sent: 0 });
    const store = s.state();
    const failed = store.get('docs', 'a.md');
    store.close();
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed?.transactionId).not.toBeNull();
    expect(s.sends()).toHaveLength(1);

    const again = await s.sync();
    expect(again.counts).toMatchObject({ sent: 1, failed: 0 });
    expect(s.sandbox.state().requests.filter((r) => r.path === '/message/send' && r.transaction_id === failed?.transactionId)).toHaveLength(3);
    expect(s.sends()).toHaveLength(1);
    await s.sandbox.idle();
    expect(s.sandbox.state().knowledgeBase.documents).toHaveLength(1);
  });

  it('a send the API refused with an error code fails and goes again under a new transaction_id', async () => {
    const s = await setupSync({ api: { maxRetries: 0 } });
    writeFile(s.root, 'a.md', 'alpha');
    s.sandbox.setFaults([{ route: 'POST /message/send', code: 20013, times: 1 }]);
    const report = await s.sync();
    expect(report.counts).toMatchObject({ failed: 1, sent: 0 });
    const store = s.state();
    expect(store.get('docs', 'a.md')).toMatchObject({ status: 'failed', transactionId: null });
    store.close();
    const ids = () => s.sandbox.state().requests.filter((r) => r.path === '/message/send').map((r) => r.transaction_id);
    expect((await s.sync()).counts).toMatchObject({ sent: 1 });
    const [refused, sent] = ids();
    expect(sent).not.toBe(refused);
    expect(s.sends()).toHaveLength(1);
  });

  it('bounds concurrency by sync.concurrency', async () => {
    const s = await setupSync({ sync: { concurrency: 2 }, sandbox: { faults: [{ route: 'POST /message/send', latencyMs: 100 }] } });
    for (let i = 0; i < 6; i++) writeFile(s.root, `d${i}.md`, `doc ${i}`);
    // Without waiting for confirmations: only the documents' sends go to /message/send.
    await s.sync({ wait: false });
    const sends = s.sandbox.state().requests.filter((r) => r.path === '/message/send');
    expect(sends).toHaveLength(6);
    // `at` is when a request arrived: with at most 2 documents at once, no more than 2 sends overlap.
    const spans = sends.map((r) => [r.at, r.at + (r.duration_ms ?? 0)] as const);
    const peak = Math.max(...spans.map(([start]) => spans.filter(([a, b]) => a <= start && start < b).length));
    expect(peak).toBe(2);
  });
});
