import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { RuneClient, type CaptureTimings, type RecallTimings } from '@rune/client';
import { startLocalStack } from '../../apps/cli/src/stack/local-stack.js';
import { randomUnitVectors } from '../engine/data.js';
import { createBenchMember } from './bench-member.js';
import { diskUsage, type DiskUsage } from './disk-usage.js';
import { loadRecords } from './load-records.js';
import { noisyQueries } from './queries.js';
import { benchRecord } from './records.js';
import { quantileBetween, scrapeHistogram, type HistogramQuantile } from './vault-metrics.js';

export const DIM = 384;
export const K = 10;
export const WARMUP_RECALLS = 5;
/** Norm of the noise added to a stored vector to make its query (cosine ≈ 0.89 to the source). */
export const NOISE_NORM = 0.5;
const DECRYPT_HISTOGRAM = 'vault_decryption_duration_seconds';
/**
 * The index logs every capture's upload ciphertext (639,000 B at D=384) beside its sealed record:
 * ~645 KB per record on disk (decision 0005). A run needing more than the free space stops first.
 */
const ESTIMATED_INDEX_BYTES_PER_RECORD = 660_000;

export interface E2eOptions {
  readonly dataDir: string;
  readonly records: number;
  /** Sequential timed captures, the last `captureSample` of `records`. */
  readonly captureSample: number;
  readonly recalls: number;
  readonly workers: number;
  readonly threads?: number;
  readonly log: (msg: string) => void;
}

export interface E2eResult {
  readonly loadSeconds: number;
  readonly captures: readonly CaptureTimings[];
  readonly recalls: readonly RecallTimings[];
  readonly top1: number;
  readonly inTopK: number;
  /** p95 of the Vault's decryption histogram over the timed recalls. */
  readonly vaultDecryptP95: HistogramQuantile;
  readonly indexDisk: DiskUsage;
  /** The Vault's data dir: keys, members, audit log and the record ledger. */
  readonly vaultDisk: DiskUsage;
  /** The index's own count, canaries included. */
  readonly storedRecords: number | null;
}

/** Fills a fresh local stack in `dataDir`, then times captures and recalls against it. */
export async function runE2e(options: E2eOptions): Promise<E2eResult> {
  const { records, captureSample, log } = options;
  await checkFreeSpace(options.dataDir, records);
  const stack = await startLocalStack({
    dataDir: options.dataDir,
    // Random D=384 vectors, not text: the index must have their dimension.
    dim: DIM,
    vaultPort: 0,
    indexPort: 0,
    plainHttp: true,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  let client: RuneClient | undefined;
  try {
    const config = await createBenchMember(stack.adminConfig);
    const vectors = randomUnitVectors(records, DIM, 'bench-e2e');
    const loadCount = records - captureSample;
    log(`generated vectors; loading ${loadCount} records with ${options.workers} concurrent member clients`);

    const loadStarted = performance.now();
    let lastStep = 0;
    let lastDone = 0;
    let lastMs = loadStarted;
    const recordIds = await loadRecords({
      config,
      vectors,
      count: loadCount,
      dim: DIM,
      workers: options.workers,
      onLoaded: (done, total) => {
        const step = Math.floor((done * 20) / total);
        if (step <= lastStep) return;
        const nowMs = performance.now();
        const perS = (done - lastDone) / ((nowMs - lastMs) / 1000);
        [lastStep, lastDone, lastMs] = [step, done, nowMs];
        log(`loaded ${done}/${total} (${step * 5} %), ${perS.toFixed(1)} captures/s over the last 5 %`);
      },
    });
    const loadSeconds = (performance.now() - loadStarted) / 1000;

    log(`${captureSample} sequential timed captures`);
    const member = await RuneClient.connect(config);
    client = member;
    const captures: CaptureTimings[] = [];
    for (let i = loadCount; i < records; i++) {
      const outcome = await member.captureVector(vectors.subarray(i * DIM, (i + 1) * DIM), benchRecord(i));
      recordIds.push(outcome.recordId);
      captures.push(outcome.timings);
    }
    await stack.vault.canariesIdle();
    // local-stack.ts keeps the index under DATA/index and the Vault under DATA/vault.
    const indexDisk = await diskUsage(join(options.dataDir, 'index'));
    const vaultDisk = await diskUsage(join(options.dataDir, 'vault'));
    const status = (await getJson(`${stack.index.url}/status`)) as { counts?: { records?: unknown } };
    const storedRecords = status.counts?.records;

    const queries = noisyQueries({
      stored: vectors,
      storedCount: records,
      count: WARMUP_RECALLS + options.recalls,
      dim: DIM,
      noiseNorm: NOISE_NORM,
      seed: 'bench-e2e-queries',
    });
    const recall = async (j: number) => {
      const outcome = await member.recallVector(queries.vectors.subarray(j * DIM, (j + 1) * DIM), K);
      const want = recordIds[queries.sources[j] ?? -1];
      return {
        timings: outcome.timings,
        isTop1: outcome.hits[0]?.recordId === want,
        isInTopK: outcome.hits.some((h) => h.recordId === want),
      };
    };
    log(`${WARMUP_RECALLS} warm-up recalls, then ${options.recalls} timed recalls`);
    for (let j = 0; j < WARMUP_RECALLS; j++) await recall(j);
    const metricsUrl = `${stack.vault.url}/metrics`;
    const before = await scrapeHistogram(metricsUrl, DECRYPT_HISTOGRAM);
    const timed: RecallTimings[] = [];
    let top1 = 0;
    let inTopK = 0;
    for (let j = WARMUP_RECALLS; j < WARMUP_RECALLS + options.recalls; j++) {
      const r = await recall(j);
      timed.push(r.timings);
      if (r.isTop1) top1++;
      if (r.isInTopK) inTopK++;
    }
    const after = await scrapeHistogram(metricsUrl, DECRYPT_HISTOGRAM);
    return {
      loadSeconds,
      captures,
      recalls: timed,
      top1,
      inTopK,
      vaultDecryptP95: quantileBetween(before, after, 0.95),
      indexDisk,
      vaultDisk,
      storedRecords: typeof storedRecords === 'number' ? storedRecords : null,
    };
  } finally {
    client?.close();
    await stack.close();
  }
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

async function checkFreeSpace(dir: string, records: number): Promise<void> {
  const fs = await statfs(dir);
  const freeBytes = fs.bavail * fs.bsize;
  const neededBytes = records * ESTIMATED_INDEX_BYTES_PER_RECORD;
  if (freeBytes < neededBytes * 1.1) {
    throw new Error(
      `${records} records need about ${(neededBytes / 1e9).toFixed(1)} GB under ${dir}; ` +
        `${(freeBytes / 1e9).toFixed(1)} GB is free (set TMPDIR elsewhere, or use --records)`,
    );
  }
}
