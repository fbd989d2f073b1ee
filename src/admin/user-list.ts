import { usernameProblem } from '../protocol/username.js';
import { ValidationError } from '../errors.js';

/** One user to register. */
export interface UserCredentials {
  username: string;
  password: string;
}

/**
 * Parses a list of users to register: a JSON array of `{ "username", "password" }`, or CSV with a header line naming
 * the `username` and `password` columns (other columns are ignored; fields may be quoted, `""` is a quote).
 * JSON is recognised by a `.json` name or a text starting with `[`. Every username is checked against the API's
 * rules, passwords must not be empty, and a username may appear once: the first problem is a `ValidationError`
 * naming the file and the line (CSV) or the index (JSON).
 */
export function parseUserList(text: string, filename: string): UserCredentials[] {
  const body = text.replace(/^\uFEFF/, '');
  const isJson = /\.json$/i.test(filename) || body.trimStart().startsWith('[');
  const entries = isJson ? fromJson(body, filename) : fromCsv(body, filename);
  const seen = new Map<string, string>();
  for (const { user, where } of entries) {
    const problem = usernameProblem(user.username);
    if (problem) throw new ValidationError(where, `username "${user.username}" ${problem}`);
    if (!user.password) throw new ValidationError(where, `the password of "${user.username}" is empty`);
    const earlier = seen.get(user.username);
    if (earlier) throw new ValidationError(where, `username "${user.username}" appears twice (also ${earlier})`);
    seen.set(user.username, where);
  }
  if (entries.length === 0) throw new ValidationError(filename, 'lists no users');
  return entries.map((e) => e.user);
}

interface Entry {
  user: UserCredentials;
  /** `users.csv line 3` or `users.json[2]`. */
  where: string;
}

function fromJson(text: string, filename: string): Entry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(filename, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!Array.isArray(parsed)) throw new ValidationError(filename, 'must be a JSON array of {"username", "password"} objects');
  return parsed.map((item: unknown, i) => {
    const where = `${filename}[${i}]`;
    const o = item as { username?: unknown; password?: unknown } | null;
    if (o === null || typeof o !== 'object' || typeof o.username !== 'string' || typeof o.password !== 'string') {
      throw new ValidationError(where, 'must be an object with string "username" and "password"');
    }
    return { user: { username: o.username, password: o.password }, where };
  });
}

function fromCsv(text: string, filename: string): Entry[] {
  const rows = parseCsv(text).filter((r) => !(r.fields.length === 1 && r.fields[0]?.trim() === ''));
  const header = rows.shift();
  if (!header) throw new ValidationError(filename, 'is empty (expected a header line "username,password")');
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const u = names.indexOf('username');
  const p = names.indexOf('password');
  if (u < 0 || p < 0) throw new ValidationError(`${filename} line ${header.line}`, 'the header must name the columns "username" and "password"');
  return rows.map((row) => {
    const where = `${filename} line ${row.line}`;
    if (row.fields.length <= Math.max(u, p)) throw new ValidationError(where, `has ${row.fields.length} field(s), expected at least ${Math.max(u, p) + 1}`);
    return { user: { username: (row.fields[u] as string).trim(), password: row.fields[p] as string }, where };
  });
}

/** RFC 4180 CSV: comma-separated, `"quoted, fields"` with `""` for a quote, LF or CRLF line ends. */
function parseCsv(text: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      rows.push({ line: rowLine, fields });
      fields = [];
      field = '';
      line++;
      rowLine = line;
    } else field += ch;
  }
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    rows.push({ line: rowLine, fields });
  }
  return rows;
}
