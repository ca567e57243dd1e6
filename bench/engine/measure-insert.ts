import {
  addToBlock,
  createBlock,
  encryptVector,
  serializeEncryptedVector,
  type Engine,
  type PublicKey,
} from '../../packages/crypto/src/index.js';
import { median, percentile } from './stats.js';

export interface InsertResult {
  /** Client CPU per capture: encryption plus serialisation for upload (26-bit packed), p50 ms. */
  readonly clientMsP50: number;
  readonly clientMsP99: number;
  readonly encryptMsP50: number;
  readonly serializeMsP50: number;
  /** Index-side add into a block with the monomial shift, p50 ms. */
  readonly serverAddMsP50: number;
  readonly uploadBytes: number;
  readonly uploadBytesUnpacked: number;
}

/** Sequential single inserts on the calling thread, after a warm-up. */
export function measureInsert(
  engine: Engine,
  publicKey: PublicKey,
  vectors: Float32Array,
  dim: number,
  samples: number,
): InsertResult {
  const encrypt: number[] = [];
  const serialize: number[] = [];
  const client: number[] = [];
  const add: number[] = [];
  let uploadBytes = 0;
  let uploadBytesUnpacked = 0;
  const block = createBlock(engine, publicKey.paramSetId, dim, 0);
  const warmup = 20;
  for (let i = 0; i < warmup + samples; i++) {
    const v = vectors.subarray((i % 1000) * dim, ((i % 1000) + 1) * dim);
    const t0 = performance.now();
    const ct = encryptVector(engine, publicKey, v);
    const t1 = performance.now();
    const wire = serializeEncryptedVector(ct);
    const t2 = performance.now();
    const slot = i % 128;
    // Reuse one block: only the add's cost matters here, not the block's contents.
    if (slot === 0) block.occupied.fill(0);
    const t3 = performance.now();
    addToBlock(engine, block, ct, slot);
    const t4 = performance.now();
    uploadBytes = wire.length;
    if (i === 0) uploadBytesUnpacked = serializeEncryptedVector(ct, { packed: false }).length;
    if (i >= warmup) {
      encrypt.push(t1 - t0);
      serialize.push(t2 - t1);
      client.push(t2 - t0);
      add.push(t4 - t3);
    }
  }
  return {
    clientMsP50: median(client),
    clientMsP99: percentile(client, 99),
    encryptMsP50: median(encrypt),
    serializeMsP50: median(serialize),
    serverAddMsP50: median(add),
    uploadBytes,
    uploadBytesUnpacked,
  };
}
