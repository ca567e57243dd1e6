/**
 * Feature hashing ("the hashing trick"): a feature string lands in one of `dim` buckets with a
 * ±1 sign, so collisions cancel in expectation instead of piling up.
 */

const encoder = new TextEncoder();
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. Part of the embedder id's contract: never change it. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: decorrelates the sign bit from the bucket (both come from one hash). */
export function mix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Adds `weight` times the signed one-hot of `feature` into `out`. */
export function addHashedFeature(out: Float64Array, feature: string, weight: number): void {
  const h = fnv1a32(feature);
  const bucket = h % out.length;
  const sign = mix32(h) >>> 31 === 0 ? 1 : -1;
  out[bucket] = (out[bucket] ?? 0) + sign * weight;
}
