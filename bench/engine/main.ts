/**
 * Engine benchmark (`npm run bench:engine -- --json out.json`): every figure of the engine issue,
 * measured in one run on this machine, with the baselines (node-seal CKKS, float32 brute force) in the
 * same run. Never part of the tests.
 */
import { availableParallelism, cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  blockScoreWords,
  createEngine,
  generateKeyPair,
  ScoreDecryptor,
  systemRandom,
  type BlockScores,
  type Engine,
} from '../../packages/crypto/src/index.js';
import { createJsKernels } from '../../packages/crypto/src/kernels/js-kernels.js';
import { ScoringPool } from '../../packages/crypto/src/wasm/scoring-pool.js';
import { createWasmKernels } from '../../packages/crypto/src/wasm/wasm-kernels.js';
import { buildEncryptedDb } from './build-db.js';
import { randomUnitVectors } from './data.js';
import { measureAccuracy } from './measure-accuracy.js';
import { measureEncryptedQuery } from './measure-encrypted-query.js';
import { measureInsert } from './measure-insert.js';
import { measureInterleavedPairs, measureParallel } from './measure-scoring.js';
import { measureVault } from './measure-vault.js';
import { measureSealColumnPacking } from './seal-baseline.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    count: { type: 'string', default: '100096' },
    dim: { type: 'string', default: '384' },
    queries: { type: 'string', default: '100' },
    pairs: { type: 'string', default: '25' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const count = quick ? 4096 : Number(values.count);
const dim = Number(values.dim);
const qCount = quick ? 10 : Number(values.queries);
const pairs = quick ? 5 : Number(values.pairs);
if (!Number.isInteger(count) || count < 128 || count > 400_000)
  throw new Error('--count must be in [128, 400000]');
if (!Number.isInteger(dim) || dim % 32 !== 0 || dim > 2048)
  throw new Error('--dim must be a multiple of 32 up to 2048');

const started = performance.now();
const log = (msg: string): void => {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
};

const kernels = createWasmKernels();
const engine: Engine = { kernels, random: systemRandom };
log(
  `engine benchmark: ${count} random unit vectors, D=${dim}, ${qCount} queries, ${pairs} interleaved pairs`,
);

const vectors = randomUnitVectors(count, dim, 'bench-db');
const queries = randomUnitVectors(Math.max(qCount, 30), dim, 'bench-queries');
log('generated vectors');

const keys = generateKeyPair(engine, 1);
const blocks = await buildEncryptedDb({
  engine,
  publicKey: keys.publicKey,
  vectors,
  count,
  dim,
  processes: availableParallelism(),
  onProgress: (done, total) => {
    if (done % 100 === 0 || done === total) log(`built ${done}/${total} blocks by real per-vector inserts`);
  },
});
const outs = blocks.map(() => kernels.allocU32(blockScoreWords(1)));

const plainDb = kernels.allocF32(count * dim);
plainDb.set(vectors);
const plainOut = kernels.allocF32(count);
const plainQuery = kernels.allocF32(dim);

log('interleaved pairs: encrypted scoring vs float32 brute force, one thread');
const pairResult = measureInterleavedPairs({
  engine,
  blocks,
  outs,
  plainDb,
  plainOut,
  plainQuery,
  count,
  dim,
  queries,
  qCount,
  pairs,
});

log('two cores: shared-memory worker pool');
const pool = ScoringPool.create(kernels, { threads: availableParallelism() });
const parallelMs = await measureParallel({
  engine,
  pool,
  blocks,
  outs,
  dim,
  queries,
  qCount,
  repeats: quick ? 5 : 30,
});
await pool.close();

log(`accuracy over ${qCount} queries × ${count} vectors`);
const decryptor = ScoreDecryptor.create(engine, keys.secretKey);
const accuracy = measureAccuracy({ engine, blocks, outs, decryptor, vectors, count, dim, queries, qCount });
decryptor.destroy();

log('Vault: decrypt + range check + top-10 (WASM, then the JS fallback)');
const results: BlockScores[] = blocks.map((b, i) => ({
  paramSetId: 1,
  blockId: b.blockId,
  data: outs[i] ?? new Uint32Array(0),
}));
const vault = measureVault(engine, keys.secretKey, results, count, 10);
const jsEngine: Engine = { kernels: createJsKernels(), random: systemRandom };
const jsBlocks = Math.min(results.length, 80);
const vaultJs = measureVault(
  jsEngine,
  keys.secretKey,
  results.slice(0, jsBlocks),
  Math.min(count, jsBlocks * 128),
  3,
);

log('inserts: client encryption + upload serialisation, index add');
const insert = measureInsert(engine, keys.publicKey, vectors, dim, quick ? 50 : 300);

log('encrypted-query mode (three primes)');
const encq = measureEncryptedQuery({
  engine: createEngine({ kernels: 'wasm' }),
  vectors,
  realCount: Math.min(count, 1024),
  totalBlocks: blocks.length,
  dim,
  queries,
  qCount,
  repeats: quick ? 3 : 10,
});

log('node-seal 6.0.3 CKKS column packing, same vectors');
const seal = await measureSealColumnPacking({
  vectors,
  dim,
  count,
  queries,
  qCount,
  maxVectors: quick ? 2048 : 8192,
});

const scoringVps = count / (pairResult.encryptedMsMedian / 1000);
const report = {
  scoring_vps_per_core: Math.round(scoringVps),
  scoring_vps_2_cores: Math.round(count / (parallelMs / 1000)),
  encrypted_query_vps_per_core: Math.round(encq.vpsPerCore),
  seal_vps_per_core: Math.round(seal.vpsPerCore),
  plaintext_vps_per_core: Math.round(count / (pairResult.plaintextMsMedian / 1000)),
  max_abs_error: accuracy.maxAbsError,
  rms_error: accuracy.rmsError,
  top10_match: accuracy.top10Match,
  insert_client_ms_p50: insert.clientMsP50,
  insert_upload_bytes: insert.uploadBytes,
  bytes_per_vector: (blocks[0]?.data.byteLength ?? 0) / 128,
  vault_decrypt_us_per_score: vault.decryptUsPerScore,
  vault_bytes_per_score: vault.bytesPerScore,
  // Context and secondary figures.
  encrypted_vs_plaintext_ratio_median: pairResult.ratioMedian,
  speedup_vs_seal: scoringVps / seal.vpsPerCore,
  top10_mismatch_max_exact_gap: accuracy.top10MismatchMaxGap,
  scores_compared: accuracy.scoresCompared,
  insert_client_ms_p99: insert.clientMsP99,
  insert_encrypt_ms_p50: insert.encryptMsP50,
  insert_serialize_ms_p50: insert.serializeMsP50,
  insert_server_add_ms_p50: insert.serverAddMsP50,
  insert_upload_bytes_unpacked: insert.uploadBytesUnpacked,
  vault_parse_us_per_score: vault.parseUsPerScore,
  vault_decrypt_us_per_score_js: vaultJs.decryptUsPerScore,
  vault_bytes_per_score_unpacked: vault.bytesPerScoreUnpacked,
  encrypted_query_max_abs_error: encq.maxAbsError,
  encrypted_query_rms_error: encq.rmsError,
  encrypted_query_real_vectors: encq.realVectors,
  encrypted_query_upload_bytes: encq.queryUploadBytes,
  seal_vectors_scored: seal.vectorsScored,
  seal_max_abs_error: seal.maxAbsError,
  meta: {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    vectors: count,
    dim,
    queries: qCount,
    pairs: pairResult.pairs,
    wall_seconds: (performance.now() - started) / 1000,
    seal_notes: seal.notes,
  },
};

const targets: [string, number, string, (v: number) => boolean][] = [
  ['scoring_vps_per_core', report.scoring_vps_per_core, '≥ 1,500,000', (v) => v >= 1_500_000],
  ['scoring_vps_2_cores', report.scoring_vps_2_cores, '≥ 2,500,000', (v) => v >= 2_500_000],
  ['encrypted_query_vps_per_core', report.encrypted_query_vps_per_core, '≥ 500,000', (v) => v >= 500_000],
  ['speedup_vs_seal', report.speedup_vs_seal, '≥ 20×', (v) => v >= 20],
  [
    'encrypted_vs_plaintext_ratio_median',
    report.encrypted_vs_plaintext_ratio_median,
    '≤ 12× (goal 10×)',
    (v) => v <= 12,
  ],
  ['max_abs_error', report.max_abs_error, '≤ 5e-5', (v) => v <= 5e-5],
  ['rms_error', report.rms_error, '≤ 6e-6', (v) => v <= 6e-6],
  ['top10_match', report.top10_match, '≥ 0.99', (v) => v >= 0.99],
  ['top10_mismatch_max_exact_gap', report.top10_mismatch_max_exact_gap, '< 2e-5', (v) => v < 2e-5],
  ['insert_client_ms_p50', report.insert_client_ms_p50, '≤ 5', (v) => v <= 5],
  [
    'insert_upload_bytes',
    report.insert_upload_bytes,
    `≤ ${((dim / 32) * 65536 * 1.01).toFixed(0)}`,
    (v) => v <= (dim / 32) * 65536 * 1.01,
  ],
  ['bytes_per_vector', report.bytes_per_vector, '≤ 6,400', (v) => v <= 6400],
  ['vault_decrypt_us_per_score', report.vault_decrypt_us_per_score, '≤ 0.2', (v) => v <= 0.2],
  ['vault_decrypt_us_per_score_js', report.vault_decrypt_us_per_score_js, '≤ 1', (v) => v <= 1],
  ['vault_bytes_per_score', report.vault_bytes_per_score, '≤ 264', (v) => v <= 264],
  ['encrypted_query_max_abs_error', report.encrypted_query_max_abs_error, '(reported)', () => true],
];
const fmt = (v: number): string =>
  Math.abs(v) >= 1000
    ? Math.round(v).toLocaleString('en-US')
    : Math.abs(v) < 0.01 && v !== 0
      ? v.toExponential(2)
      : v.toFixed(3);
process.stdout.write('\nfigure                                  measured          target              \n');
for (const [name, v, target, ok] of targets) {
  process.stdout.write(
    `${name.padEnd(40)}${fmt(v).padStart(14)}    ${target.padEnd(18)} ${ok(v) ? 'met' : 'MISSED'}\n`,
  );
}
process.stdout.write(
  `\nsecondary: seal ${fmt(report.seal_vps_per_core)} vec/s, plaintext f32 ${fmt(report.plaintext_vps_per_core)} vec/s, ` +
    `encrypt ${fmt(report.insert_encrypt_ms_p50)} ms + serialise ${fmt(report.insert_serialize_ms_p50)} ms, index add ${fmt(report.insert_server_add_ms_p50)} ms, ` +
    `Vault parse ${fmt(report.vault_parse_us_per_score)} µs/score, wall ${report.meta.wall_seconds.toFixed(0)} s\n`,
);
if (values.json !== undefined) {
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${values.json}`);
}
