/**
 * `npm run demo`: Rune's encrypted search, end to end, on the embedded engine (no servers).
 * A member encrypts memories under the public key; the index adds them into blocks and scores a query
 * without any key; the Vault decrypts only the scores, refuses anything out of range, and returns the
 * top-k ids with scores rounded to 1e-3.
 */
import { parseArgs } from 'node:util';
import {
  addToBlock,
  createBlock,
  createEngine,
  createPreparedQuery,
  decryptTopK,
  encryptVector,
  generateKeyPair,
  preparePlainQuery,
  scoreBlocks,
  blockScoreWords,
  ScoreDecryptor,
  type Block,
  type BlockScores,
} from '../packages/crypto/src/index.js';
import { randomUnitVectors } from '../bench/engine/data.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    dim: { type: 'string', default: '384' },
    k: { type: 'string', default: '5' },
  },
});
const count = Number(values.count);
const dim = Number(values.dim);
const k = Number(values.k);
if (!Number.isInteger(count) || count < 1 || count > 200_000)
  throw new Error('--count must be an integer in [1, 200000]');

const engine = createEngine();
const log = (msg: string): void => {
  process.stdout.write(`${msg}\n`);
};
log(`Rune encrypted search demo: ${count} memories of dimension ${dim}, ${engine.kernels.kind} kernels`);

let t = performance.now();
const keys = generateKeyPair(engine, 1);
log(`Vault: generated the key pair in ${(performance.now() - t).toFixed(1)} ms`);

const vectors = randomUnitVectors(count, dim, 'demo');
const blocks: Block[] = [];
t = performance.now();
for (let v = 0; v < count; v++) {
  const ciphertext = encryptVector(engine, keys.publicKey, vectors.subarray(v * dim, (v + 1) * dim));
  const block = (blocks[v >> 7] ??= createBlock(engine, 1, dim, v >> 7));
  addToBlock(engine, block, ciphertext, v & 127);
}
log(
  `Members: encrypted and the index stored ${count} memories in ${((performance.now() - t) / 1000).toFixed(2)} s`,
);

const target = 42 % count;
const query = vectors.slice(target * dim, (target + 1) * dim);
const prepared = createPreparedQuery(engine, 1, dim);
t = performance.now();
preparePlainQuery(engine, prepared, query);
const outs = blocks.map(() => engine.kernels.allocU32(blockScoreWords(1)));
scoreBlocks(engine, blocks, prepared, outs);
const results: BlockScores[] = blocks.map((block, b) => ({
  paramSetId: 1,
  blockId: block.blockId,
  data: outs[b] ?? new Uint32Array(0),
}));
log(`Index: scored ${count} encrypted memories in ${(performance.now() - t).toFixed(1)} ms`);

t = performance.now();
const decryptor = ScoreDecryptor.create(engine, keys.secretKey);
const top = decryptTopK(decryptor, results, { k, isLive: (b, s) => b * 128 + s < count });
log(`Vault: decrypted ${count} scores and kept the top ${k} in ${(performance.now() - t).toFixed(1)} ms`);
for (const hit of top) log(`  memory #${hit.blockId * 128 + hit.slot}  score ${hit.score.toFixed(3)}`);
const first = top[0];
if (first === undefined || first.blockId * 128 + first.slot !== target) {
  process.exitCode = 1;
  log(`expected memory #${target} first`);
} else {
  log(`The query was memory #${target}; it came back first, found by encrypted search.`);
}
