/**
 * The engine's objects. All polynomial data is u32 residues in [0, p), NTT domain unless stated.
 * "[a][b][c]" gives the nesting order of flat arrays, outermost first; n = ring dimension,
 * P = number of primes of the parameter set, J = dim / chunkSize chunks.
 */

/** Public encryption key: data is [prime][poly 0..1][n], pk = (-(a·s + e), a) in NTT form. */
export interface PublicKey {
  readonly paramSetId: number;
  readonly data: Uint32Array;
}

/**
 * Secret key: ternary coefficients in {-1, 0, 1} (coefficient domain). Never serialised in the clear;
 * it leaves memory only inside a sealed key-set export.
 */
export interface SecretKey {
  readonly paramSetId: number;
  readonly coeffs: Int8Array;
}

/**
 * One vector encrypted under the public key, chunk j at coefficients 0..31 of its own ciphertext:
 * data is [chunk j][prime][poly 0..1][n] (NTT form). Also the wire form of an encrypted query, whose
 * chunks are encoded reversed (see encoding.ts).
 */
export interface EncryptedVector {
  readonly paramSetId: number;
  readonly dim: number;
  readonly data: Uint32Array;
}

/**
 * A block of `itemsPerBlock` slots: the sum of its items' chunk ciphertexts, each shifted by X^(32·slot).
 * data is [prime][poly][block layout of J chunks] (layout.ts); `occupied` is a bitmap of used slots.
 */
export interface Block {
  readonly paramSetId: number;
  readonly dim: number;
  readonly blockId: number;
  readonly occupied: Uint8Array;
  readonly data: Uint32Array;
}

/**
 * The index's encrypted scores for one block, sent to the Vault.
 * Plaintext-query mode, per prime: [y0: n/32 folded c0 sums][r1: n words of Σ c1·Q] (natural order).
 * Encrypted-query mode, per prime: [y0: n/32][r1: n][r2: n] for the size-3 product.
 * Neither part reveals a score without the secret key.
 */
export interface BlockScores {
  readonly paramSetId: number;
  readonly blockId: number;
  readonly data: Uint32Array;
}

/** Words per prime of a BlockScores for the given parameter shape. */
export function blockScoreWordsPerPrime(n: number, chunkSize: number, encryptedQuery: boolean): number {
  return n / chunkSize + (encryptedQuery ? 2 * n : n);
}
