import { existsSync } from 'node:fs';
import { FetchError } from '../../errors.js';
import type { ObservationBatch, ObservedItem, ObserveContext, SourceAdapter } from '../types.js';
import { type ResolvedUrlSource, resolveUrlSource, urlSourceSchema } from './config.js';
import type { FetchedUrl } from './fetch.js';
import type { FetchOptions } from './http.js';

/** URLs fetched at the same time. */
const FETCH_CONCURRENCY = 4;

/**
 * URL sources: pages and documents named inline, in a list file or in a sitemap. Each is fetched (a conditional GET
 * when the state has validators for the version in the knowledge base); an HTML page is hashed on its visible text
 * and sent as its URL (the chatbot fetches it), any other supported document is downloaded and sent as a file.
 * Checked again every `refreshInterval` by the daemon.
 */
export const urlSource: SourceAdapter<ResolvedUrlSource, typeof urlSourceSchema> = {
  type: 'urls',
  title: 'URL lists and sitemaps',
  schema: urlSourceSchema,
  resolve: resolveUrlSource,
  describe: (source) => {
    const parts: string[] = [];
    if (source.urls.length) parts.push(`${source.urls.length} URL(s)`);
    if (source.listFile) parts.push(`list ${source.listFile}`);
    if (source.sitemap) parts.push(`sitemap ${source.sitemap}`);
    return parts.join(', ');
  },

  async open(source, ctx) {
    const fetchOptions = fetchOptionsOf(source, ctx);
    // Note: loaded here, so that a run with folder sources only does not load the HTML parser and MIME tables.
    const { resolveSourceUrls } = await import('./fetch.js');
    // Throws SourceError when the list file cannot be read.
    const list = await resolveSourceUrls(source, fetchOptions);
    async function* batches(): AsyncGenerator<ObservationBatch> {
      const items = await fetchAll(source.name, list.urls, fetchOptions, ctx);
      const problems = list.problems.map((p) => ({ where: p.where, reason: p.reason, failed: p.failed ?? false }));
      yield { scope: { kind: 'all' }, items, complete: list.complete, problems };
    }
    return { [Symbol.asyncIterator]: batches, close: () => {} };
  },

  async hash(_source, items) {
    // Every item was read when it was fetched.
    return items.map(() => ({ failure: 'not fetched', gone: false }));
  },

  pollIntervalMs: (source) => source.refreshIntervalMs,

  async validateDeep(source, ctx) {
    const { resolveSourceUrls } = await import('./fetch.js');
    const options = fetchOptionsOf(source, { ...ctx, excludeDirs: [], downloadDir: '', known: () => undefined, runState: new Map() });
    let list: Awaited<ReturnType<typeof resolveSourceUrls>>;
    try {
      list = await resolveSourceUrls(source, options);
    } catch (error) {
      return [{ ok: false, detail: error instanceof Error ? error.message : String(error) }];
    }
    const checks = list.problems.map((p) => ({ ok: false, warning: !p.failed, detail: `${p.where}: ${p.reason}` }));
    const from = [source.urls.length ? 'urls' : '', source.listFile ? 'the list file' : '', source.sitemap ? 'the sitemap' : ''].filter(Boolean).join(', ');
    checks.unshift({ ok: list.urls.length > 0 || list.problems.length === 0, warning: false, detail: `${list.urls.length} URL(s) from ${from || 'nowhere'}${list.complete ? '' : ' (the sitemap could not be read whole)'}` });
    return checks;
  },

  validate(source) {
    if (source.listFile === undefined) return [];
    const exists = existsSync(source.listFile);
    return [{ ok: exists, detail: exists ? `list file ${source.listFile}` : `list file ${source.listFile} does not exist` }];
  },
};

function fetchOptionsOf(source: ResolvedUrlSource, ctx: ObserveContext): FetchOptions {
  return {
    userAgent: ctx.userAgent,
    dispatcher: ctx.dispatcher,
    signal: ctx.signal,
    timeoutMs: source.fetchTimeoutMs,
    maxRedirects: source.maxRedirects,
    maxBytes: source.maxBytes,
    allowPrivateAddresses: source.allowPrivateAddresses,
  };
}

async function fetchAll(name: string, urls: readonly string[], options: FetchOptions, ctx: ObserveContext): Promise<ObservedItem[]> {
  const { fetchUrl } = await import('./fetch.js');
  const items = new Array<ObservedItem>(urls.length);
  let next = 0;
  let done = 0;
  let bytes = 0;
  const progress = () => ctx.onProgress?.({ phase: 'fetch', source: name, done, total: urls.length, items: urls.length, bytes });
  progress();
  const worker = async () => {
    while (next < urls.length) {
      const index = next++;
      const url = urls[index] as string;
      const known = ctx.known(url);
      // Validators only for the version the knowledge base has: anything else must be fetched whole.
      const previous = known?.current ? known.validators : undefined;
      try {
        const fetched = await fetchUrl(url, { ...options, previous, downloadDir: ctx.downloadDir });
        items[index] = itemOf(url, fetched);
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        // The item names the URL already: keep only what went wrong.
        const reason = error instanceof FetchError ? error.message.replace(`${error.url}: `, '') : error instanceof Error ? error.message : String(error);
        items[index] = { key: url, kind: 'page', size: 0, failure: reason };
      }
      done++;
      bytes += items[index]?.size ?? 0;
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, urls.length) }, worker));
  return items;
}

function itemOf(url: string, fetched: FetchedUrl): ObservedItem {
  switch (fetched.status) {
    case 'not-modified':
      return { key: url, kind: 'page', size: 0, notModified: true, validators: fetched.validators };
    case 'unsupported':
      return { key: url, kind: 'url-file', size: fetched.bytes, skip: { code: 'unsupported', reason: fetched.reason } };
    case 'page':
      return {
        key: url,
        kind: 'page',
        size: fetched.bytes,
        hash: fetched.sha256,
        validators: fetched.validators,
        payload: { type: 'url', url, title: fetched.title, link: url },
      };
    case 'file':
      return {
        key: url,
        kind: 'url-file',
        size: fetched.bytes,
        hash: fetched.sha256,
        validators: fetched.validators,
        payload: { type: 'file', fsPath: fetched.filePath, name: fetched.fileName, title: titleFromName(fetched.fileName), link: url },
      };
  }
}

/** A title from a file name: the name without its extension. */
function titleFromName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
