import { describe, expect, it } from 'vitest';
import { COMMANDS_IN_FLIGHT, commandsInFlight } from '../../src/kb/commands.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('commandsInFlight', () => {
  it('keeps COMMANDS_IN_FLIGHT tasks running at once and runs them all', async () => {
    let running = 0;
    let most = 0;
    let done = 0;
    const tasks = Array.from({ length: 30 }, () => async () => {
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
      done++;
    });
    await commandsInFlight(tasks, undefined);
    expect(done).toBe(30);
    expect(most).toBe(COMMANDS_IN_FLIGHT);
  });

  it('stops at the first failure: nothing more starts, those in flight finish, the failure is thrown', async () => {
    let started = 0;
    let running = 0;
    let startedAtFailure = -1;
    const tasks = Array.from({ length: 30 }, (_, i) => async () => {
      started++;
      running++;
      await tick();
      running--;
      if (i === 2) {
        startedAtFailure = started;
        throw new Error('no commands');
      }
    });
    await expect(commandsInFlight(tasks, undefined)).rejects.toThrow('no commands');
    expect(running).toBe(0);
    expect(started).toBe(startedAtFailure);
    expect(started).toBeLessThan(30);
  });

  it('an aborted signal stops what has not started', async () => {
    const abort = new AbortController();
    abort.abort(new Error('stopped'));
    let started = 0;
    await expect(commandsInFlight([async () => void started++], abort.signal)).rejects.toThrow('stopped');
    expect(started).toBe(0);
  });
});
