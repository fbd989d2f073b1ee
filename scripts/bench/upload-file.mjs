/**
 * A separate uploader process for (d): uploads one file to the sandbox with the built client
 * (`client.files.uploadChatFile({ body: { path } })`), then prints what it measured about itself as JSON.
 * Usage: node scripts/bench/upload-file.mjs CONFIG.json FILE
 */
import fs from 'node:fs';
import path from 'node:path';
import { createClient } from '../../dist/runtime/create-client.js';

const [configFile, file] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
const client = createClient({ ...config.api, timeoutMs: 600_000 });
const before = process.memoryUsage().rss;
const started = performance.now();
const uploaded = await client.files.uploadChatFile(
  { body: { path: file }, name: path.basename(file), toId: config.knowledgeBase.chatbotUserId, toType: 1 },
  { actAs: config.knowledgeBase.adminUserId },
);
const ms = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({
    size: uploaded.size,
    ms: Math.round(ms),
    rssBeforeUploadKb: Math.round(before / 1024),
    maxRssKb: process.resourceUsage().maxRSS,
  })}\n`,
);
