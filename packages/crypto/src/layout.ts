/**
 * Block storage layout. A block holds one chunk-ciphertext per chunk for `itemsPerBlock` vectors; each
 * [prime][poly] region is `chunks × n` u32 words in NTT form, ordered [group g][quad k][chunk j][lane l]
 * for NTT slot c = 32g + 4k + l. For each group of 4 slots the chunks are contiguous, so the scoring
 * kernels stream strictly sequentially (measured 17–20 % faster than [g][j][32], FHE-PROTOTYPE §1).
 * Query buffers use the same layout.
 */
export function layoutOffset(c: number, j: number, chunks: number): number {
  return (c >>> 5) * chunks * 32 + ((c & 31) >>> 2) * chunks * 4 + j * 4 + (c & 3);
}

/** Words in one [prime][poly] region of a block. */
export function regionWords(chunks: number, n: number): number {
  return chunks * n;
}

/** Words in a whole block: primes × 2 polys × chunks × n. */
export function blockWords(primeCount: number, chunks: number, n: number): number {
  return primeCount * 2 * chunks * n;
}

/** Offset of the [prime][poly] region inside a block. */
export function regionOffset(primeIndex: number, poly: number, chunks: number, n: number): number {
  return (primeIndex * 2 + poly) * chunks * n;
}
