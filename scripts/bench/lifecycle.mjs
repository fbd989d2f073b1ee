/* global fetch */
/**
 * (i) What following the knowledge base costs: requests and messages per document when documents are added,
 * changed (replaced: the new version sent and proven, the old one deleted) and deleted (left their source,
 * `sync --prune`), each counted from the sandbox's request log and messages around one `lanying-kb sync` run; and
 * in the daemon, the time from a file's edit to the deletion of its old version from the knowledge base.
 */
import fs from 'node:fs';
import path from 'node:path';
import { measure } from './lib/proc.mjs';
import { startDaemonProcess } from './lib/daemon-process.mjs';
import { generateTree } from './lib/tree.mjs';
import { percentile, round } from './lib/stats.mjs';
import { fmtMs } from './lib/format.mjs';

const DOCUMENTS = 200;
const QUICK_DOCUMENTS = 50;
/** A quarter of the documents is deleted: under `sync.maxDelete.percent` (50). */
const DELETE_SHARE = 0.25;
const EDITS = 20;
const QUICK_EDITS = 5;
/** The confirmation poll of both the one-shot runs and the daemon (the default is 2 s, suited to the real service). */
const POLL = '200ms';
const DEBOUNCE_MS = 200;
const POLL_MS = 50;
const EDIT_TIMEOUT_MS = 60_000;
const ROUTES = ['/file/upload/chat', '/_oss/', '/message/send', '/message/conversation'];

export default {
  id: 'lifecycle',
  letter: 'i',
  title: 'The knowledge-base lifecycle: requests and messages per document, and the time from an edit to the old version\'s deletion',
  goal: 'none (recorded so that a change in the cost of confirming, replacing and deleting shows)',
  async run(ctx) {
    const documents = ctx.quick ? QUICK_DOCUMENTS : DOCUMENTS;
    const tree = generateTree(path.join(ctx.tmp, 'lifecycle-tree'), { folders: Math.ceil(documents / 50), perFolder: Math.min(50, documents), seed: 7 });
    const files = listFiles(tree.root);
    const sandbox = await ctx.startSandbox();
    const bot = sandbox.config.knowledgeBase.chatbotUserId;
    const stateDir = path.join(ctx.tmp, 'state-lifecycle');
    const config = ctx.writeConfig({ name: 'lifecycle', sandbox, folder: tree.root, stateDir, sync: { confirmPollInterval: POLL, concurrency: 8 } });

    const phase = async (name, args, count) => {
      const before = await sandbox.state();
      const out = path.join(ctx.tmp, `lifecycle-${name}.json`);
      ctx.log(`(i) ${name}: lanying-kb ${args.join(' ')} (${count} documents) ...`);
      const r = await measure(ctx.node, [ctx.cli, ...args, '--config', config, '--json'], { stdout: out, stderr: `${out}.err` });
      const report = JSON.parse(fs.readFileSync(out, 'utf8'));
      await waitIdle(sandbox);
      const after = await sandbox.state();
      const traffic = trafficBetween(before, after, bot);
      return { name, documents: count, wallMs: round(r.wallMs), counts: pick(report.counts, ['sent', 'ingested', 'deleted', 'unconfirmed', 'failed']), outcome: report.outcome, traffic, perDocument: perDocument(traffic, count) };
    };

    const phases = [];
    phases.push(await phase('add', ['sync'], files.length));
    for (const file of files) fs.appendFileSync(file, '\nA new paragraph of the change phase.\n');
    phases.push(await phase('change', ['sync'], files.length));
    const removed = files.slice(0, Math.floor(files.length * DELETE_SHARE));
    for (const file of removed) fs.rmSync(file);
    phases.push(await phase('delete', ['sync', '--prune'], removed.length));
    for (const p of phases) ctx.log(`  ${p.name}: ${JSON.stringify(p.perDocument)} per document (${JSON.stringify(p.counts)})`);

    // The daemon: an edit, until the old version is gone from the knowledge base.
    const kept = files.slice(removed.length);
    const daemonConfig = ctx.writeConfig({
      name: 'lifecycle-watch',
      sandbox,
      folder: tree.root,
      stateDir,
      sync: { confirmPollInterval: POLL, concurrency: 8 },
      daemon: { debounceMs: DEBOUNCE_MS, http: { host: '127.0.0.1', port: 0 } },
    });
    const daemon = await startDaemonProcess({ node: ctx.node, cli: ctx.cli, config: daemonConfig, stateDir, logFile: path.join(ctx.tmp, 'watch-lifecycle.log'), cwd: ctx.tmp });
    const samples = [];
    let lost = 0;
    try {
      const edits = ctx.quick ? QUICK_EDITS : EDITS;
      ctx.log(`(i) the daemon: ${edits} edits, each timed until its old version is deleted ...`);
      for (let i = 0; i < edits; i++) {
        const file = kept[i % kept.length];
        const key = path.relative(tree.root, file).split(path.sep).join('/');
        const old = (await sandbox.state()).knowledgeBase.documents.find((d) => d.metadata.path === key);
        if (!old) throw new Error(`${key} has no document in the knowledge base before its edit`);
        fs.appendFileSync(file, `\nEdit ${i} of the lifecycle benchmark.\n`);
        const writtenAt = Date.now();
        let sample;
        while (!sample && Date.now() < writtenAt + EDIT_TIMEOUT_MS) {
          await sleep(POLL_MS);
          const state = await sandbox.state();
          const docs = state.knowledgeBase.documents.filter((d) => d.metadata.path === key);
          if (docs.some((d) => d.doc_id === old.doc_id)) continue;
          const successor = docs.find((d) => d.doc_id !== old.doc_id);
          const deleteRequest = state.messages.find((m) => m.from_user_id !== bot && m.content_type === 0 && m.content.startsWith('/bluevector delete') && m.content.endsWith(` ${old.doc_id}`));
          sample = { edit: i, key, ms: Date.now() - writtenAt, deleteSentMs: deleteRequest ? deleteRequest.timestamp - writtenAt : null, successor: successor?.doc_id ?? null };
        }
        if (sample) samples.push(sample);
        else {
          lost++;
          ctx.log(`  edit ${i} (${key}): the old version ${old.doc_id} was still there after ${EDIT_TIMEOUT_MS / 1000} s`);
        }
      }
    } finally {
      await daemon.stop();
    }
    const spread = (values) => (values.length ? { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values) } : { n: 0 });
    const raw = {
      documents,
      poll: POLL,
      debounceMs: DEBOUNCE_MS,
      phases,
      daemon: { edits: samples.length + lost, lost, toDeleted: spread(samples.map((s) => s.ms)), toDeleteSent: spread(samples.map((s) => s.deleteSentMs).filter((v) => v !== null)), samples },
    };
    return render(raw);
  },
};

/** Client requests by route, and the admin's and the chatbot's messages, between two sandbox states. */
function trafficBetween(before, after, bot) {
  const requests = after.requests.slice(before.requests.length);
  const byRoute = Object.fromEntries(ROUTES.map((r) => [r, 0]));
  for (const entry of requests) {
    const route = ROUTES.find((r) => entry.path === r || (r.endsWith('/') && entry.path.startsWith(r)));
    if (route) byRoute[route]++;
  }
  const messages = after.messages.slice(before.messages.length);
  const toBot = messages.filter((m) => m.to_id === bot);
  const commands = toBot.filter((m) => m.content_type === 0 && m.content.startsWith('/'));
  return {
    requests: Object.values(byRoute).reduce((s, n) => s + n, 0),
    byRoute,
    documentMessages: toBot.length - commands.length,
    commands: commands.length,
    commandsByKind: countBy(commands.map((m) => m.content.split(/\s+/).slice(0, m.content.startsWith('/bluevector metadata') ? 3 : 2).join(' '))),
    chatbotMessages: messages.filter((m) => m.from_user_id === bot).length,
  };
}

function perDocument(t, documents) {
  const per = (n) => round(n / Math.max(documents, 1), 2);
  return { requests: per(t.requests), conversationReads: per(t.byRoute['/message/conversation']), documentMessages: per(t.documentMessages), commands: per(t.commands), chatbotMessages: per(t.chatbotMessages) };
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function pick(object, keys) {
  return Object.fromEntries(keys.map((k) => [k, object?.[k] ?? 0]));
}

async function waitIdle(sandbox) {
  // `GET /_sandbox/idle` answers once nothing is pending (no ingestion or notice in progress).
  const res = await fetch(`${sandbox.url}/_sandbox/idle`);
  if (!res.ok) throw new Error(`sandbox idle: HTTP ${res.status}`);
}

function listFiles(root) {
  return fs
    .readdirSync(root)
    .sort()
    .flatMap((d) => fs.readdirSync(path.join(root, d)).sort().map((f) => path.join(root, d, f)));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function render(raw) {
  const rows = raw.phases.map((p) => [
    p.name,
    p.documents,
    p.perDocument.requests,
    p.perDocument.conversationReads,
    p.perDocument.documentMessages,
    p.perDocument.commands,
    p.perDocument.chatbotMessages,
    fmtMs(p.wallMs),
    `${p.counts.sent} sent, ${p.counts.ingested} ingested, ${p.counts.deleted} deleted${p.counts.unconfirmed ? `, ${p.counts.unconfirmed} unconfirmed` : ''}`,
  ]);
  const d = raw.daemon;
  const summary = {
    head: ['measure', 'value'],
    rows: [
      ...raw.phases.map((p) => [`${p.name}: requests / messages to the chatbot / commands per document`, `${p.perDocument.requests} / ${p.perDocument.documentMessages} / ${p.perDocument.commands}`]),
      [`daemon: edit → old version deleted (p50, p95; ${d.toDeleted.n} edits${d.lost ? `, ${d.lost} lost` : ''})`, d.toDeleted.n ? `${fmtMs(d.toDeleted.p50)}, ${fmtMs(d.toDeleted.p95)}` : '—'],
    ],
  };
  const sections = [
    {
      title: 'Per document, by phase',
      table: { head: ['phase', 'documents', 'API requests', 'of which conversation reads', 'document messages', 'commands', 'chatbot messages', 'run', 'outcome'], rows },
    },
    {
      title: 'Commands by kind',
      text: raw.phases.map((p) => `- ${p.name}: ${Object.entries(p.traffic.commandsByKind).map(([k, n]) => `\`${k}\` ${n}`).join(', ') || 'none'}`).join('\n'),
    },
    {
      title: 'How it was measured',
      text:
        `A generated tree of ${raw.documents} small Markdown and text files, synced with the real CLI (\`lanying-kb sync --json\`, \`sync.confirmPollInterval\` ${raw.poll}, concurrency 8) ` +
        'to a sandbox in its own process, which then is left to finish every ingestion and notice. The counts are the differences of the sandbox\'s request log ' +
        'and messages around each run: API requests of the client (upload slot, storage upload, message send, conversation reads), messages from the admin ' +
        'to the chatbot (documents, and `/bluevector` commands: `metadata get` proves a completion notice and checks a document before its deletion, `delete` ' +
        `deletes), and the chatbot's messages (acks, notices, command answers). add: every file new; change: every file edited (replaced); delete: ${DELETE_SHARE * 100} % of ` +
        `the files removed and \`sync --prune\`. The daemon: \`lanying-kb watch\` (debounce ${raw.debounceMs} ms, the same poll) on the same state; one file edited at a time, ` +
        `and the sandbox's state read every ${POLL_MS} ms until the file's old document is no longer in the knowledge base. The conversation reads depend on the poll ` +
        'interval and on how long the chatbot takes: the sandbox ingests at once, the real service takes longer.',
    },
  ];
  return { summary, met: null, sections, raw };
}
