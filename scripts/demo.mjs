// `npm run demo`: starts the sandbox on a free port, syncs examples/ (a copy of a folder of documents, and a URL list
// the sandbox serves) with the real CLI, prints the report and the sandbox's knowledge base, syncs again to show that
// nothing is sent twice, then edits one file and removes another and shows the knowledge base following: the edited
// document replaced, the removed one deleted, `check` agreeing. Needs `npm run build` first (the npm script does it).
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bluevectorStatusCommand, createClient, parseStatusReply } from '../dist/index.js';
import { startSandbox } from '../dist/sandbox/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = path.join(root, 'dist', 'cli', 'bundle', 'lanying-kb.js');
const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (text) => console.log(`\n${bold(`== ${text}`)}`);

/** The sandbox's knowledge base, one document a line. */
function printKnowledgeBase(state) {
  for (const doc of state.knowledgeBase.documents) {
    const title = doc.metadata.title ? `  "${doc.metadata.title}"` : '';
    console.log(`  ${doc.doc_id.padEnd(18)} ${doc.status.padEnd(7)} ${doc.type.padEnd(5)} ${doc.filename}${title}`);
  }
}

/** Runs the real CLI as a child process (asynchronously: the sandbox lives in this process). */
function lanyingKb(args, cwd) {
  console.log(bold(`$ lanying-kb ${args.join(' ')}`));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

const work = mkdtempSync(path.join(tmpdir(), 'lanying-kb-demo-'));
// A copy of the handbook: the demo edits and removes files in it.
const handbook = path.join(work, 'handbook');
cpSync(path.join(root, 'examples', 'docs'), handbook, { recursive: true });
const sandbox = await startSandbox({ siteDir: path.join(root, 'examples', 'site'), ingestionDelayMs: 200 });
try {
  step(`Sandbox running at ${sandbox.url} (knowledge base "${sandbox.knowledgeBase.name}", chatbot user ${sandbox.knowledgeBase.chatbotUserId})`);
  const site = `${sandbox.url}/_sandbox/site`;
  writeFileSync(
    path.join(work, 'urls.txt'),
    ['# Pages of the product site (served by the sandbox)', `${site}/product.html`, `${site}/changelog.html`, '', '# Not HTML: downloaded and sent as a file', `${site}/datasheet.pdf`, ''].join('\n'),
  );
  const config = {
    ...sandbox.configSnippet(),
    sources: [
      { type: 'folder', name: 'handbook', path: './handbook', linkBase: 'https://docs.acme.example/handbook/', metadata: { team: 'support' } },
      // The sandbox serves the site on 127.0.0.1: a private address, refused unless the source allows it.
      { type: 'urls', name: 'website', listFile: './urls.txt', allowPrivateAddresses: true },
    ],
    sync: { concurrency: 4 },
  };
  writeFileSync(path.join(work, 'lanying-kb.config.json'), `${JSON.stringify(config, null, 2)}\n`);
  console.log(`Config: ${path.join(work, 'lanying-kb.config.json')}`);

  step('What would be sent (dry run)');
  await lanyingKb(['sync', '--dry-run'], work);

  step('First sync');
  const first = await lanyingKb(['sync'], work);

  step('The chatbot processes the documents');
  const expected = sandbox.state().messages.filter((m) => m.to_id === sandbox.knowledgeBase.chatbotUserId && (m.content_type === 4 || (m.content_type === 0 && !m.content.startsWith('/')))).length;
  await sandbox.idle(30_000);
  const state = sandbox.state();
  printKnowledgeBase(state);
  const bot = sandbox.knowledgeBase.chatbotUserId;
  const fromBot = state.messages.filter((m) => m.from_user_id === bot && m.content_type === 0);
  const acks = fromBot.filter((m) => m.content.startsWith('添加到知识库'));
  const notices = fromBot.filter((m) => m.content.startsWith('文章'));
  console.log(`\n  The chatbot's answers to the knowledge-base admin: ${acks.length} acks, e.g.`);
  console.log(`    ${acks[0]?.content}`);
  console.log(`  and ${notices.length} notices, e.g.`);
  for (const notice of notices.slice(0, 3)) console.log(`    ${notice.content}`);

  step('Asking the chatbot: /bluevector status');
  const admin = sandbox.knowledgeBase.adminUserIds[0];
  const client = createClient({ endpoint: sandbox.url, appId: sandbox.appId, accessToken: sandbox.accessToken });
  const command = bluevectorStatusCommand(sandbox.knowledgeBase.name);
  console.log(`  admin → bot   ${command}`);
  await client.messages.sendText({ users: [bot] }, command, { from: admin });
  const answer = sandbox.state().messages.filter((m) => m.from_user_id === bot && m.content_type === 0).at(-1);
  console.log(answer.content.split('\n').map((line, i) => `  ${i === 0 ? 'bot → admin' : '           '}   ${line}`).join('\n'));
  const status = parseStatusReply(answer.content);
  console.log(`  (parsed: ${status.totalDocuments} documents, the ${status.documents.length} most recent listed oldest first)`);

  step('Second sync: nothing changed, so nothing is sent');
  const second = await lanyingKb(['sync'], work);

  const afterSecond = sandbox.state().knowledgeBase.documents.length;

  step('Editing getting-started.md and removing faq.txt, then syncing with --prune');
  appendFileSync(path.join(handbook, 'getting-started.md'), '\n## Signing in\n\nSign in with your company account.\n');
  rmSync(path.join(handbook, 'faq.txt'));
  const before = new Map(sandbox.state().knowledgeBase.documents.map((d) => [d.metadata.path, d.doc_id]));
  const third = await lanyingKb(['sync', '--prune'], work);
  await sandbox.idle(30_000);
  const docs = sandbox.state().knowledgeBase.documents;
  const edited = docs.filter((d) => d.metadata.path === 'getting-started.md');
  const removed = docs.filter((d) => d.metadata.path === 'faq.txt');
  console.log(`\n  getting-started.md: was ${before.get('getting-started.md')}, now ${edited.map((d) => d.doc_id).join(', ')} (the old version deleted once the new one was ingested)`);
  console.log(`  faq.txt: was ${before.get('faq.txt')}, now ${removed.length === 0 ? 'gone' : 'still there (unexpected!)'}`);
  printKnowledgeBase(sandbox.state());

  step('The knowledge base against the state');
  const check = await lanyingKb(['check'], work);

  step('The tracked documents');
  await lanyingKb(['documents', '--source', 'handbook'], work);

  step('What the state holds');
  await lanyingKb(['status'], work);

  const followed = edited.length === 1 && edited[0].doc_id !== before.get('getting-started.md') && removed.length === 0 && docs.length === expected - 1;
  console.log(
    `\n${bold(`Demo finished: ${docs.length} documents in the knowledge base; the second sync sent ${afterSecond === expected ? 'nothing' : 'something (unexpected!)'}; after the edit and the removal the knowledge base ${followed ? 'follows the sources' : 'does NOT follow the sources (unexpected!)'}.`)}`,
  );
  process.exitCode = first === 0 && second === 0 && third === 0 && check === 0 && afterSecond === expected && followed ? 0 : 1;
} finally {
  await sandbox.close();
  rmSync(work, { recursive: true, force: true });
}
