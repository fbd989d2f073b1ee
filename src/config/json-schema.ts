import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of the configuration file, generated from the same definition that validates it. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  return { title: 'lanying-kb configuration', ...schema };
}
