import { getParamSet } from './params.js';
import { assertScoresInRange, roundScore, TopK } from './ranking.js';
import type { ScoreDecryptor } from './score-decryptor.js';
import type { BlockScores } from './types.js';

export interface ScoredSlot {
  readonly blockId: number;
  readonly slot: number;
  /** Rounded to 1e-3. */
  readonly score: number;
}

export interface DecryptTopKOptions {
  readonly k: number;
  /** Which slots hold live records (the Vault's own allocation map); empty or tombstoned slots are skipped. */
  readonly isLive: (blockId: number, slot: number) => boolean;
}

/**
 * The Vault's whole score path: decrypt every block, refuse the result if ANY score (live or not) is
 * outside [-1.01, 1.01], then return only the top-k live slots with scores rounded to 1e-3.
 * Exact ties are broken by (blockId, slot) ascending, so the output is deterministic.
 */
export function decryptTopK(
  decryptor: ScoreDecryptor,
  blocks: readonly BlockScores[],
  options: DecryptTopKOptions,
): ScoredSlot[] {
  const params = getParamSet(decryptor.paramSetId);
  const perBlock = params.itemsPerBlock;
  const scores = new Float64Array(perBlock);
  const top = new TopK(options.k);
  for (const block of blocks) {
    decryptor.decryptBlock(block, scores);
    assertScoresInRange(scores, perBlock, `block ${block.blockId}`);
    for (let slot = 0; slot < perBlock; slot++) {
      if (options.isLive(block.blockId, slot)) top.offer(block.blockId * perBlock + slot, scores[slot] ?? 0);
    }
  }
  return top.result().map(({ key, score }) => ({
    blockId: Math.floor(key / perBlock),
    slot: key % perBlock,
    score: roundScore(score),
  }));
}
