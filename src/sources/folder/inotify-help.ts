/**
 * What to tell an operator when the kernel refuses a file watch: the cause in one line and the fix.
 */

/** Error codes that mean "the kernel's watch (or file descriptor) limit is reached": fall back to polling. */
export const WATCH_LIMIT_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

/** The inotify watch count `watchLimitHelp` recommends. */
export const RECOMMENDED_MAX_USER_WATCHES = 524288;

/** Whether a watcher error means a kernel limit (inotify watches, open files) was reached. */
export function isWatchLimitError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && WATCH_LIMIT_CODES.has(code);
}

/** The cause and the fix of a watch-limit error, for the log. */
export function watchLimitHelp(error: unknown): { code: string; reason: string; fix: string } {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown';
  if (code === 'ENOSPC') {
    return {
      code,
      reason: 'the inotify watch limit (fs.inotify.max_user_watches) is reached',
      fix:
        `raise it: sudo sysctl fs.inotify.max_user_watches=${RECOMMENDED_MAX_USER_WATCHES}, and keep it across reboots with ` +
        `echo fs.inotify.max_user_watches=${RECOMMENDED_MAX_USER_WATCHES} | sudo tee /etc/sysctl.d/90-lanying-kb.conf; then restart lanying-kb`,
    };
  }
  return {
    code,
    reason: 'too many open files (the open file limit or fs.inotify.max_user_instances is reached)',
    fix:
      'raise the limit: LimitNOFILE=65536 in the systemd unit (or ulimit -n), and sudo sysctl fs.inotify.max_user_instances=1024 ' +
      '(persisted in /etc/sysctl.d/90-lanying-kb.conf); then restart lanying-kb',
  };
}
