import { describe, expect, it } from 'vitest';
import { apiObjectForJson, isoTimes } from '../../src/cli/json-fields.js';

describe('JSON output: one naming style, one way to write times', () => {
  it('API objects get camelCase keys and ISO times; ext stays the user\'s own JSON', () => {
    expect(
      apiObjectForJson([{ user_id: 7, display_name: 'Ann', join_time: 1_777_000_000_000, created_at: 1_777_000_000, ext: { some_key: 1 }, nested: { group_id: 2 } }]),
    ).toEqual([{ userId: 7, displayName: 'Ann', joinTime: '2026-04-24T03:06:40.000Z', createdAt: '2026-04-24T03:06:40.000Z', ext: { some_key: 1 }, nested: { groupId: 2 } }]);
  });

  it('…At fields holding milliseconds become ISO 8601 at any depth; other numbers stay', () => {
    expect(isoTimes({ sentAt: 1_777_000_000_000, list: [{ ingestedAt: 1_777_000_000_000, attempts: 3 }], at: 5, startedAt: '2026-01-01T00:00:00.000Z', ingestedAtCount: 2, sentAtNull: null })).toEqual({
      sentAt: '2026-04-24T03:06:40.000Z',
      list: [{ ingestedAt: '2026-04-24T03:06:40.000Z', attempts: 3 }],
      at: 5,
      startedAt: '2026-01-01T00:00:00.000Z',
      ingestedAtCount: 2,
      sentAtNull: null,
    });
  });
});
