import { spawnSync } from 'node:child_process';

const isRoot = process.getuid?.() === 0;
const DAC = 'dac_override,dac_read_search';

/**
 * Root reads every file whatever its mode, so a test of an unreadable file needs a process without that power.
 * As root, the command runs through `setpriv` without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: it obeys mode bits
 * like any user, while still reaching the repository it runs from (which may sit in a folder only root can enter,
 * so running as another user is not enough). Not root: the command runs as it is.
 */
const SETPRIV_PREFIX = ['setpriv', `--inh-caps=-${DAC.replace(',', ',-')}`, `--bounding-set=-${DAC.replace(',', ',-')}`, '--'];

const canDropCaps = isRoot && spawnSync(SETPRIV_PREFIX[0] as string, [...SETPRIV_PREFIX.slice(1), 'true']).status === 0;

/** True when permission tests can run here: not root, or root with `setpriv` able to drop the DAC capabilities. */
export const canTestPermissions = !isRoot || canDropCaps;

/** `[command, args]` that runs `argv` subject to file permissions (see above). */
export function withoutFileOverride(argv: readonly string[]): [string, string[]] {
  const full = isRoot ? [...SETPRIV_PREFIX, ...argv] : [...argv];
  return [full[0] as string, full.slice(1)];
}
