import { createHash, randomFillSync } from 'node:crypto';

/** A source of uniformly random bytes. Production code uses only the system CSPRNG. */
export interface RandomSource {
  fill(bytes: Uint8Array): void;
}

/** The operating system's CSPRNG through node:crypto. */
export const systemRandom: RandomSource = Object.freeze({
  fill(bytes: Uint8Array): void {
    // randomFillSync caps a single call at 2^31-1 bytes; callers never ask for that much.
    randomFillSync(bytes);
  },
});

/**
 * Deterministic stream (SHAKE256 of seed ‖ counter) for known-answer tests and reproducible benchmarks.
 * NEVER use it to generate real keys or ciphertexts: anyone with the seed can recompute them.
 */
export function deterministicRandom(seed: string | Uint8Array): RandomSource {
  let counter = 0;
  let pool = new Uint8Array(0);
  let pos = 0;
  return {
    fill(bytes: Uint8Array): void {
      let written = 0;
      while (written < bytes.length) {
        if (pos === pool.length) {
          const h = createHash('shake256', { outputLength: 1 << 16 });
          h.update(typeof seed === 'string' ? Buffer.from(seed, 'utf8') : seed);
          const ctr = Buffer.alloc(8);
          ctr.writeBigUInt64LE(BigInt(counter++));
          h.update(ctr);
          pool = h.digest();
          pos = 0;
        }
        const take = Math.min(bytes.length - written, pool.length - pos);
        bytes.set(pool.subarray(pos, pos + take), written);
        written += take;
        pos += take;
      }
    },
  };
}
