import { CryptoError } from './errors.js';

/**
 * Parameter sets of the lattice engine. Every serialised object records the id, and objects of
 * different sets never mix. Security estimates and their source are in docs/SECURITY.md.
 */
export const QueryMode = { PLAINTEXT: 'plaintext', ENCRYPTED: 'encrypted' } as const;
export type QueryMode = (typeof QueryMode)[keyof typeof QueryMode];

export interface ParamSet {
  readonly id: number;
  readonly name: string;
  /** Ring dimension: polynomials live in Z_q[X]/(X^n + 1). */
  readonly n: number;
  /** RNS primes, each < 2^26 and ≡ 1 mod 2n, so a product of two residues is exact in a float64. */
  readonly primes: readonly number[];
  /** Coordinates per chunk; one ciphertext holds one chunk of `n / chunkSize` vectors. */
  readonly chunkSize: number;
  /** Vectors per block (= n / chunkSize). */
  readonly itemsPerBlock: number;
  /** Scale of stored vector coordinates. */
  readonly deltaX: number;
  /** Scale of query coordinates. */
  readonly deltaQ: number;
  /** Centred-binomial error parameter (sum of eta coin differences). */
  readonly eta: number;
  readonly queryMode: QueryMode;
  /** Largest supported vector dimension (bounds the exact 64-bit accumulations of the kernels). */
  readonly maxDim: number;
}

const P1 = 67084289;
const P2 = 67043329;
const P3 = 66994177;

export const PARAM_SETS: readonly ParamSet[] = Object.freeze([
  Object.freeze({
    id: 1,
    name: 'rune-v1-n4096-q52-plainq',
    n: 4096,
    primes: Object.freeze([P1, P2]),
    chunkSize: 32,
    itemsPerBlock: 128,
    deltaX: 2 ** 29,
    deltaQ: 2 ** 20,
    eta: 21,
    queryMode: QueryMode.PLAINTEXT,
    maxDim: 2048,
  }),
  Object.freeze({
    id: 2,
    name: 'rune-v1-n4096-q78-encq',
    n: 4096,
    primes: Object.freeze([P1, P2, P3]),
    chunkSize: 32,
    itemsPerBlock: 128,
    deltaX: 2 ** 29,
    deltaQ: 2 ** 32,
    eta: 21,
    queryMode: QueryMode.ENCRYPTED,
    maxDim: 1024,
  }),
]);

export const DEFAULT_PARAM_SET_ID = 1;

export function getParamSet(id: number): ParamSet {
  const set = PARAM_SETS.find((s) => s.id === id);
  if (set === undefined) {
    throw new CryptoError(
      'UNKNOWN_PARAM_SET',
      `unknown parameter set id ${id}; this build knows ${PARAM_SETS.map((s) => s.id).join(', ')}`,
    );
  }
  return set;
}

/** Number of chunk ciphertexts per vector of dimension `dim` (dim must be a positive multiple of chunkSize). */
export function chunkCount(params: ParamSet, dim: number): number {
  assertDimension(params, dim);
  return dim / params.chunkSize;
}

export function assertDimension(params: ParamSet, dim: number): void {
  if (!Number.isInteger(dim) || dim <= 0 || dim % params.chunkSize !== 0 || dim > params.maxDim) {
    throw new CryptoError(
      'INVALID_VECTOR',
      `dimension ${dim} is not supported by ${params.name}: use a positive multiple of ${params.chunkSize} up to ${params.maxDim}`,
    );
  }
}
