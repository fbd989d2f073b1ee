import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiFor, runWith, writeConfig } from '../helpers/cli.js';
import { useSandbox } from '../helpers/sandbox.js';

describe('lanying-kb validate', () => {
  it('checks the file and the folders; --deep also the token and the knowledge-base users', async () => {
    const sandbox = await useSandbox();
    const kb = sandbox.knowledgeBase;
    const dir = writeConfig({
      api: apiFor(sandbox),
      knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name },
      sources: [{ type: 'folder', name: 'docs', path: './docs' }],
      notify: { message: { from: kb.adminUserIds[0], users: [kb.chatbotUserId], text: '{added} added, {addded} typo' } },
    });
    mkdirSync(path.join(dir, 'docs'));
    const shallow = await runWith(['validate'], { cwd: dir });
    expect(shallow.code).toBe(0);
    expect(shallow.stdout).toMatch(/^ok {3}config: .*lanying-kb\.config\.json is valid \(1 source\(s\)\)$/m);
    expect(shallow.stdout).toMatch(/^ok {3}sources\[0\] "docs": folder /m);
    expect(shallow.stderr).toMatch(/^warn notify\.message\.text: .*\{addded\}/m);

    const deep = await runWith(['validate', '--deep'], { cwd: dir });
    expect(deep.code).toBe(0);
    expect(deep.stdout).toMatch(new RegExp(`^ok {3}knowledgeBase\\.adminUserId: user ${kb.adminUserIds[0]} exists \\(kb_admin\\)$`, 'm'));
    expect(deep.stdout).toMatch(/^ok {3}knowledgeBase\.chatbotUserId: user \d+ exists \(kb_bot\)$/m);
  });

  it('fails with exit 2 for a missing folder or an unknown user, and 4 for a wrong token', async () => {
    const sandbox = await useSandbox();
    const kb = sandbox.knowledgeBase;
    const dir = writeConfig({
      api: apiFor(sandbox),
      knowledgeBase: { chatbotUserId: 999_999_999, adminUserId: kb.adminUserIds[0], name: kb.name },
      sources: [{ type: 'folder', name: 'docs', path: './missing' }],
    });
    const local = await runWith(['validate'], { cwd: dir });
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/^FAIL sources\[0\] "docs": folder .*missing does not exist or is not a folder$/m);
    const deep = await runWith(['validate', '--deep'], { cwd: dir });
    expect(deep.code).toBe(2);
    expect(deep.stderr).toMatch(/^FAIL knowledgeBase\.chatbotUserId: user 999999999 does not exist \(code 10000\)$/m);

    const wrong = writeConfig({ api: apiFor(sandbox, { accessToken: 'nope' }), knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name } });
    const auth = await runWith(['validate', '--deep'], { cwd: wrong });
    expect(auth.code).toBe(4);
    expect(auth.stderr).toMatch(/^FAIL api\.accessToken: GET \/user\/profile failed: code 10008, invalid access-token/m);
  });

  it('a token from api.accessTokenFile is checked like api.accessToken, and named so', async () => {
    const sandbox = await useSandbox();
    const kb = sandbox.knowledgeBase;
    const { accessToken, ...api } = apiFor(sandbox);
    const dir = writeConfig({ api: { ...api, accessTokenFile: 'kb.token' }, knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name } });
    writeFileSync(path.join(dir, 'kb.token'), `${String(accessToken)}\n`);
    const ok = await runWith(['validate', '--deep'], { cwd: dir });
    expect(ok.code).toBe(0);
    writeFileSync(path.join(dir, 'kb.token'), 'nope\n');
    const auth = await runWith(['validate', '--deep'], { cwd: dir });
    expect(auth.code).toBe(4);
    expect(auth.stderr).toMatch(/^FAIL api\.accessTokenFile: GET \/user\/profile failed: code 10008, invalid access-token/m);
  });
});
