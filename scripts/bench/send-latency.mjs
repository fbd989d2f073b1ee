/**
 * (c) Sending 2,000 small documents to the sandbox with 20 ms added to every request (fault rule
 * `{route: '*', latencyMs: 20}`: the API routes and the storage upload route alike) at `sync.concurrency` 8.
 * The latency bound is documents x 3 requests x 20 ms / 8; efficiency = bound / measured time. For contrast, a
 * generated bash script does the API guide's three steps with `curl`, one document after another, on a subset.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { measure } from './lib/proc.mjs';
import { profileCli } from './lib/profile-run.mjs';
import { profileSections } from './sync-noop.mjs';
import { ratio, round, summarise } from './lib/stats.mjs';
import { fmtMs, fmtRatio, kb2mib, metCell } from './lib/format.mjs';

const DOCUMENTS = 2000;
const LATENCY_MS = 20;
const CONCURRENCY = 8;
const REQUESTS_PER_DOCUMENT = 3;
const CURL_SUBSET = 100;
const GOAL = 0.85;
const CLIENT_ROUTES = ['/file/upload/chat', '/_oss/', '/message/send'];

export default {
  id: 'send',
  letter: 'c',
  title: `Sending ${DOCUMENTS.toLocaleString('en')} documents with ${LATENCY_MS} ms latency per request`,
  goal: `efficiency (latency bound / measured time) of at least ${GOAL} at concurrency ${CONCURRENCY}`,
  async run(ctx) {
    const tree = ctx.tree(DOCUMENTS);
    const sandbox = await ctx.startSandbox();
    await sandbox.setFaults([{ route: '*', latencyMs: LATENCY_MS }]);
    const bound = (DOCUMENTS * REQUESTS_PER_DOCUMENT * LATENCY_MS) / CONCURRENCY;
    const runs = ctx.quick ? 1 : 3;
    const samples = [];
    for (let i = 0; i < runs; i++) {
      await sandbox.reset();
      const stateDir = path.join(ctx.tmp, `state-send-${i}`);
      const config = ctx.writeConfig({ name: `send-${i}`, sandbox, folder: tree.root, stateDir, sync: { concurrency: CONCURRENCY } });
      const out = path.join(ctx.tmp, `send-${i}.json`);
      ctx.log(`(c) run ${i + 1}/${runs}: lanying-kb sync of ${DOCUMENTS} documents, ${LATENCY_MS} ms per request, concurrency ${CONCURRENCY} ...`);
      // --no-wait: the bound counts the three requests of a send; confirming the documents is measured by (i).
      const r = await measure(ctx.node, [ctx.cli, 'sync', '--no-wait', '--config', config, '--json'], { stdout: out, stderr: `${out}.err` });
      const report = JSON.parse(fs.readFileSync(out, 'utf8'));
      if (report.counts.sent !== DOCUMENTS) throw new Error(`sent ${report.counts.sent} of ${DOCUMENTS}: ${JSON.stringify(report.counts)}`);
      const traffic = countTraffic(await sandbox.state(), DOCUMENTS);
      samples.push({ wallMs: round(r.wallMs), engineMs: report.durationMs, maxRssKb: r.maxRssKb, cpuMs: round((r.userMs ?? 0) + (r.sysMs ?? 0)), traffic });
      ctx.log(`  ${fmtMs(r.wallMs)} (engine ${fmtMs(report.durationMs)}): efficiency ${(bound / r.wallMs).toFixed(3)}`);
      fs.rmSync(stateDir, { recursive: true, force: true });
    }

    // The sequential curl script on a subset, against the same sandbox and fault rule.
    await sandbox.reset();
    const curl = await runCurlScript(ctx, sandbox, tree);
    const curlPerDoc = curl.wallMs / curl.documents;
    const curlExtrapolated = curlPerDoc * DOCUMENTS;
    ctx.log(`  curl: ${curl.documents} documents in ${fmtMs(curl.wallMs)} → ${fmtMs(curlExtrapolated)} for ${DOCUMENTS} (extrapolated)`);

    let profile;
    const medianWall = summarise(samples.map((s) => s.wallMs)).median;
    if (bound / medianWall < GOAL) {
      ctx.log('(c) goal missed: profiling one more run (node --cpu-prof) ...');
      await sandbox.reset();
      const config = ctx.writeConfig({ name: 'send-profile', sandbox, folder: tree.root, stateDir: path.join(ctx.tmp, 'state-send-profile'), sync: { concurrency: CONCURRENCY } });
      profile = await profileCli(ctx, 'send', ['sync', '--no-wait', '--config', config, '--json'], {
        pick: ['(idle)', 'sendEntry', 'uploadChatFile', 'put', 'readDocumentTitle', 'assertUnchanged', '(garbage collector)'],
      });
    }

    const wall = summarise(samples.map((s) => s.wallMs));
    const engine = summarise(samples.map((s) => s.engineMs));
    const efficiency = round(bound / wall.median, 3);
    const engineEfficiency = round(bound / engine.median, 3);
    const met = efficiency >= GOAL;
    const raw = { documents: DOCUMENTS, latencyMs: LATENCY_MS, concurrency: CONCURRENCY, requestsPerDocument: REQUESTS_PER_DOCUMENT, boundMs: bound, samples, wallMs: wall, engineMs: engine, efficiency, engineEfficiency, curl: { ...curl, perDocumentMs: round(curlPerDoc), extrapolatedMs: round(curlExtrapolated) }, profile };
    return render(raw, met);
  },
};

/** Client requests by route in the sandbox's request log, and how many had the latency fault applied. */
function countTraffic(state, documents) {
  const byRoute = {};
  for (const route of CLIENT_ROUTES) byRoute[route] = { requests: 0, withLatency: 0, serverMs: 0 };
  for (const entry of state.requests) {
    const route = CLIENT_ROUTES.find((r) => entry.path === r || (r.endsWith('/') && entry.path.startsWith(r)));
    if (!route) continue;
    // The chatbot's own downloads go to /file/download/chat: not the client's.
    byRoute[route].requests++;
    if (entry.fault?.includes(`latency(${LATENCY_MS}ms)`)) byRoute[route].withLatency++;
    byRoute[route].serverMs += entry.duration_ms ?? 0;
  }
  // Mean time inside the sandbox per request (the 20 ms sleep included; the log rounds to whole ms).
  for (const c of Object.values(byRoute)) c.meanServerMs = c.requests ? round(c.serverMs / c.requests, 2) : null;
  const fileMessages = state.messages.filter((m) => m.content_type === 4).length;
  for (const [route, c] of Object.entries(byRoute)) {
    if (c.requests < documents || c.withLatency !== c.requests) throw new Error(`route ${route}: ${c.requests} requests, ${c.withLatency} with the latency fault`);
  }
  return { byRoute, fileMessages };
}

function parser() {
  try {
    execFileSync('sh', ['-c', 'command -v jq'], { stdio: 'ignore' });
    return 'jq';
  } catch {
    return 'node';
  }
}

/** Writes and runs a bash script doing the guide's three steps per document with curl, sequentially. */
async function runCurlScript(ctx, sandbox, tree) {
  const files = [];
  for (const dir of fs.readdirSync(tree.root).sort()) {
    for (const name of fs.readdirSync(path.join(tree.root, dir)).sort()) files.push(path.join(tree.root, dir, name));
    if (files.length >= CURL_SUBSET) break;
  }
  const subset = files.slice(0, CURL_SUBSET);
  const listFile = path.join(ctx.tmp, 'curl-files.txt');
  fs.writeFileSync(listFile, `${subset.join('\n')}\n`);
  const { api, knowledgeBase } = sandbox.config;
  const tool = parser();
  const script = curlScript({ endpoint: api.endpoint, appId: api.appId, token: api.accessToken, bot: knowledgeBase.chatbotUserId, admin: knowledgeBase.adminUserId, listFile, tool });
  const scriptFile = path.join(ctx.tmp, 'upload-with-curl.sh');
  fs.writeFileSync(scriptFile, script, { mode: 0o700 });
  ctx.log(`(c) sequential curl script (${tool} parses the JSON) on ${subset.length} documents ...`);
  const r = await measure('bash', [scriptFile], { stderr: path.join(ctx.tmp, 'curl.err') });
  const state = await sandbox.state();
  const sent = state.messages.filter((m) => m.content_type === 4 && m.from_user_id === knowledgeBase.adminUserId).length;
  if (sent !== subset.length) throw new Error(`the curl script sent ${sent} file messages, not ${subset.length}`);
  return { documents: subset.length, wallMs: round(r.wallMs), parser: tool, script: redact(script, api.accessToken) };
}

function redact(script, token) {
  return script.split(token).join('$TOKEN');
}

function curlScript({ endpoint, appId, token, bot, admin, listFile, tool }) {
  // Step 1's answer is parsed once into lines: upload URL, download URL, then the form fields as key=value.
  const parseSlot =
    tool === 'jq'
      ? `jq -r '.code, .data.upload_url, .data.download_url, (.data.oss_body_param | to_entries[] | "\\(.key)=\\(.value)")'`
      : `node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log([j.code,j.data.upload_url,j.data.download_url,...Object.entries(j.data.oss_body_param).map(([k,v])=>k+"="+v)].join("\\n"))})'`;
  const buildMessage =
    tool === 'jq'
      ? `jq -nc --arg d "$name" --arg u "$download_url" --argjson from "$ADMIN" --argjson bot "$BOT" '{from_user_id:$from,targets:[$bot],type:1,content_type:4,content:"",attachment:({dName:$d,url:$u}|tojson),ext:({ai:{metadata:{}}}|tojson)}'`
      : `node -e 'const [d,u,f,b]=process.argv.slice(1);console.log(JSON.stringify({from_user_id:+f,targets:[+b],type:1,content_type:4,content:"",attachment:JSON.stringify({dName:d,url:u}),ext:JSON.stringify({ai:{metadata:{}}})}))' "$name" "$download_url" "$ADMIN" "$BOT"`;
  const codeOf = tool === 'jq' ? `jq -r .code` : `node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).code))'`;
  return `#!/usr/bin/env bash
# Generated by scripts/bench/send-latency.mjs: the API guide's three steps per document, one document at a time.
set -euo pipefail
EP='${endpoint}'
APP='${appId}'
TOKEN='${token}'
BOT=${bot}
ADMIN=${admin}
while IFS= read -r file; do
  name=$(basename "$file")
  # 1. An upload slot, acting as the knowledge-base admin, for the chatbot.
  slot=$(curl -sS -f -H "app_id: $APP" -H "access-token: $TOKEN" -H "user_id: $ADMIN" "$EP/file/upload/chat?file_type=100&to_type=1&to_id=$BOT")
  mapfile -t lines < <(printf '%s' "$slot" | ${parseSlot})
  [ "\${lines[0]}" = 200 ] || { echo "upload slot refused: $slot" >&2; exit 1; }
  upload_url=\${lines[1]}
  download_url=\${lines[2]}
  form=()
  for field in "\${lines[@]:3}"; do form+=(--form-string "$field"); done
  # 2. The storage upload: the slot's fields in order, then the file.
  curl -sS -f -o /dev/null "\${form[@]}" -F "file=@$file;filename=$name" "$upload_url"
  # 3. The file message to the chatbot.
  body=$(${buildMessage})
  answer=$(curl -sS -f -H "app_id: $APP" -H "access-token: $TOKEN" -H 'content-type: application/json' -d "$body" "$EP/message/send")
  [ "$(printf '%s' "$answer" | ${codeOf})" = 200 ] || { echo "send refused: $answer" >&2; exit 1; }
done < '${listFile}'
`;
}

function render(raw, met) {
  const curlRatio = ratio(raw.curl.extrapolatedMs, raw.wallMs.median);
  const summary = {
    head: ['measure', 'ours', 'reference', 'ratio', 'goal', 'met?'],
    rows: [
      [
        'efficiency, whole CLI process',
        fmtMs(raw.wallMs.median),
        `bound ${fmtMs(raw.boundMs)}`,
        `${raw.efficiency.toFixed(3)}`,
        `≥ ${GOAL}`,
        metCell(met),
      ],
      ['efficiency, engine only (report `durationMs`)', fmtMs(raw.engineMs.median), `bound ${fmtMs(raw.boundMs)}`, `${raw.engineEfficiency.toFixed(3)}`, '—', '—'],
      [
        `vs sequential curl (${raw.curl.documents} documents, extrapolated to ${raw.documents.toLocaleString('en')})`,
        fmtMs(raw.wallMs.median),
        fmtMs(raw.curl.extrapolatedMs),
        `${fmtRatio(curlRatio)} faster`,
        '—',
        '—',
      ],
    ],
  };
  const sections = [
    {
      title: 'Runs',
      text:
        `Bound = ${raw.documents} documents × ${raw.requestsPerDocument} requests × ${raw.latencyMs} ms / ${raw.concurrency} = ${fmtMs(raw.boundMs)}. ` +
        'Each run starts from an empty state and a reset sandbox (a separate process). The sandbox\'s request log shows that every ' +
        'client request (upload slot, storage upload, message send) had the 20 ms latency applied.',
      table: {
        head: ['run', 'whole process', 'engine', 'efficiency', 'peak RSS', 'CPU (user+sys)', '`/file/upload/chat` (with latency)', '`/_oss/*` (with latency)', '`/message/send` (with latency)'],
        rows: raw.samples.map((s, i) => {
          const r = s.traffic.byRoute;
          const c = (x) => `${x.requests} (${x.withLatency})`;
          return [i + 1, fmtMs(s.wallMs), fmtMs(s.engineMs), (raw.boundMs / s.wallMs).toFixed(3), `${kb2mib(s.maxRssKb)} MiB`, fmtMs(s.cpuMs), c(r['/file/upload/chat']), c(r['/_oss/']), c(r['/message/send'])];
        }),
      },
    },
    {
      title: 'The sequential curl script',
      text:
        `A bash script generated by the benchmark does the three steps of the API guide for each document with \`curl\` (\`${raw.curl.parser}\` parses the JSON answers), ` +
        `one document after another, against the same sandbox and fault rule. It ran on ${raw.curl.documents} documents in ${fmtMs(raw.curl.wallMs)} ` +
        `(${fmtMs(raw.curl.perDocumentMs)} per document: ${raw.requestsPerDocument} × ${raw.latencyMs} ms of latency plus process start-ups); the figure for ` +
        `${raw.documents.toLocaleString('en')} documents is extrapolated linearly from it, not measured.`,
    },
  ];
  const result = { summary, met, sections, raw };
  const perDoc = (raw.engineMs.median * raw.concurrency) / raw.documents;
  const server = raw.samples.map((x) => Object.values(x.traffic.byRoute).reduce((sum, c) => sum + (c.meanServerMs ?? 0), 0)).sort((a, b) => a - b)[Math.floor(raw.samples.length / 2)];
  raw.perDocumentMs = round(perDoc, 2);
  raw.serverPerDocumentMs = round(server, 2);
  sections.push({
    title: 'Where the time per document goes',
    text:
      `With ${raw.concurrency} documents in flight, each document took ${perDoc.toFixed(1)} ms of engine time (engine time × ${raw.concurrency} / ${raw.documents}) ` +
      `against ${raw.requestsPerDocument * raw.latencyMs} ms of injected latency. The sandbox's request log puts ${server.toFixed(1)} ms of that inside the server ` +
      `(the three requests' durations, the 20 ms sleeps included: timers fire a little late, and the sandbox also serves its chatbot's downloads on the same event loop), ` +
      `leaving ${(perDoc - server).toFixed(1)} ms per document for the client (its JavaScript, SQLite writes of the pending and uploaded states, reading the file, ` +
      'loopback TCP) and for waiting in the queue. Both processes share the two cores.',
  });
  if (raw.profile) {
    const idle = raw.profile.picked.find((p) => p.fn === '(idle)');
    sections.push(...profileSections(raw.profile));
    raw.clientIdlePct = idle?.pct;
  }
  if (!met) {
    result.why =
      `The whole process took ${fmtMs(raw.wallMs.median)} against a bound of ${fmtMs(raw.boundMs)} (efficiency ${raw.efficiency.toFixed(3)}); the engine's own time was ${fmtMs(raw.engineMs.median)} ` +
      `(efficiency ${raw.engineEfficiency.toFixed(3)}), so start-up, scan and hash account for ${fmtMs(raw.wallMs.median - raw.engineMs.median)}. ` +
      `Per document ${perDoc.toFixed(1)} ms instead of ${raw.requestsPerDocument * raw.latencyMs} ms: ${(server - raw.requestsPerDocument * raw.latencyMs).toFixed(1)} ms more inside the sandbox ` +
      `and ${(perDoc - server).toFixed(1)} ms in the client and on the way (see "Where the time per document goes"). The bound counts only the injected latency, ` +
      'so any per-request cost, on either side, comes off the efficiency. The sandbox\'s storage route is the slowest (it reads the multipart body and writes the file to disk: ' +
      `${raw.samples[0].traffic.byRoute['/_oss/'].meanServerMs} ms per request against ${raw.samples[0].traffic.byRoute['/file/upload/chat'].meanServerMs} ms for the upload slot). ` +
      (raw.clientIdlePct !== undefined
        ? `The client is not CPU-bound: its CPU profile is ${raw.clientIdlePct} % idle, and no single function stands out (see the profile below: SQLite \`put\` twice per document, file \`stat\`, multipart streaming in undici). `
        : '') +
      'The shortfall is the sum of small per-request costs on two processes that share two cores, not a queue that holds documents back.';
  }
  return result;
}
