import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { parseConfig } from '../../src/config/load.js';

const root = new URL('../../', import.meta.url);

describe('shipped config files', () => {
  it('lanying-kb.schema.json is generated from the current schema (run `npm run schema` after changing it)', () => {
    const committed = JSON.parse(readFileSync(new URL('lanying-kb.schema.json', root), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });

  it('the example config is valid', () => {
    const example = JSON.parse(readFileSync(new URL('lanying-kb.config.example.json', root), 'utf8'));
    const config = parseConfig(example, { baseDir: '/srv/kb', filepath: 'lanying-kb.config.example.json', env: { LANYING_ACCESS_TOKEN: 'x' } });
    expect(config.sources.map((s) => s.name)).toEqual(['handbook', 'website']);
    expect(config.sources[0]).toMatchObject({ path: '/srv/kb/handbook' });
  });
});
