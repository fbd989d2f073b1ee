// Writes lanying-kb.schema.json from the config schema: `npm run schema`.
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/json-schema.js';

writeFileSync(new URL('../lanying-kb.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log('wrote lanying-kb.schema.json');
