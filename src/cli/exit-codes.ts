import { AbortedError, AuthError, ApiError, ConnectionError, UnavailableError } from '../api/errors.js';
import { CommandTimeoutError } from '../kb/channel.js';
import { CommandNotRunError, CommandRefusedError } from '../kb/commands.js';
import { ChatbotRefusedError } from '../sync/confirm.js';
import { ConfigError, LanyingKbError, LocalFileError, LockError, SourceError, StateError, UsageError, ValidationError } from '../errors.js';

/** The process exit codes, documented in the README. */
export const EXIT = Object.freeze({
  /** Everything worked. */
  OK: 0,
  /** An unexpected error: a bug, or a failure lanying-kb does not recognise. */
  UNEXPECTED: 1,
  /** Bad configuration or usage: a config problem, a bad flag, a missing folder, a corrupt state file, a held lock. */
  CONFIG: 2,
  /** Some items failed (documents, users, ...), or the API refused the operation. */
  FAILED: 3,
  /** Authentication: the token is missing, wrong or expired. */
  AUTH: 4,
  /**
   * Temporary failure, try again later: the API was unreachable or asked for a long pause (`UnavailableError`).
   * 75 is EX_TEMPFAIL of sysexits.h, which mail systems and schedulers know as "retry later".
   */
  TEMPFAIL: 75,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The one place that maps an error to an exit code. */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof AuthError) return EXIT.AUTH;
  if (error instanceof UnavailableError) return EXIT.TEMPFAIL;
  if (
    error instanceof ConfigError ||
    error instanceof UsageError ||
    error instanceof ValidationError ||
    error instanceof StateError ||
    error instanceof LockError ||
    error instanceof SourceError
  ) {
    return EXIT.CONFIG;
  }
  if (error instanceof ApiError || error instanceof ConnectionError || error instanceof LocalFileError || error instanceof AbortedError || error instanceof ChatbotRefusedError) {
    return EXIT.FAILED;
  }
  // The chatbot did not run a command (check, prune): the knowledge base could not be read.
  if (error instanceof CommandTimeoutError || error instanceof CommandNotRunError || error instanceof CommandRefusedError) {
    return EXIT.FAILED;
  }
  return EXIT.UNEXPECTED;
}

/** Whether the error is one a user can cause (printed as one line) rather than a bug (printed with its stack). */
export function isUserFacing(error: unknown): error is LanyingKbError {
  return error instanceof LanyingKbError;
}
