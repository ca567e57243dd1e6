/**
 * Benchmark loader process: one member client capturing its share of the vectors one after another,
 * as a member's machine would, reporting each record id. Several run at once to fill the index
 * faster; none of their timings is reported.
 */
import { RuneClient, type MemberConfig } from '@rune/client';
import { benchRecord } from './records.js';

export interface LoadRequest {
  readonly config: MemberConfig;
  /** Index of this share's first vector in the whole data set. */
  readonly first: number;
  /** This share's vectors, row-major. */
  readonly vectors: Float32Array;
  readonly count: number;
  readonly dim: number;
}

/** Sent after each capture. */
export interface LoadedMessage {
  readonly index: number;
  readonly recordId: string;
}

const send = (msg: LoadedMessage): Promise<void> =>
  new Promise((resolve, reject) => {
    process.send?.(msg, undefined, undefined, (err: Error | null) => {
      if (err) reject(err);
      else resolve();
    });
  });

process.once('message', (req: LoadRequest) => {
  void load(req).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`load child failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
});

async function load(req: LoadRequest): Promise<void> {
  const client = await RuneClient.connect(req.config);
  try {
    for (let v = 0; v < req.count; v++) {
      const index = req.first + v;
      const { recordId } = await client.captureVector(
        req.vectors.subarray(v * req.dim, (v + 1) * req.dim),
        benchRecord(index),
      );
      await send({ index, recordId });
    }
  } finally {
    client.close();
  }
}
