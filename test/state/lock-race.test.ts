import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LOCK_FILE_NAME } from '../../src/state/lock.js';
import { tmpDir } from '../helpers/tmp-dir.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LOCK_MODULE = path.join(root, 'dist/state/lock.js');

/**
 * A starter: a real process that loads the lock module, waits for "go" on its standard input (so that every starter
 * of a race tries at the same moment), tries to take the lock and says `won` or `lost <message>`. A winner holds the
 * lock until its standard input ends; a loser exits 2, like the CLI on a `LockError`.
 */
const STARTER = `
const { acquireStateLock } = await import(process.argv[1]);
const dir = process.argv[2];
let input = '';
const go = () => {
  try {
    const lock = acquireStateLock(dir, 'sync');
    process.stdout.write('won\\n');
    process.stdin.on('end', () => { lock.release(); process.exit(0); });
  } catch (error) {
    process.stdout.write('lost ' + error.name + ': ' + error.message + '\\n');
    process.exit(2);
  }
};
if (process.argv[3] === 'now') go();
else {
  process.stdin.on('data', (d) => { input += d; if (input.includes('go')) { process.stdin.removeAllListeners('data'); process.stdin.resume(); go(); } });
  process.stdout.write('ready\\n');
}
`;

interface Starter {
  child: ChildProcess;
  /** Resolves once it waits for "go". */
  ready: Promise<void>;
  /** What it said about the lock (`won`, or `lost ...`). */
  said: Promise<string>;
  exit: Promise<number | null>;
}

function startStarter(dir: string, mode: 'now' | 'wait'): Starter {
  const child = spawn(process.execPath, ['--input-type=module', '-e', STARTER, LOCK_MODULE, dir, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const said = new Promise<string>((resolve) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n').slice(0, -1).filter((line) => line !== 'ready');
      if (out.startsWith('ready\n')) markReady();
      if (lines.length > 0) resolve(lines[0] as string);
    });
    child.on('close', () => {
      markReady();
      resolve(out);
    });
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, ready, said, exit };
}

/** Leaves a stale lock: a holder killed with SIGKILL while it held the state folder. */
async function leaveStaleLock(dir: string): Promise<number> {
  const holder = startStarter(dir, 'now');
  expect(await holder.said).toBe('won');
  holder.child.kill('SIGKILL');
  await holder.exit;
  return holder.child.pid as number;
}

describe('state lock: concurrent starters against a stale lock (real processes)', () => {
  it.runIf(existsSync(LOCK_MODULE))('lets exactly one starter in, every time; the others get a LockError', async () => {
    const RACES = 10;
    const STARTERS = 6;
    for (let race = 0; race < RACES; race++) {
      const dir = tmpDir('lkb-lock-race-');
      const deadPid = await leaveStaleLock(dir);
      expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).pid).toBe(deadPid);
      const starters = Array.from({ length: STARTERS }, () => startStarter(dir, 'wait'));
      // Every starter is loaded and waiting before any is told to go: they all try within a millisecond or so.
      await Promise.all(starters.map((s) => s.ready));
      for (const s of starters) s.child.stdin?.write('go\n');
      const said = await Promise.all(starters.map((s) => s.said));
      const winners = said.filter((line) => line === 'won');
      const losers = said.filter((line) => line.startsWith('lost LockError:'));
      expect({ race, winners: winners.length, losers: losers.length, said }).toMatchObject({ winners: 1, losers: STARTERS - 1 });
      // The losers exit 2 while the winner still holds the lock; then the winner lets go.
      const loserExits = await Promise.all(starters.filter((_, i) => said[i] !== 'won').map((s) => s.exit));
      expect(loserExits.every((code) => code === 2)).toBe(true);
      const winner = starters[said.indexOf('won')] as Starter;
      expect(JSON.parse(readFileSync(path.join(dir, LOCK_FILE_NAME), 'utf8')).pid).toBe(winner.child.pid);
      winner.child.stdin?.end();
      expect(await winner.exit).toBe(0);
      expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(false);
    }
  }, 120_000);
});
