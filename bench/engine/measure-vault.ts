import {
  decryptTopK,
  parseBlockScores,
  serializeBlockScores,
  ScoreDecryptor,
  type BlockScores,
  type Engine,
  type SecretKey,
} from '../../packages/crypto/src/index.js';
import { median } from './stats.js';

export interface VaultResult {
  /** Decrypt every score, check ranges, keep the top 10: µs per score. */
  readonly decryptUsPerScore: number;
  /** Parsing the wire form (26-bit packed) first: µs per score. */
  readonly parseUsPerScore: number;
  readonly bytesPerScore: number;
  readonly bytesPerScoreUnpacked: number;
}

export function measureVault(
  engine: Engine,
  secretKey: SecretKey,
  results: readonly BlockScores[],
  count: number,
  repeats: number,
): VaultResult {
  const decryptor = ScoreDecryptor.create(engine, secretKey);
  const isLive = (blockId: number, slot: number): boolean => blockId * 128 + slot < count;
  const decryptTimes: number[] = [];
  for (let r = -1; r < repeats; r++) {
    const start = performance.now();
    decryptTopK(decryptor, results, { k: 10, isLive });
    if (r >= 0) decryptTimes.push(performance.now() - start);
  }
  const wire = results.map((r) => serializeBlockScores(r));
  const parseTimes: number[] = [];
  for (let r = 0; r < Math.max(1, Math.floor(repeats / 2)); r++) {
    const start = performance.now();
    for (const bytes of wire) parseBlockScores(bytes);
    parseTimes.push(performance.now() - start);
  }
  const first = results[0];
  const bytesUnpacked = first === undefined ? 0 : serializeBlockScores(first, { packed: false }).length;
  decryptor.destroy();
  return {
    decryptUsPerScore: (median(decryptTimes) * 1000) / count,
    parseUsPerScore: (median(parseTimes) * 1000) / count,
    bytesPerScore: (wire[0]?.length ?? 0) / 128,
    bytesPerScoreUnpacked: bytesUnpacked / 128,
  };
}
