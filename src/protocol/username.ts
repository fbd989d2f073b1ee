/**
 * The username rule of `/user/register/v2` and `/user/register/batch`, as the swagger file states it
 * (`maxim-top/im.gitbook` `zh-hans/reference/server-api/swagger/api-docs.json:15579`, `UserRegisterRequest.username`):
 *
 *     ^(?!mta|maxim)[a-zA-Z0-9_一-龥]*[a-zA-Z_一-龥]+[a-zA-Z0-9_一-龥]*
 *
 * - letters, digits, underscore and the CJK ideographs U+4E00..U+9FA5 (`一-龥`);
 * - at least one character that is not a digit (so not all digits, and not empty);
 * - not starting with `mta` or `maxim`, case-sensitively as written (`Maxim_x` passes).
 * The server validates the whole value (a Java `@Pattern` matches the entire string).
 *
 * The quick-start's text (`zh-hans/quick-start/server-api-quick-start.md:87`) says "letters, digits and underscore
 * only"; the two documents disagree about CJK letters, and this follows the swagger's machine-readable rule. No
 * length limit is documented.
 */
const USERNAME_RE = /^(?!mta|maxim)[a-zA-Z0-9_\u4e00-\u9fa5]*[a-zA-Z_\u4e00-\u9fa5]+[a-zA-Z0-9_\u4e00-\u9fa5]*$/;

/** Why the service would refuse this username, or undefined when the rule allows it. */
export function usernameProblem(username: string): string | undefined {
  if (username.length === 0) return 'must not be empty';
  if (USERNAME_RE.test(username)) return undefined;
  if (/^(mta|maxim)/.test(username)) return 'must not start with "mta" or "maxim"';
  if (/^[0-9]+$/.test(username)) return 'must not be all digits';
  return 'may contain only letters, digits, underscore and CJK ideographs (U+4E00..U+9FA5)';
}
