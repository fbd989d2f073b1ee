import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isPlaceholder, isVendorEndpoint, placeholderProblems } from '../../src/config/placeholders.js';
import { parseConfig } from '../../src/config/load.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { apiFor, runWith, tempDir, writeConfig } from '../helpers/cli.js';
import { usePageServer } from '../helpers/page-server.js';
import { useSandbox } from '../helpers/sandbox.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

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
    expect(shallow.stdout).toMatch(/^warn notify\.message\.text: .*\{addded\}/m);

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
    expect(local.stdout).toMatch(/^FAIL sources\[0\] "docs": folder .*missing does not exist or is not a folder$/m);
    const deep = await runWith(['validate', '--deep'], { cwd: dir });
    expect(deep.code).toBe(2);
    expect(deep.stdout).toMatch(/^FAIL knowledgeBase\.chatbotUserId: user 999999999 does not exist \(code 10000\)$/m);

    const wrong = writeConfig({ api: apiFor(sandbox, { accessToken: 'nope' }), knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name } });
    const auth = await runWith(['validate', '--deep'], { cwd: wrong });
    expect(auth.code).toBe(4);
    expect(auth.stdout).toMatch(/^FAIL api\.accessToken: GET \/user\/profile failed: code 10008, invalid access-token/m);
  });

  it('--deep refuses the example file (the vendor\'s endpoint with placeholder values) before any call', async () => {
    const dir = tempDir();
    copyFileSync(path.join(root, 'lanying-kb.config.example.json'), path.join(dir, 'lanying-kb.config.json'));
    copyFileSync(path.join(root, 'lanying-kb.schema.json'), path.join(dir, 'lanying-kb.schema.json'));
    mkdirSync(path.join(dir, 'handbook'));
    writeFileSync(path.join(dir, 'urls.txt'), '');
    const run = await runCliProcess(['validate', '--deep'], { cwd: dir, env: { LANYING_ACCESS_TOKEN: 'a-real-looking-token-0123456789' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(lines).toEqual([
      'FAIL api.appId: "your-app-id" is a placeholder: set the app ID from the console ("Application info")',
      "FAIL knowledgeBase.chatbotUserId: 2302128618880 is the example file's user ID: set the ID of your app's user",
      "FAIL knowledgeBase.adminUserId: 2302128618881 is the example file's user ID: set the ID of your app's user",
      "FAIL api: not called: https://s-1-3-s-api.maximtop.cn is the vendor's service and the configuration still holds placeholders",
    ]);
  });

  it.each([
    ['your-app-id', true],
    ['YOUR_APP_ID', true],
    ['<app id>', true],
    ['paste-the-token-here', true],
    ['xxxx', true],
    ['...', true],
    ['changeme', true],
    ['a1b2c3d4', false],
    ['product-docs', false],
    ['sbx_762455564a096cca680ef8a7e5256d34', false],
  ])('isPlaceholder(%j) is %s', (text, expected) => {
    expect(isPlaceholder(text)).toBe(expected);
  });

  it('placeholders matter only for the vendor\'s endpoint', () => {
    expect(isVendorEndpoint('https://s-1-3-s-api.maximtop.cn')).toBe(true);
    expect(isVendorEndpoint('https://api.maximtop.com/')).toBe(true);
    expect(isVendorEndpoint('http://127.0.0.1:8080')).toBe(false);
    expect(isVendorEndpoint('https://maximtop.cn.example.org')).toBe(false);
    const config = (endpoint: string) => parseConfig({ api: { endpoint, appId: 'your-app-id', accessToken: 'tok' } }, { baseDir: '/', env: {} });
    expect(placeholderProblems(config('https://api.maximtop.com')).map((p) => p.path)).toEqual(['api.appId']);
    expect(placeholderProblems(config('http://127.0.0.1:9'))).toEqual([]);
  });

  it('--deep names api.appId for an app ID the API does not know (40000), and checks URL lists and sitemaps', async () => {
    const sandbox = await useSandbox();
    const kb = sandbox.knowledgeBase;
    const unknownApp = writeConfig({ api: apiFor(sandbox, { appId: 'someone-elses-app' }), knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name } });
    const app = await runWith(['validate', '--deep'], { cwd: unknownApp });
    expect(app.code).toBe(2);
    expect(app.stdout).toMatch(/^FAIL api\.appId: the API does not know app ID "someone-elses-app" \(code 40000\)/m);
    expect(app.stdout).not.toMatch(/knowledgeBase\.(admin|chatbot)UserId/);

    const pages = await usePageServer();
    pages.set('/sitemap.xml', { headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${pages.url('/a.html')}</loc></url><url><loc>${pages.url('/b.html')}</loc></url></urlset>` });
    const dir = writeConfig({
      api: apiFor(sandbox),
      knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0], name: kb.name },
      sources: [
        { type: 'urls', name: 'site', listFile: './urls.txt', sitemap: pages.url('/sitemap.xml'), allowPrivateAddresses: true },
        { type: 'urls', name: 'broken', sitemap: pages.url('/missing.xml'), allowPrivateAddresses: true },
      ],
    });
    writeFileSync(path.join(dir, 'urls.txt'), `${pages.url('/c.html')}\nnot a url\n`);
    const deep = await runWith(['validate', '--deep'], { cwd: dir });
    expect(deep.stderr).toBe('');
    expect(deep.stdout).toMatch(/^ok {3}sources\[0\] "site": 3 URL\(s\) from the list file, the sitemap$/m);
    expect(deep.stdout).toMatch(/^warn sources\[0\] "site": .*urls\.txt:2: "not a url": /m);
    expect(deep.stdout).toMatch(/^FAIL sources\[1\] "broken": .*missing\.xml.*404/m);
    expect(deep.code).toBe(2);
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
    expect(auth.stdout).toMatch(/^FAIL api\.accessTokenFile: GET \/user\/profile failed: code 10008, invalid access-token/m);
  });
});
