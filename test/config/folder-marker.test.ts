import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

// A folder source's `marker` names a file in the folder itself (it tells an unmounted disk from an emptied one):
// a path, "." or ".." would name something else, and is refused with a message naming the key.

const api = { endpoint: 'https://api.example.test', appId: 'app1', accessToken: 'token-1234567890' };
const folder = (marker: string) => ({ api, sources: [{ type: 'folder', name: 'docs', path: '/data/docs', marker }] });

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, { baseDir: '/x', filepath: '/x/c.json', env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('folder source marker', () => {
  it.each(['a/b', 'sub/', 'a\\b', '.', '..'])('refuses %j', (marker) => {
    expect(problems(folder(marker))).toEqual(['/x/c.json: sources[0].marker: a file name in the folder itself, not a path']);
  });

  it.each(['.lanying-kb-root', 'MOUNTED', '...', '.a'])('accepts %j', (marker) => {
    expect(problems(folder(marker))).toEqual([]);
  });
});
