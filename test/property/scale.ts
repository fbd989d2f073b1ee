/**
 * How big the lifecycle property runs, and with which seed. The version in `npm test` is bounded (under a minute on two
 * busy cores: CI runs the suite on three Node.js versions); `npm run test:property` runs the issue's full size (100
 * operations on a 200-document tree, three scenarios per mode, 10 kill -9 trials: a few minutes). Every knob is an
 * environment variable:
 *
 * - `LANYING_KB_PROPERTY=full`: the full size (else the quick one);
 * - `LANYING_KB_PROPERTY_SEED`, `LANYING_KB_PROPERTY_PATH`: replay a failure (fast-check prints both);
 * - `LANYING_KB_PROPERTY_DOCS`, `LANYING_KB_PROPERTY_OPS`, `LANYING_KB_PROPERTY_RUNS`, `LANYING_KB_PROPERTY_KILLS`:
 *   the tree's size, the operations per scenario, the scenarios per mode, the kill -9 trials;
 * - `LANYING_KB_PROPERTY_SHRINK=1`: shrink a failure (slow: every shrink step replays a whole scenario).
 */

import type fc from 'fast-check';

const env = process.env;

function int(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number, not "${raw}"`);
  return value;
}

const full = env.LANYING_KB_PROPERTY === 'full';

export const SCALE = {
  full,
  /** One-shot mode (`syncOnce` with `prune: 'all'`). */
  oneShot: { docs: int('LANYING_KB_PROPERTY_DOCS', full ? 200 : 50), ops: int('LANYING_KB_PROPERTY_OPS', full ? 100 : 30) },
  /** The daemon (`startDaemon`). */
  daemon: { docs: int('LANYING_KB_PROPERTY_DOCS', full ? 200 : 40), ops: int('LANYING_KB_PROPERTY_OPS', full ? 100 : 20) },
  /** kill -9 of the real CLI at a random point. */
  kill: { docs: full ? 60 : 20, trials: int('LANYING_KB_PROPERTY_KILLS', full ? 10 : 3) },
  /** Scenarios per mode (one-shot and daemon). */
  runs: int('LANYING_KB_PROPERTY_RUNS', full ? 3 : 2),
};

const seed = env.LANYING_KB_PROPERTY_SEED ? int('LANYING_KB_PROPERTY_SEED', 0) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;

/**
 * fast-check's parameters for one mode: the seed (printed before the run too, so that a run cut short by a timeout
 * can be replayed), the path of a failure to replay, and no shrinking unless asked for.
 */
export function propertyParameters(mode: string): fc.Parameters<unknown> {
  const path = env.LANYING_KB_PROPERTY_PATH;
  console.log(`lifecycle property (${mode}): seed ${seed}${path ? `, path ${path}` : ''}; replay with LANYING_KB_PROPERTY_SEED=${seed}${full ? ' LANYING_KB_PROPERTY=full' : ''}`);
  return {
    seed,
    ...(path ? { path } : {}),
    numRuns: SCALE.runs,
    endOnFailure: env.LANYING_KB_PROPERTY_SHRINK !== '1',
  };
}
