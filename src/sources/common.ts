import { z } from 'zod';
import { userIdField } from '../util/schema-fields.js';
import type { ResolvedSourceBase } from './types.js';

/**
 * Metadata keys lanying-kb sets on every document it sends (`sync/document-metadata.ts`): a source's own metadata
 * may not use them, as they tell lanying-kb's documents apart and tie each to its source.
 */
export const RESERVED_METADATA_KEYS: readonly string[] = Object.freeze(['source', 'path', 'sha256', 'sync_id', 'managed_by']);

const metadataField = z
  .record(z.string(), z.string())
  .superRefine((metadata, ctx) => {
    for (const key of Object.keys(metadata)) {
      if (RESERVED_METADATA_KEYS.includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is set by lanying-kb on every document and cannot be given` });
    }
  })
  .describe(`Flat string key/value pairs merged into every document's ext.ai.metadata (not ${RESERVED_METADATA_KEYS.join(', ')}).`);

const sourceNameField = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, "_", "." and "-" (starting with a letter or digit)')
  .describe('Unique name of the source; used in state, metadata and `--source`.');

/** The keys every source type's schema has besides `type`. */
export const sourceCommonShape = {
  name: sourceNameField,
  metadata: metadataField.optional(),
  chatbotUserId: userIdField.optional().describe("Send this source's documents to another chatbot user."),
  enabled: z.boolean().optional().describe('Set to false to leave the source out of sync and watch. Default true.'),
};

/** The common keys as written. */
export interface SourceCommonInput {
  name: string;
  metadata?: Record<string, string> | undefined;
  chatbotUserId?: number | undefined;
  enabled?: boolean | undefined;
}

/** The common keys resolved (defaults applied). */
export function resolveCommon<T extends string>(type: T, input: SourceCommonInput): ResolvedSourceBase & { type: T } {
  return { type, name: input.name, metadata: { ...(input.metadata ?? {}) }, chatbotUserId: input.chatbotUserId, enabled: input.enabled ?? true };
}
