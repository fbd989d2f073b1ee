import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LanyingClient } from '../../src/api/client.js';
import { ApiError, UploadError } from '../../src/api/errors.js';
import { containsSecretFragment, WITHHELD_SERVER_TEXT } from '../../src/api/secret-fragments.js';
import { caught } from '../helpers/errors.js';

const TOKEN = 'YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo0Mn9K';

const echoes: [string, string][] = [
  ['exact', `bad token ${TOKEN}`],
  ['split in two', `token starts ${TOKEN.slice(0, 20)} ... and ends ${TOKEN.slice(20)}`],
  ['a fragment only', `near ${TOKEN.slice(11, 21)} here`],
  ['upper-cased', `BAD TOKEN ${TOKEN.toUpperCase()}`],
  ['lower-cased', `bad token ${TOKEN.toLowerCase()}`],
  ['percent-encoded', `token=${[...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`],
  ['twice percent-encoded', `token=${encodeURIComponent([...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''))}`],
  ['with separators', `token: ${TOKEN.match(/.{1,4}/g)?.join('-')}`],
  ['full-width', `token ${[...TOKEN.slice(0, 12)].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('')}`],
];

describe('containsSecretFragment', () => {
  it.each(echoes)('finds the token %s', (_what, text) => {
    expect(containsSecretFragment(text, TOKEN)).toBe(true);
  });

  it.each([
    'invalid access-token',
    'access-token header missing',
    '用户不存在',
    `a short piece ${TOKEN.slice(0, 7)} is not a leak`,
    '',
  ])('leaves ordinary text alone: %j', (text) => {
    expect(containsSecretFragment(text, TOKEN)).toBe(false);
  });
});

describe('containsSecretFragment: edges', () => {
  const pct = (text: string) => [...text].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
  const cases: [string, string, string, boolean][] = [
    ['the last 8 letters and digits of the token', `ends with ${TOKEN.slice(-8)}`, TOKEN, true],
    ['the first 8', `${TOKEN.slice(0, 8)}!`, TOKEN, true],
    ['8 letters and digits split by separators', `${TOKEN.slice(3, 7)}-_ ${TOKEN.slice(7, 11)}`, TOKEN, true],
    ['7 of them', TOKEN.slice(3, 10), TOKEN, false],
    ['percent-encoding with an invalid sequence in the same run (decoded byte by byte)', `x=%ff${pct(TOKEN.slice(0, 12))}`, TOKEN, true],
    ['percent-encoding in lower and upper case', pct(TOKEN.slice(0, 12)).toUpperCase(), TOKEN, true],
    ['full-width letters, percent-encoded as UTF-8', encodeURIComponent([...TOKEN.slice(0, 12)].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('')), TOKEN, true],
    ['a short secret counts as a whole', 'the pin is ab12c', 'ab12c', true],
    ['a short secret, in another case', 'the pin is AB12C', 'ab12c', true],
    ['a short secret, only partly', 'the pin is ab12', 'ab12c', false],
    ['a secret of exactly 8', 'key: abcd1234.', 'abcd1234', true],
    ['a secret without letters or digits: exactly', 'see --++-- there', '--++--', true],
    ['a secret without letters or digits: absent', 'see --+- there', '--++--', false],
    ['an empty secret', 'anything', '', false],
    ['an empty text', '', TOKEN, false],
  ];
  for (const [what, text, secret, found] of cases) {
    it(`${what}: ${found ? 'found' : 'not found'}`, () => {
      expect(containsSecretFragment(text, secret)).toBe(found);
    });
  }
});

/** A server that answers every request with `body` (an API envelope or storage XML) and `status`. */
async function echoServer(status: number, body: (url: string) => string): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(body(req.url ?? '')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('server text that echoes the token is never shown', () => {
  it.each(echoes)('API error message: token %s', async (_what, echo) => {
    const url = await echoServer(200, () => JSON.stringify({ code: 10002, message: echo, data: null }));
    const client = new LanyingClient({ endpoint: url, appId: 'app', accessToken: TOKEN, maxRetries: 0 });
    const error = (await caught(client.get('/user/profile'))) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(10002);
    expect(error.serverMessage).toBe(WITHHELD_SERVER_TEXT);
    expect(WITHHELD_SERVER_TEXT).toBe("[withheld: the server's text contained part of the access token]");
    for (const text of [error.message, JSON.stringify(error), String(error.stack)]) expect(containsSecretFragment(text, TOKEN)).toBe(false);
  });

  it('storage error text (Code and Message of the XML)', async () => {
    const url = await echoServer(403, () => `<Error><Code>Denied${TOKEN.toUpperCase()}</Code><Message>token ${TOKEN.slice(5, 30)}</Message></Error>`);
    const client = new LanyingClient({ endpoint: url, appId: 'app', accessToken: TOKEN, maxRetries: 0 });
    const error = (await caught(client.files.upload({ upload_url: `${url}/bucket`, upload_method: 'PUT', download_url: 'x' }, { buffer: Buffer.from('x') }, 'a.txt'))) as UploadError;
    expect(error).toBeInstanceOf(UploadError);
    expect(error.status).toBe(403);
    expect(containsSecretFragment(error.message, TOKEN)).toBe(false);
    expect(error.message).toContain(WITHHELD_SERVER_TEXT);
  });

  it('keeps ordinary server messages', async () => {
    const url = await echoServer(200, () => JSON.stringify({ code: 10002, message: 'bad request parameter: user_id', data: null }));
    const client = new LanyingClient({ endpoint: url, appId: 'app', accessToken: TOKEN, maxRetries: 0 });
    const error = (await caught(client.get('/user/profile'))) as ApiError;
    expect(error.serverMessage).toBe('bad request parameter: user_id');
  });
});
