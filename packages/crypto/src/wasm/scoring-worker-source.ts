/**
 * Source of a scoring worker, run with `new Worker(source, { eval: true })` so that it needs no
 * TypeScript loader and no file path (the same code runs from sources and from a build).
 * It instantiates the kernel module on the main instance's SHARED memory and executes "programs":
 * flat lists of kernel calls (8 u32 words each: op, then up to 7 arguments, pointers as byte offsets).
 * It reads and writes only kernel memory; it never sees a key (scoring uses public data only).
 */
export const SCORING_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const instance = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } });
const k = instance.exports;
parentPort.on('message', (job) => {
  try {
    const ops = job.program;
    for (let i = 0; i < ops.length; i += 8) {
      const op = ops[i];
      if (op === 1) k.fold_dot(ops[i + 1], ops[i + 2], ops[i + 3], ops[i + 4], ops[i + 5]);
      else if (op === 2) k.mac_mont(ops[i + 1], ops[i + 2], ops[i + 3], ops[i + 4], ops[i + 5]);
      else if (op === 3) k.mac_mont2(ops[i + 1], ops[i + 2], ops[i + 3], ops[i + 4], ops[i + 5], ops[i + 6], ops[i + 7]);
      else if (op === 4) k.fold_dot_pair(ops[i + 1], ops[i + 2], ops[i + 3], ops[i + 4], ops[i + 5], ops[i + 6], ops[i + 7]);
      else if (op === 5) k.mac_mont_pair(ops[i + 1], ops[i + 2], ops[i + 3], ops[i + 4], ops[i + 5], ops[i + 6], ops[i + 7]);
      else throw new Error('unknown op ' + op);
    }
    parentPort.postMessage({ id: job.id, ok: true });
  } catch (err) {
    parentPort.postMessage({ id: job.id, ok: false, message: String(err && err.message || err) });
  }
});
`;

/** Opcodes of a scoring program (must match the worker source above). */
export const ScoringOp = {
  FOLD_DOT: 1,
  MAC_MONT: 2,
  MAC_MONT2: 3,
  FOLD_DOT_PAIR: 4,
  MAC_MONT_PAIR: 5,
} as const;
export const SCORING_OP_WORDS = 8;
