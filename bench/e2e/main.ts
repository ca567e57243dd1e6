/**
 * End-to-end benchmark (`npm run bench:e2e -- --json out.json [--full]`): a local stack (Vault and
 * index in this process, plain HTTP on 127.0.0.1, a temporary data dir), filled with random D=384
 * unit vectors through real member captures, then timed captures and recalls measured client-side.
 * No embedder: recall queries are noisy copies of stored vectors, so the right top hit is known.
 * Never part of the tests; a missed target is reported, never an exit code.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, percentile } from '../engine/stats.js';
import { DIM, K, NOISE_NORM, WARMUP_RECALLS, runE2e, type E2eResult } from './run-e2e.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    full: { type: 'boolean', default: false },
    records: { type: 'string' },
    recalls: { type: 'string', default: '100' },
    'capture-sample': { type: 'string', default: '200' },
    workers: { type: 'string', default: '4' },
    threads: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const records = Number(values.records ?? (values.full ? '100000' : '10000'));
const recalls = Number(values.recalls);
const captureSample = Number(values['capture-sample']);
const workers = Number(values.workers);
const threads = values.threads === undefined ? undefined : Number(values.threads);
if (!Number.isInteger(captureSample) || captureSample < 1 || captureSample > 10_000)
  throw new Error('--capture-sample must be in [1, 10000]');
if (!Number.isInteger(records) || records <= captureSample || records > 500_000)
  throw new Error(`--records must be in [${captureSample + 1}, 500000]`);
if (!Number.isInteger(recalls) || recalls < 1 || recalls > 10_000)
  throw new Error('--recalls must be in [1, 10000]');
if (!Number.isInteger(workers) || workers < 1 || workers > 32)
  throw new Error('--workers must be in [1, 32]');
if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 64))
  throw new Error('--threads must be in [1, 64]');

const started = performance.now();
const log = (msg: string): void => {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
};

const dataDir = await mkdtemp(join(tmpdir(), 'rune-bench-e2e-'));
log(
  `e2e benchmark: ${records} records (D=${DIM}), ${captureSample} timed captures, ` +
    `${recalls} recalls k=${K}, ${workers} loader processes, data dir ${dataDir}`,
);
let result: E2eResult;
try {
  result = await runE2e({
    dataDir,
    records,
    captureSample,
    recalls,
    workers,
    ...(threads === undefined ? {} : { threads }),
    log,
  });
} finally {
  if (values.keep) log(`kept ${dataDir}`);
  else await rm(dataDir, { recursive: true, force: true });
}

const captureMs = result.captures.map((t) => t.totalMs);
const recallMs = result.recalls.map((t) => t.totalMs);
const openMs = result.recalls.map((t) => t.openMs);
const report = {
  capture_ms_p50: median(captureMs),
  capture_ms_p95: percentile(captureMs, 95),
  recall_ms_p50: median(recallMs),
  recall_ms_p95: percentile(recallMs, 95),
  // The Vault's own timer (bind + decrypt + rank, ms resolution) from its /metrics histogram: the
  // p95 lies in the bucket ending here, so this is an upper bound at bucket resolution.
  vault_decrypt_ms_p95: result.vaultDecryptP95.upperBoundMs,
  index_bytes_per_record: result.indexDisk.bytes / records,
  recall_top1_accuracy: result.top1 / recalls,
  // Context and secondary figures.
  vault_decrypt_ms_p95_interpolated: result.vaultDecryptP95.interpolatedMs,
  // Client-observed POST /v1/results: decryption plus HTTP, JSON, base64, signatures and the audit append.
  vault_open_ms_p95_client: percentile(openMs, 95),
  recall_topk_contains_source: result.inTopK / recalls,
  recall_ticket_ms_p50: median(result.recalls.map((t) => t.ticketMs)),
  recall_search_ms_p50: median(result.recalls.map((t) => t.searchMs)),
  recall_open_ms_p50: median(openMs),
  recall_fetch_ms_p50: median(result.recalls.map((t) => t.fetchMs)),
  recall_ms_max: Math.max(...recallMs),
  capture_permit_ms_p50: median(result.captures.map((t) => t.permitMs)),
  capture_encrypt_ms_p50: median(result.captures.map((t) => t.encryptMs)),
  capture_insert_ms_p50: median(result.captures.map((t) => t.insertMs)),
  load_captures_per_s: (records - captureSample) / result.loadSeconds,
  index_bytes_on_disk: result.indexDisk.bytes,
  index_allocated_bytes_on_disk: result.indexDisk.allocatedBytes,
  vault_bytes_on_disk: result.vaultDisk.bytes,
};

// The issue sets recall targets at 10k and 100k records; a run above 10k is held to the 100k one.
const isLarge = records > 10_000;
const recallLimitMs = isLarge ? 400 : 60;
const targets = {
  recall_ms_p95: {
    target: `≤ ${recallLimitMs} ms (${isLarge ? '100k' : '10k'} records)`,
    pass: report.recall_ms_p95 <= recallLimitMs,
  },
  vault_decrypt_ms_p95: {
    target: '≤ 100 ms (100k records)',
    pass: report.vault_decrypt_ms_p95 <= 100,
  },
};
const output = {
  ...report,
  targets,
  meta: {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    records,
    dim: DIM,
    k: K,
    recalls,
    warmup_recalls: WARMUP_RECALLS,
    capture_sample: captureSample,
    loader_processes: workers,
    index_threads: threads ?? availableParallelism(),
    query_noise_norm: NOISE_NORM,
    vault_decrypt_observations: result.vaultDecryptP95.count,
    index_records_stored: result.storedRecords,
    index_files: result.indexDisk.files,
    load_seconds: result.loadSeconds,
    wall_seconds: (performance.now() - started) / 1000,
  },
};

const fmt = (v: number): string =>
  Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
const verdict = (t: { target: string; pass: boolean }): string =>
  `${t.target.padEnd(28)} ${t.pass ? 'met' : 'MISSED'}`;
const rows: [string, number, string][] = [
  ['capture_ms_p50', report.capture_ms_p50, ''],
  ['capture_ms_p95', report.capture_ms_p95, ''],
  ['recall_ms_p50', report.recall_ms_p50, ''],
  ['recall_ms_p95', report.recall_ms_p95, verdict(targets.recall_ms_p95)],
  [
    'vault_decrypt_ms_p95 (histogram bucket)',
    report.vault_decrypt_ms_p95,
    verdict(targets.vault_decrypt_ms_p95),
  ],
  ['  interpolated within the bucket', report.vault_decrypt_ms_p95_interpolated, ''],
  ['vault_open_ms_p95_client (upper bound)', report.vault_open_ms_p95_client, ''],
  ['index_bytes_per_record', report.index_bytes_per_record, ''],
  ['recall_top1_accuracy', report.recall_top1_accuracy, 'sanity check: 1.00 expected'],
];
process.stdout.write(`\n${'figure'.padEnd(42)}${'measured'.padStart(12)}    target\n`);
for (const [name, v, target] of rows) {
  process.stdout.write(`${name.padEnd(42)}${fmt(v).padStart(12)}    ${target}\n`);
}
process.stdout.write(
  `\nrecall p50: ticket ${fmt(report.recall_ticket_ms_p50)} ms, search ${fmt(report.recall_search_ms_p50)} ms, ` +
    `open ${fmt(report.recall_open_ms_p50)} ms, fetch ${fmt(report.recall_fetch_ms_p50)} ms; ` +
    `capture p50: permit ${fmt(report.capture_permit_ms_p50)} ms, encrypt ${fmt(report.capture_encrypt_ms_p50)} ms, ` +
    `insert ${fmt(report.capture_insert_ms_p50)} ms; load ${fmt(report.load_captures_per_s)} captures/s; ` +
    `wall ${output.meta.wall_seconds.toFixed(0)} s\n`,
);
if (values.json !== undefined) {
  writeFileSync(values.json, `${JSON.stringify(output, null, 2)}\n`);
  log(`wrote ${values.json}`);
}
