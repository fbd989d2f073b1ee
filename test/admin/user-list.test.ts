import { describe, expect, it } from 'vitest';
import { parseUserList } from '../../src/admin/user-list.js';
import { ValidationError } from '../../src/errors.js';

function problem(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseUserList', () => {
  it('reads CSV with a header in any column order, quoted fields, CRLF and blank lines', () => {
    const csv = '\uFEFFpassword,username,note\r\n"p,w ""1""",alice,x\r\n\r\npw2,bob,\n';
    expect(parseUserList(csv, 'users.csv')).toEqual([
      { username: 'alice', password: 'p,w "1"' },
      { username: 'bob', password: 'pw2' },
    ]);
  });

  it('reads a JSON array', () => {
    expect(parseUserList('[{"username":"carol","password":"c"}]', 'u.json')).toEqual([{ username: 'carol', password: 'c' }]);
  });

  it('names the file and line of a bad username, an empty password, a duplicate or a bad header', () => {
    expect(problem(() => parseUserList('username,password\nok_1,a\n12345,b\n', 'u.csv')).message).toBe('u.csv line 3: username "12345" must not be all digits');
    expect(problem(() => parseUserList('username,password\nann,\n', 'u.csv')).message).toMatch(/u\.csv line 2: the password of "ann" is empty/);
    expect(problem(() => parseUserList('[{"username":"a_b","password":"x"},{"username":"a_b","password":"y"}]', 'u.json')).message).toMatch(/u\.json\[1\].*appears twice/);
    expect(problem(() => parseUserList('name,pass\nann,x\n', 'u.csv')).message).toMatch(/header must name the columns "username" and "password"/);
    expect(problem(() => parseUserList('[{"username":"a"}]', 'u.json')).field).toBe('u.json[0]');
    expect(problem(() => parseUserList('{"username":"a"}', 'u.json')).message).toMatch(/JSON array/);
  });
});
