/**
 * The root of lanying-kb's error tree. Every failure a user can cause is a subclass of `LanyingKbError`
 * whose message is one clear line naming the file, key, path or API code involved.
 *
 * API failures live in `api/errors.ts` and extend this class too.
 */
export class LanyingKbError extends Error {
  override name = 'LanyingKbError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message };
  }
}

/** One problem found in a configuration file. `path` is the key path, e.g. `sources[0].path`. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** The configuration could not be found, parsed or validated. Lists every problem at once. */
export class ConfigError extends LanyingKbError {
  override name = 'ConfigError';
  readonly filepath: string | undefined;
  readonly problems: readonly ConfigProblem[];

  constructor(filepath: string | undefined, problems: ConfigProblem[] | string, options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [{ path: '', message: problems }] : problems;
    super(formatConfigProblems(filepath, list), options);
    this.filepath = filepath;
    this.problems = list;
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, filepath: this.filepath, problems: this.problems };
  }
}

function formatConfigProblems(filepath: string | undefined, problems: readonly ConfigProblem[]): string {
  return problems.map((p) => formatConfigProblem(filepath, p)).join('\n');
}

/** One problem of a `ConfigError` as its line of the message: `file: key.path: what`. */
export function formatConfigProblem(filepath: string | undefined, problem: ConfigProblem): string {
  const where = filepath ?? 'configuration';
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** The command line was wrong: an unknown flag, a missing argument, conflicting options. */
export class UsageError extends LanyingKbError {
  override name = 'UsageError';
}

/** The state database cannot be opened, is corrupt, or is of a newer schema than this version knows. */
export class StateError extends LanyingKbError {
  override name = 'StateError';
  readonly filepath: string;
  constructor(filepath: string, message: string, options?: { cause?: unknown }) {
    super(`${filepath}: ${message}`, options);
    this.filepath = filepath;
  }
}

/** Another lanying-kb process holds the state folder. */
export class LockError extends LanyingKbError {
  override name = 'LockError';
  readonly filepath: string;
  readonly ownerPid: number | undefined;
  constructor(filepath: string, message: string, ownerPid?: number) {
    super(`${filepath}: ${message}`);
    this.filepath = filepath;
    this.ownerPid = ownerPid;
  }
}

/** A configured source cannot be read as a whole (a missing folder, an unreadable list file). */
export class SourceError extends LanyingKbError {
  override name = 'SourceError';
  readonly source: string;
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(`source "${source}": ${message}`, options);
    this.source = source;
  }
}

/** A value was refused before anything was sent: a bad username, a push list of the wrong kind, ... */
export class ValidationError extends LanyingKbError {
  override name = 'ValidationError';
  /** What was wrong, e.g. `username`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** A local file could not be read, or changed while it was being read. */
export class LocalFileError extends LanyingKbError {
  override name = 'LocalFileError';
  readonly filepath: string;
  /** True when the file changed (or vanished) while it was being read: worth trying again after a new stat. */
  readonly changed: boolean;
  /** True when the failure passes by itself (out of file descriptors, EMFILE/ENFILE): worth trying again as it is. */
  readonly transient: boolean;
  constructor(filepath: string, message: string, options?: { cause?: unknown; changed?: boolean; transient?: boolean }) {
    super(`${filepath}: ${message}`, options);
    this.filepath = filepath;
    this.changed = options?.changed ?? false;
    this.transient = options?.transient ?? false;
  }
}

/** A URL could not be fetched: an HTTP error status, a timeout, a redirect loop, a body over the size cap, ... */
export class FetchError extends LanyingKbError {
  override name = 'FetchError';
  readonly url: string;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** Whether trying again later may work (timeouts, 5xx, connection failures). */
  readonly transient: boolean;
  constructor(url: string, message: string, options?: { status?: number; transient?: boolean; cause?: unknown }) {
    super(`${url}: ${message}`, options);
    this.url = url;
    this.status = options?.status;
    this.transient = options?.transient ?? false;
  }
}
