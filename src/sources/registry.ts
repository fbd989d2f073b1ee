/**
 * The source types lanying-kb knows. Adding one is a folder under `src/sources/` with a `SourceAdapter` (see
 * `types.ts` and docs/ARCHITECTURE.md) and one entry in `SOURCE_ADAPTERS`.
 */

import { folderSource } from './folder/adapter.js';
import type { SourceAdapter } from './types.js';
import { urlSource } from './urls/adapter.js';

export const SOURCE_ADAPTERS = [folderSource, urlSource] as const;

type KnownAdapter = (typeof SOURCE_ADAPTERS)[number];

/** The resolved configuration of any known source. */
export type ResolvedSource = ReturnType<KnownAdapter['resolve']>;

/** The configuration schemas of the known source types, in registry order (for the configuration's `sources`). */
export const SOURCE_SCHEMAS = SOURCE_ADAPTERS.map((adapter) => adapter.schema) as unknown as SchemasOf<typeof SOURCE_ADAPTERS>;

type SchemasOf<T extends readonly { schema: unknown }[]> = { -readonly [K in keyof T]: T[K]['schema'] };

/** The adapter of a source type; undefined when the type is unknown. */
export function adapterFor(type: string, adapters: readonly SourceAdapter[] = SOURCE_ADAPTERS as unknown as readonly SourceAdapter[]): SourceAdapter | undefined {
  return adapters.find((a) => a.type === type);
}
