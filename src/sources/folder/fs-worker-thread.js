// @ts-check
/**
 * The worker thread of `fs-worker.ts`: answers batches of `lstat` and hashing with the functions of `fs-batch.js`
 * (the same ones the main thread runs). A plain JavaScript module for the reason given in `fs-batch.js`.
 *
 * Messages: `{ id, op: 'lstat' | 'hash', paths }` on the data port; the answer `{ id, op, ...StatBatch | HashBatch }`
 * goes back on it (its typed arrays transferred, not copied), and a `0` on the ping port wakes a parent that waits.
 */

import { workerData } from 'node:worker_threads';
import { hashBatch, lstatBatch } from './fs-batch.js';

/** @type {{ port: import('node:worker_threads').MessagePort, ping: import('node:worker_threads').MessagePort }} */
const { port, ping } = workerData;

port.on('message', (/** @type {{ id: number, op: 'lstat' | 'hash', paths: (string | Buffer)[] }} */ batch) => {
  if (batch.op === 'hash') {
    const result = hashBatch(batch.paths);
    port.postMessage({ id: batch.id, op: 'hash', ...result }, [/** @type {ArrayBuffer} */ (result.sizes.buffer)]);
  } else {
    const result = lstatBatch(batch.paths);
    port.postMessage({ id: batch.id, op: 'lstat', ...result }, [/** @type {ArrayBuffer} */ (result.stats.buffer)]);
  }
  ping.postMessage(0);
});
