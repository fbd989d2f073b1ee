import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCliProcess } from '../helpers/cli-process.js';
import { runWith, tempDir } from '../helpers/cli.js';
import { useSandbox } from '../helpers/sandbox.js';

const SCHEMA = fileURLToPath(new URL('../../lanying-kb.schema.json', import.meta.url));

/** Where a `$schema` reference points, from the config's folder. */
function schemaFile(reference: string, configDir: string): string {
  return reference.startsWith('file:') ? fileURLToPath(reference) : path.resolve(configDir, reference);
}

describe('lanying-kb init', () => {
  it('takes flags when there is no terminal: a config with the installed $schema, and a private environment file that validate accepts', async () => {
    const sandbox = await useSandbox();
    const kb = sandbox.knowledgeBase;
    const dir = tempDir();
    mkdirSync(path.join(dir, 'handbook'));
    writeFileSync(path.join(dir, 'urls.txt'), 'https://example.invalid/a\n');
    const args = ['init', '--endpoint', sandbox.url, '--app-id', sandbox.appId, '--chatbot-user-id', String(kb.chatbotUserId), '--admin-user-id', String(kb.adminUserIds[0]), '--kb-name', kb.name, '--folder', 'handbook', '--url-list', 'urls.txt'];
    const run = await runCliProcess(args, { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^wrote lanying-kb\.config\.json \(\$schema: .*lanying-kb\.schema\.json\)$/m);
    expect(run.stdout).toMatch(/^wrote lanying-kb\.env \(mode 0600\): put the app's admin access token after LANYING_ACCESS_TOKEN=$/m);

    const config = JSON.parse(readFileSync(path.join(dir, 'lanying-kb.config.json'), 'utf8')) as Record<string, unknown> & { $schema: string };
    expect(schemaFile(config.$schema, dir)).toBe(SCHEMA);
    expect(config).toEqual({
      $schema: config.$schema,
      api: { endpoint: sandbox.url, appId: sandbox.appId, accessToken: '${LANYING_ACCESS_TOKEN}' },
      knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name },
      sources: [
        { type: 'folder', name: 'handbook', path: './handbook' },
        { type: 'urls', name: 'urls', listFile: './urls.txt' },
      ],
    });
    const envFile = path.join(dir, 'lanying-kb.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toMatch(/^LANYING_ACCESS_TOKEN=$/m);

    // With the token in the environment, the written file is valid and the API accepts it.
    const valid = await runCliProcess(['validate', '--deep'], { cwd: dir, env: { LANYING_ACCESS_TOKEN: sandbox.accessToken } });
    expect(valid.stdout).toMatch(/^ok {3}config: .* is valid \(2 source\(s\)\)$/m);
    expect(valid.stdout).toMatch(/^ok {3}knowledgeBase\.adminUserId: user \d+ exists/m);

    // Files that exist are kept.
    const again = await runCliProcess(args, { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/lanying-kb\.config\.json exists: keep it, or overwrite it with --force/);
    expect((await runCliProcess([...args, '--force', '--json'], { cwd: dir })).code).toBe(0);

    // Without a terminal, every value must come as a flag.
    const other = tempDir();
    const missing = await runCliProcess(['init', '--app-id', 'x', '--json'], { cwd: other });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --endpoint, --chatbot-user-id, --admin-user-id, --kb-name \(no terminal to ask on\)/);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { name: 'UsageError' } });
    const badId = await runCliProcess(['init', '--chatbot-user-id', 'bot'], { cwd: other });
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/--chatbot-user-id.*not an ID/);
  });

  it('asks on a terminal for what the flags did not give, again after an answer that is not valid', async () => {
    const dir = tempDir();
    const answers = ['not a url', 'https://s-1-3-s-api.maximtop.cn/', 'app-123', 'bot', '1001', '1002', 'Product docs', ''].join('\n');
    const run = await runWith(['init', '--output', 'kb.json', '--env-file', 'kb.env'], { cwd: dir, stdin: `${answers}\n`, isTTY: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('API endpoint (the console\'s "Application info", e.g. https://s-1-3-s-api.maximtop.cn): ');
    expect(run.stderr.match(/User ID of the AI chatbot: /g)).toHaveLength(2);
    expect(run.stderr).toContain('Folder to sync (empty for none) [./docs]: ');
    const config = JSON.parse(readFileSync(path.join(dir, 'kb.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      api: { endpoint: 'https://s-1-3-s-api.maximtop.cn', appId: 'app-123' },
      knowledgeBase: { chatbotUserId: 1001, adminUserId: 1002, name: 'Product docs' },
      sources: [{ type: 'folder', name: 'docs', path: './docs' }],
    });
    expect(statSync(path.join(dir, 'kb.env')).mode & 0o777).toBe(0o600);
  });
});
