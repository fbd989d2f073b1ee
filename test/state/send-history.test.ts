import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { StateStore } from '../../src/state/store.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-05-01T12:34:56.000Z');

function open(dir: string, options?: { readonly?: boolean }): StateStore {
  const store = StateStore.open(dir, options);
  onTestFinished(() => store.close());
  return store;
}

describe('the send history (state migration 7)', () => {
  it('counts sends and failures per clock hour; the last 24 hours come oldest first, quiet hours as zeros', () => {
    const store = open(tmpDir());
    store.sendHistory.record('sent', NOW);
    store.sendHistory.record('sent', NOW - 30 * 60_000); // 12:04: the same hour
    store.sendHistory.record('failed', NOW - 2 * HOUR);
    store.sendHistory.record('sent', NOW - 23 * HOUR);
    store.sendHistory.record('sent', NOW - 24 * HOUR); // outside the window
    const hours = store.sendHistory.lastHours(24, NOW);
    expect(hours).toHaveLength(24);
    expect(hours[0]).toEqual({ hour: '2026-04-30T13:00:00.000Z', sent: 1, failed: 0 });
    expect(hours[21]).toEqual({ hour: '2026-05-01T10:00:00.000Z', sent: 0, failed: 1 });
    expect(hours[23]).toEqual({ hour: '2026-05-01T12:00:00.000Z', sent: 2, failed: 0 });
    expect(hours.reduce((n, h) => n + h.sent + h.failed, 0)).toBe(4);
  });

  it('keeps a month: older hours are dropped when a new hour starts', () => {
    const store = open(tmpDir());
    store.sendHistory.record('sent', NOW - 40 * 24 * HOUR);
    store.sendHistory.record('sent', NOW - 20 * 24 * HOUR);
    store.sendHistory.record('sent', NOW);
    expect(store.sendHistory.lastHours(50 * 24, NOW).filter((h) => h.sent > 0).map((h) => h.hour)).toEqual([
      new Date(Math.floor((NOW - 20 * 24 * HOUR) / HOUR) * HOUR).toISOString(),
      '2026-05-01T12:00:00.000Z',
    ]);
  });

  it('survives a reopen; a read-only store records nothing', () => {
    const dir = path.join(tmpDir(), 'state');
    const writer = StateStore.open(dir);
    writer.sendHistory.record('failed', NOW);
    writer.close();
    const reader = open(dir, { readonly: true });
    reader.sendHistory.record('sent', NOW);
    expect(reader.sendHistory.lastHours(1, NOW)).toEqual([{ hour: '2026-05-01T12:00:00.000Z', sent: 0, failed: 1 }]);
  });
});
