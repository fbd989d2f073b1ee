import path from 'node:path';
import { z } from 'zod';
import { KB_MAX_DOCUMENT_BYTES } from '../../protocol/kb-files.js';
import { byteSizeField, httpUrlField } from '../../util/schema-fields.js';
import { parseByteSize } from '../../util/units.js';
import { resolveCommon, sourceCommonShape } from '../common.js';
import type { ResolvedSourceBase } from '../types.js';

/** A folder source's configuration, as written. */
export const folderSourceSchema = z.strictObject({
  type: z.literal('folder'),
  ...sourceCommonShape,
  path: z.string().min(1).describe("Folder to sync; relative paths are resolved from the config file's folder."),
  include: z.array(z.string().min(1)).optional().describe('Glob patterns (relative to path) to include. Default: every supported type.'),
  exclude: z.array(z.string().min(1)).optional().describe('Glob patterns (relative to path) to leave out.'),
  followSymlinks: z.boolean().optional().describe('Follow symbolic links that stay inside the folder. Default false.'),
  maxFileSize: byteSizeField.optional().describe('Larger files are skipped. Default "50MiB", the chatbot\'s limit.'),
  linkBase: httpUrlField.optional().describe("URL prefix: a document's metadata link becomes linkBase + its relative path."),
  usePolling: z.boolean().optional().describe('watch: poll instead of using inotify (network mounts). Default false.'),
  marker: z
    .string()
    .min(1)
    .refine((m) => !m.includes('/') && !m.includes('\\') && m !== '.' && m !== '..', 'a file name in the folder itself, not a path')
    .optional()
    .describe('A file (e.g. ".lanying-kb-root") that must exist in the folder for it to be synced: when it is missing (an unmounted disk or share), the source is unavailable and nothing is taken for removed.'),
});

export type FolderSourceInput = z.output<typeof folderSourceSchema>;

/** A folder source with its defaults applied. */
export interface ResolvedFolderSource extends ResolvedSourceBase {
  readonly type: 'folder';
  /** Absolute path. */
  readonly path: string;
  readonly include: string[] | undefined;
  readonly exclude: string[];
  readonly followSymlinks: boolean;
  readonly maxFileSize: number;
  readonly linkBase: string | undefined;
  readonly usePolling: boolean;
  /** A file name that must exist in the folder (see the schema). */
  readonly marker?: string | undefined;
}

export function resolveFolderSource(input: FolderSourceInput, ctx: { baseDir: string }): ResolvedFolderSource {
  return {
    ...resolveCommon('folder', input),
    path: path.resolve(ctx.baseDir, input.path),
    include: input.include,
    exclude: input.exclude ?? [],
    followSymlinks: input.followSymlinks ?? false,
    maxFileSize: input.maxFileSize === undefined ? KB_MAX_DOCUMENT_BYTES : (parseByteSize(input.maxFileSize) as number),
    linkBase: input.linkBase,
    usePolling: input.usePolling ?? false,
    marker: input.marker,
  };
}
