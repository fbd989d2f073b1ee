/**
 * What a source type is to the rest of lanying-kb: a small interface (like rclone's `fs.Fs`, or langchain's document
 * loaders) that every source type implements in its own folder and names once in `registry.ts`. The sync engine,
 * the daemon, the configuration and `validate` know sources only through it.
 *
 * A source observes its documents (`open`): it hands over batches of what it sees, each saying which part of the
 * source it covers and whether that part was seen completely. It never decides what to send and never writes the
 * state: the engine's planner does that, from the observation and what the state knows.
 */

import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { DocumentKind } from '../state/store.js';

/** The settings every source has, whatever its type. */
export interface ResolvedSourceBase {
  /** The source type, e.g. `folder` or `urls`. */
  readonly type: string;
  readonly name: string;
  /** Merged into every document's `ext.ai.metadata`. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Send this source's documents to another chatbot user. */
  readonly chatbotUserId: number | undefined;
  readonly enabled: boolean;
}

/** What to send for one document. */
export type Payload =
  /**
   * A file: uploaded to storage, then sent as a file message named `name`. `expect` is the stat it had when it was
   * hashed: a file that no longer matches after the upload changed meanwhile, and is hashed and sent again.
   */
  | {
      type: 'file';
      fsPath: string | Buffer;
      name: string;
      title: string | undefined;
      link: string | undefined;
      expect?: { size: number; mtimeMs: number; ino: number } | undefined;
    }
  /** A web page: sent as a text message holding its URL; the chatbot fetches it. */
  | { type: 'url'; url: string; title: string | undefined; link: string | undefined };

/** Why a reported document is not sent (machine-readable `code`, human-readable `reason`). */
export interface SkipReason {
  code: string;
  reason: string;
}

/** The cheap signs of a file's change: when all are the same as recorded, its content is taken as unchanged. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** Conditional-request validators of a URL (`ETag`, `Last-Modified`). */
export interface Validators {
  etag?: string | undefined;
  lastModified?: string | undefined;
}

/** One document as its source sees it now. */
export interface ObservedItem {
  /** Unique within the source: a relative path (`docs/a.md`), or a URL. */
  key: string;
  kind: DocumentKind;
  /** Bytes (0 when not known). */
  size: number;
  /** Files: their stat, to tell cheaply that they are unchanged. */
  stat?: FileStat | undefined;
  /** The content's SHA-256, when the source read it already (a fetched URL); otherwise `SourceAdapter.hash` reads it. */
  hash?: string | undefined;
  /** The source confirmed that the content is the one the state knows (an HTTP 304). */
  notModified?: boolean | undefined;
  /** Validators to record for the next conditional request. */
  validators?: Validators | undefined;
  /** Reported, never sent. */
  skip?: SkipReason | undefined;
  /** Observing this document failed (a fetch error): the reason; nothing else is known of it. */
  failure?: string | undefined;
  /** What to send when the content is new or changed. */
  payload?: Payload | undefined;
  /**
   * Not a document: a folder reported instead of entered (an unreadable folder, a link to a folder that is not
   * followed). Its key ends in `/`. Never recorded.
   */
  isFolder?: boolean | undefined;
}

/**
 * Which documents of the source a batch speaks for. Documents the state knows within the scope that the batch does
 * not hold are gone from the source, when (and only when) the batch is `complete`.
 * - `all`: every document of the source.
 * - `folder`: the documents directly in one folder (`dir`: its key, '' for the root); with `part`, only those whose
 *   keys lie in the part's range (a large folder is observed in consecutive parts, so that it is never held whole).
 * - `keys`: exactly these keys (a watcher's changed paths).
 * - `other-folders`: every folder the state knows except those `listed` and those below an `incomplete` one (a
 *   folder that could not be read): the folders that went away. Sent once, after a full scan.
 */
export type Scope =
  | { kind: 'all' }
  | { kind: 'folder'; dir: string; part?: ScopePart | undefined }
  | { kind: 'keys'; keys: readonly string[] }
  | { kind: 'other-folders'; listed: ReadonlySet<string>; incomplete: readonly string[] };

/**
 * One part of a folder observed in parts: the documents whose keys lie in [`from`, `to`) in UTF-8 byte order (the order
 * SQLite compares text in; an absent bound is open). The parts of a folder come one after another, `index` 0 first.
 */
export interface ScopePart {
  index: number;
  last: boolean;
  from: string | undefined;
  to: string | undefined;
}

/** Something the source found that is no document: a bad line in a URL list, a sitemap that failed. */
export interface ObservationProblem {
  /** Where: a file and line, a URL. */
  where: string;
  reason: string;
  /** A failure (a run with one is `partial`), rather than a line skipped. */
  failed: boolean;
}

/** One part of an observation. */
export interface ObservationBatch {
  scope: Scope;
  items: ObservedItem[];
  /** False when the scope was not seen completely: then nothing in it is taken for gone. */
  complete: boolean;
  problems?: ObservationProblem[] | undefined;
}

/** What the state knows of one document, as a source may need it (for conditional requests). */
export interface KnownContent {
  hash: string | null;
  /** The content last seen is the version in the knowledge base. */
  current: boolean;
  validators: Validators;
}

/**
 * How far an observation got, for progress displays: entries a scan listed, URLs fetched. `items`, once known, is
 * how many items the observation hands over in all.
 */
export interface ObserveProgress {
  phase: 'scan' | 'fetch';
  source: string;
  done: number;
  total?: number | undefined;
  items?: number | undefined;
  /** Bytes read so far (fetches). */
  bytes?: number | undefined;
}

/** What a source gets to observe with. */
export interface ObserveContext {
  /** Stops the observation: it then rejects with `signal.reason`. */
  signal: AbortSignal;
  /** Absolute folders never looked into (lanying-kb's own state folder). */
  excludeDirs: readonly string[];
  /** Where downloaded documents go; the engine removes the folder when the run ends. */
  downloadDir: string;
  /** For HTTP requests (tests inject one). */
  dispatcher?: Dispatcher | undefined;
  userAgent: string;
  /** What the state knows of a document of this source. */
  known(key: string): KnownContent | undefined;
  /**
   * What source types keep for the length of one run, under their type's name: e.g. the claims that give a file
   * that two folder sources cover to the first of them. Empty at the start of a run.
   */
  runState: Map<string, unknown>;
  /** Told how far the observation got (at most every few milliseconds). @default nothing */
  onProgress?: ((progress: ObserveProgress) => void) | undefined;
  /**
   * Small facts the source keeps in the state between runs (e.g. a folder source's root device, to tell an unmounted
   * folder from an emptied one). Absent where nothing can be kept; writes are dropped in a dry run.
   */
  memo?: SourceMemo | undefined;
}

/** Facts a source keeps in the state between runs, by name (see `ObserveContext.memo`). */
export interface SourceMemo {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

/** An opened observation: read its batches once, in order. */
export interface Observation extends AsyncIterable<ObservationBatch> {
  /** Frees what the observation holds (threads, files) if it is not read to its end. */
  close(): void;
}

/**
 * The result of hashing one document: its SHA-256, or why it could not be read (`gone`: it vanished meanwhile), or
 * why what was read must not be sent (`skip`: e.g. it grew past the source's size limit since it was listed).
 */
export type HashResult = { hash: string; size: number } | { failure: string; gone: boolean; skip?: SkipReason | undefined };

/** One check `lanying-kb validate` prints. */
export interface SourceCheck {
  ok: boolean;
  detail: string;
  warning?: boolean | undefined;
}

/** A rule of a source that decides about a path: what it is, where it is written, what it says. */
export interface SourceRule {
  /** Type-specific: for folders `hidden`, `state-folder`, `exclude`, `include`, `include-exception`, `kbignore`. */
  kind: string;
  /**
   * Where the rule is written: a key of the source's configuration (`exclude[1]`, `include`), or a file and its line
   * (`/srv/docs/.kbignore:3`), or what it is (`hidden name`).
   */
  where: string;
  /** The rule as written (a pattern), when it is one. */
  pattern?: string | undefined;
  /** A folder (a key) above the path that the rule leaves out, and the path with it. */
  via?: string | undefined;
  /** One line for people: `matches exclude pattern "drafts/"`. */
  description: string;
}

/** A path the source's rules leave out (a folder once, not what is below it). */
export interface LeftOutPath {
  key: string;
  isDir: boolean;
  rule: SourceRule;
}

/** What the source's rules say about one path (`lanying-kb why`). */
export interface PathExplanation {
  /** The path's key in the source. */
  key: string;
  isDir: boolean;
  exists: boolean;
  /** The rule that leaves the path out; absent when the path is one of the source's documents (or folders). */
  leftOut?: SourceRule | undefined;
  /** The document is reported but not sent: why (an unsupported type, empty, too large, a link). */
  skip?: SkipReason | undefined;
}

/** What a source's watcher reports. Paths are absolute. */
export type SourceWatchEvent =
  /** A document was added, changed or removed (`stamp` null when gone; undefined when the event carried no stats). */
  | { type: 'file'; path: string; stamp: { size: number; mtimeMs: number } | null | undefined }
  /** A folder appeared or went away: the source should be observed again. */
  | { type: 'dir'; path: string; gone: boolean }
  /** The source's rules changed (a `.kbignore`): forget cached rules of `relDir` and observe the source again. */
  | { type: 'rules'; path: string; relDir: string };

/** Why a watcher fell back to polling, and what fixes it. */
export interface WatchFallback {
  source: string;
  code: string;
  reason: string;
  fix: string;
}

/** Where a source's watcher is. */
export type WatchState = 'starting' | 'watching' | 'polling' | 'error' | 'stopped';

/** A running watcher of one source. */
export interface SourceWatch {
  readonly state: WatchState;
  readonly lastError: string | undefined;
  /** Resolves once the watcher is watching (or could not start). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** Options a source's `watch` gets from the daemon. */
export interface WatchOptions {
  onEvent: (event: SourceWatchEvent) => void;
  onFallback: (fallback: WatchFallback) => void;
  onError: (error: unknown) => void;
  /** Absolute folders never watched (the state folder). */
  excludeDirs: readonly string[];
  /** Polling interval when polling. */
  pollIntervalMs?: number | undefined;
  /**
   * How often the watcher checks that what it watches is still there as it was (a folder's root: its device and
   * inode, which an unmount changes without a word from the kernel's watches). A change is reported through
   * `onError` and the watcher's state becomes `error`, to be started anew.
   */
  rootCheckIntervalMs?: number | undefined;
  /** Type-specific knobs for tests (e.g. an injected watcher factory). */
  testHooks?: Record<string, unknown> | undefined;
}

/** What the engine keeps for a source between runs (filters and their caches). */
export interface SourceSession {
  /** Observes the documents at these absolute paths (a watcher's events): one batch of scope `keys`. */
  observePaths?(paths: readonly (string | Buffer)[], ctx: ObserveContext): Promise<ObservationBatch>;
  /** Forgets cached rules below `relDir` (everything when omitted), e.g. after a `.kbignore` changed. */
  invalidate?(relDir?: string): void;
  /** Whether the document `key` still exists at its source, for telling a move from a copy. @default true */
  exists?(key: string): boolean;
}

/**
 * A source type. `S` is its resolved configuration (with `ResolvedSourceBase`'s keys), `Schema` the shape of its
 * configuration as written.
 */
export interface SourceAdapter<S extends ResolvedSourceBase = ResolvedSourceBase, Schema extends z.ZodType = z.ZodType> {
  readonly type: S['type'];
  /** One line for people: `folders`, `URL lists and sitemaps`. */
  readonly title: string;
  /**
   * The configuration's shape for this type: a strict object with `type: z.literal(type)` and the common keys
   * (`sourceCommonShape`). The JSON Schema and `validate` come from it.
   */
  readonly schema: Schema;
  /** Applies defaults and resolves paths against the config file's folder. The input is schema-valid. */
  resolve(input: z.output<Schema>, ctx: { baseDir: string }): S;
  /** One line for people and logs: `folder /srv/docs`, `3 URL(s), sitemap https://...`. */
  describe(source: S): string;
  /**
   * Starts observing the source. Throws `SourceError` when the source cannot be observed at all (a missing or
   * unmounted folder, an unreadable list file): the engine opens every source before it sends anything.
   */
  open(source: S, ctx: ObserveContext): Promise<Observation>;
  /** Reads the content hash of the items (those without `hash`), in order. */
  hash(source: S, items: readonly ObservedItem[], ctx: { signal: AbortSignal }): Promise<HashResult[]>;
  /** What the engine keeps between runs for this source. @default nothing */
  session?(source: S, ctx: { excludeDirs: readonly string[] }): SourceSession;
  /**
   * Called once per run with every enabled source of this type and the ones selected, before any is opened: e.g.
   * folder sources claim the files of earlier overlapping sources that the run leaves out.
   */
  prepareRun?(all: readonly S[], selected: readonly S[], ctx: ObserveContext): Promise<void>;
  /** Watches the source for changes (the daemon); sources without it are observed again every `pollIntervalMs`. */
  watch?(source: S, session: SourceSession, options: WatchOptions): SourceWatch;
  /** How often the daemon observes the source again when it has no watcher. @default the reconcile interval */
  pollIntervalMs?(source: S): number | undefined;
  /** Every path the source's rules leave out, with the rule (`sync --dry-run -v`). @default nothing is left out */
  leftOut?(source: S, ctx: { excludeDirs: readonly string[]; signal?: AbortSignal | undefined }): AsyncIterable<LeftOutPath>;
  /**
   * What the source's rules say about `path` (absolute; `lanying-kb why`); undefined when the path is not inside the
   * source.
   */
  explain?(source: S, path: string, ctx: { excludeDirs: readonly string[] }): PathExplanation | undefined;
  /**
   * Checks that reach out (`lanying-kb validate --deep`): a URL list's lines, its sitemap. Read-only: nothing is
   * recorded or sent.
   */
  validateDeep?(source: S, ctx: { userAgent: string; signal: AbortSignal; dispatcher?: Dispatcher | undefined }): Promise<SourceCheck[]>;
  /** Local checks for `lanying-kb validate` (the folder exists, the list file is readable, ...). */
  validate?(source: S): SourceCheck[];
}
