/**
 * Benchmark helper process: encrypts its share of the vectors one by one, exactly as members would
 * (fresh randomness per insert), adds each into its block with the monomial shift, and sends the
 * finished blocks back. Runs in a child process so two cores build the 100 k-vector database.
 */
import {
  addToBlock,
  createBlock,
  createEngine,
  encryptVector,
  parsePublicKey,
} from '../../packages/crypto/src/index.js';

interface BuildRequest {
  readonly publicKey: Uint8Array;
  readonly paramSetId: number;
  readonly dim: number;
  readonly firstBlock: number;
  /** Vectors of this share, row-major; vector 0 goes to slot 0 of `firstBlock`. */
  readonly vectors: Float32Array;
  readonly count: number;
}

const send = (msg: unknown): Promise<void> =>
  new Promise((resolve, reject) => {
    process.send?.(msg, undefined, undefined, (err: Error | null) => {
      if (err) reject(err);
      else resolve();
    });
  });

process.on('message', (req: BuildRequest) => {
  void build(req).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`build child failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
});

async function build(req: BuildRequest): Promise<void> {
  const engine = createEngine({ kernels: 'wasm' });
  const publicKey = parsePublicKey(req.publicKey, { paramSetId: req.paramSetId });
  const perBlock = 128;
  for (let start = 0; start < req.count; start += perBlock) {
    const blockId = req.firstBlock + start / perBlock;
    const block = createBlock(engine, req.paramSetId, req.dim, blockId);
    const end = Math.min(req.count, start + perBlock);
    for (let v = start; v < end; v++) {
      const ct = encryptVector(engine, publicKey, req.vectors.subarray(v * req.dim, (v + 1) * req.dim));
      addToBlock(engine, block, ct, v - start);
    }
    await send({ blockId, occupied: block.occupied, data: block.data.slice() });
    // The child's kernel memory only grows; reuse is not worth it for a one-shot build.
  }
}
