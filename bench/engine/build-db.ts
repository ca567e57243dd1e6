import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createBlock,
  serializePublicKey,
  type Block,
  type Engine,
  type PublicKey,
} from '../../packages/crypto/src/index.js';

interface BlockMessage {
  readonly blockId: number;
  readonly occupied: Uint8Array;
  readonly data: Uint32Array;
}

/**
 * Build the encrypted database with real per-vector inserts, split over `processes` child processes
 * (one per core). Blocks land in the main engine's kernel memory, ready for zero-copy scoring.
 */
export async function buildEncryptedDb(options: {
  readonly engine: Engine;
  readonly publicKey: PublicKey;
  readonly vectors: Float32Array;
  readonly count: number;
  readonly dim: number;
  readonly processes: number;
  readonly onProgress?: (blocksDone: number, blocksTotal: number) => void;
}): Promise<Block[]> {
  const { engine, publicKey, vectors, count, dim } = options;
  const perBlock = 128;
  const totalBlocks = Math.ceil(count / perBlock);
  const blocks: Block[] = [];
  for (let b = 0; b < totalBlocks; b++) blocks.push(createBlock(engine, publicKey.paramSetId, dim, b));
  const keyBytes = serializePublicKey(publicKey);
  const child = fileURLToPath(new URL('./build-child.ts', import.meta.url));
  let done = 0;
  const shares = Math.min(options.processes, totalBlocks);
  await Promise.all(
    Array.from({ length: shares }, (_, s) => {
      const firstBlock = Math.floor((s * totalBlocks) / shares);
      const endBlock = Math.floor(((s + 1) * totalBlocks) / shares);
      const firstVector = firstBlock * perBlock;
      const endVector = Math.min(count, endBlock * perBlock);
      return new Promise<void>((resolve, reject) => {
        // The parent's execArgv carries tsx's loader, so the child can run TypeScript too.
        const proc = fork(child, [], { execArgv: process.execArgv, serialization: 'advanced' });
        proc.on('message', (msg: BlockMessage) => {
          const block = blocks[msg.blockId];
          if (block === undefined) {
            reject(new Error(`unexpected block ${msg.blockId}`));
            return;
          }
          block.data.set(msg.data);
          block.occupied.set(msg.occupied);
          options.onProgress?.(++done, totalBlocks);
        });
        proc.on('error', reject);
        proc.on('exit', (code) => {
          if (code === 0) resolve();
          else reject(new Error(`build process ${s} exited with code ${code}`));
        });
        proc.send({
          publicKey: keyBytes,
          paramSetId: publicKey.paramSetId,
          dim,
          firstBlock,
          vectors: vectors.slice(firstVector * dim, endVector * dim),
          count: endVector - firstVector,
        });
      });
    }),
  );
  return blocks;
}
