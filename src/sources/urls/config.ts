import path from 'node:path';
import { z } from 'zod';
import { KB_MAX_DOCUMENT_BYTES } from '../../protocol/kb-files.js';
import { boundedDuration, byteSizeField, DAY, HOUR, httpUrlField, milliseconds } from '../../util/schema-fields.js';
import { parseByteSize, parseDuration } from '../../util/units.js';
import { resolveCommon, sourceCommonShape } from '../common.js';
import type { ResolvedSourceBase } from '../types.js';

/** Defaults of a URL source. */
export const URL_SOURCE_DEFAULTS = Object.freeze({
  refreshIntervalMs: 3_600_000,
  fetchTimeoutMs: 30_000,
  maxRedirects: 5,
  maxBytes: KB_MAX_DOCUMENT_BYTES,
});

/** A URL source's configuration, as written. */
export const urlSourceSchema = z
  .strictObject({
    type: z.literal('urls'),
    ...sourceCommonShape,
    urls: z.array(httpUrlField).optional().describe('URLs to sync.'),
    listFile: z.string().min(1).optional().describe('A file with one URL a line; "#" comments and blank lines are ignored.'),
    sitemap: httpUrlField.optional().describe('A sitemap.xml URL whose <loc> entries are synced.'),
    refreshInterval: boundedDuration({ min: 100, max: 365 * DAY }).optional().describe('watch: how often the URLs are checked again, from 100ms to 365d. Default "1h".'),
    fetchTimeoutMs: milliseconds(1, HOUR).optional().describe('Timeout of one fetch in milliseconds, at most 3600000 (1 hour). Default 30000.'),
    maxRedirects: z.number().int().min(0).max(20).optional().describe('Redirects followed per URL. Default 5.'),
    maxBytes: byteSizeField.optional().describe('Larger responses are refused. Default "50MiB".'),
    allowPrivateAddresses: z
      .boolean()
      .optional()
      .describe(
        'Allow fetching from loopback, private, link-local, CGNAT, multicast and cloud-metadata addresses (an intranet site). Default false: such addresses are refused, checked on the resolved address of every connection and redirect.',
      ),
  })
  .refine((s) => Boolean(s.urls?.length || s.listFile || s.sitemap), {
    message: 'a urls source needs at least one of "urls", "listFile" or "sitemap"',
  });

export type UrlSourceInput = z.output<typeof urlSourceSchema>;

/** A URL source with its defaults applied. */
export interface ResolvedUrlSource extends ResolvedSourceBase {
  readonly type: 'urls';
  readonly urls: string[];
  /** Absolute path. */
  readonly listFile: string | undefined;
  readonly sitemap: string | undefined;
  readonly refreshIntervalMs: number;
  readonly fetchTimeoutMs: number;
  readonly maxRedirects: number;
  readonly maxBytes: number;
  /** Fetch from loopback, private, link-local and metadata addresses too (an intranet site). */
  readonly allowPrivateAddresses: boolean;
}

export function resolveUrlSource(input: UrlSourceInput, ctx: { baseDir: string }): ResolvedUrlSource {
  return {
    ...resolveCommon('urls', input),
    urls: input.urls ?? [],
    listFile: input.listFile === undefined ? undefined : path.resolve(ctx.baseDir, input.listFile),
    sitemap: input.sitemap,
    refreshIntervalMs: input.refreshInterval === undefined ? URL_SOURCE_DEFAULTS.refreshIntervalMs : (parseDuration(input.refreshInterval) as number),
    fetchTimeoutMs: input.fetchTimeoutMs ?? URL_SOURCE_DEFAULTS.fetchTimeoutMs,
    maxRedirects: input.maxRedirects ?? URL_SOURCE_DEFAULTS.maxRedirects,
    maxBytes: input.maxBytes === undefined ? URL_SOURCE_DEFAULTS.maxBytes : (parseByteSize(input.maxBytes) as number),
    allowPrivateAddresses: input.allowPrivateAddresses ?? false,
  };
}
