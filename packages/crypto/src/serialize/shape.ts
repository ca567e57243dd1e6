import { CryptoError } from '../errors.js';
import { blockWords } from '../layout.js';
import { PARAM_SETS, QueryMode, assertDimension, type ParamSet } from '../params.js';
import { blockScoreWordsPerPrime } from '../types.js';
import { packedBytes, residueBitsFor, type PrimeRuns } from './pack.js';

/**
 * What each object kind holds and how large it is: the single source of every size the parser
 * enforces. Formats are documented byte by byte in docs/formats.md.
 */
export const ObjectKind = {
  PUBLIC_KEY: 1,
  SECRET_KEY: 2,
  ENCRYPTED_VECTOR: 3,
  ENCRYPTED_QUERY: 4,
  BLOCK: 5,
  BLOCK_SCORES: 6,
} as const;
export type ObjectKind = (typeof ObjectKind)[keyof typeof ObjectKind];

const KIND_NAMES: Readonly<Record<ObjectKind, string>> = {
  1: 'public key',
  2: 'secret key',
  3: 'encrypted vector',
  4: 'encrypted query',
  5: 'block',
  6: 'block scores',
};

export const ALL_OBJECT_KINDS: readonly ObjectKind[] = Object.freeze([1, 2, 3, 4, 5, 6]);

export function isObjectKind(value: number): value is ObjectKind {
  return Number.isInteger(value) && value >= 1 && value <= 6;
}

export function kindName(kind: ObjectKind): string {
  return KIND_NAMES[kind];
}

/** Kinds whose header carries a vector dimension and chunk count. */
export function hasDimension(kind: ObjectKind): boolean {
  return (
    kind === ObjectKind.ENCRYPTED_VECTOR || kind === ObjectKind.ENCRYPTED_QUERY || kind === ObjectKind.BLOCK
  );
}

/** Kinds whose header carries a block id and slot count. */
export function hasBlockId(kind: ObjectKind): boolean {
  return kind === ObjectKind.BLOCK || kind === ObjectKind.BLOCK_SCORES;
}

/** Kinds made of residues mod the primes (everything but the ternary secret key). */
export function hasResidues(kind: ObjectKind): boolean {
  return kind !== ObjectKind.SECRET_KEY;
}

/** Bit width of packed residues: ceil(log2 p) of the largest prime (26 for every current set). */
export function residueBits(params: ParamSet): number {
  return residueBitsFor(params.primes);
}

/** Bytes of a block's occupancy bitmap: one bit per slot, slot s at byte s/8, bit s mod 8. */
export function occupancyBytes(params: ParamSet): number {
  return Math.ceil(params.itemsPerBlock / 8);
}

/** Bytes of a secret key's ternary coefficients at 2 bits each. */
export function secretKeyBytes(params: ParamSet): number {
  return Math.ceil(params.n / 4);
}

/**
 * Which prime each residue word belongs to, following the array layouts documented in types.ts:
 * public key [prime][poly][n]; vector/query [chunk][prime][poly][n]; block [prime][poly][chunks·n];
 * block scores [prime][words per prime].
 */
export function primeRuns(kind: ObjectKind, params: ParamSet, dim: number): PrimeRuns {
  const { n, chunkSize } = params;
  switch (kind) {
    case ObjectKind.PUBLIC_KEY:
      return { repeats: 1, runWords: 2 * n };
    case ObjectKind.ENCRYPTED_VECTOR:
    case ObjectKind.ENCRYPTED_QUERY:
      return { repeats: dim / chunkSize, runWords: 2 * n };
    case ObjectKind.BLOCK:
      return { repeats: 1, runWords: blockWords(1, dim / chunkSize, n) };
    case ObjectKind.BLOCK_SCORES:
      return {
        repeats: 1,
        runWords: blockScoreWordsPerPrime(n, chunkSize, params.queryMode === QueryMode.ENCRYPTED),
      };
    case ObjectKind.SECRET_KEY:
      return { repeats: 0, runWords: 0 };
  }
}

/** Residue words of an object: repeats × primes × run. */
export function residueWords(kind: ObjectKind, params: ParamSet, dim: number): number {
  const runs = primeRuns(kind, params, dim);
  return runs.repeats * params.primes.length * runs.runWords;
}

/** Payload bytes implied by kind, params, dimension and packing: the only length the parser accepts. */
export function payloadBytes(kind: ObjectKind, params: ParamSet, dim: number, isPacked: boolean): number {
  if (kind === ObjectKind.SECRET_KEY) {
    return secretKeyBytes(params);
  }
  const words = residueWords(kind, params, dim);
  const residueBytes = isPacked ? packedBytes(words, residueBits(params)) : words * 4;
  return kind === ObjectKind.BLOCK ? occupancyBytes(params) + residueBytes : residueBytes;
}

/**
 * Throws unless `dim` is a valid dimension for this kind and set: a supported dimension for kinds that
 * carry one (assertDimension semantics), 0 otherwise. `code` is the error to raise.
 */
export function assertKindDimension(
  kind: ObjectKind,
  params: ParamSet,
  dim: number,
  code: 'MALFORMED_INPUT' | 'INVALID_VECTOR',
): void {
  if (!hasDimension(kind)) {
    if (dim !== 0) {
      throw new CryptoError(code, `a ${kindName(kind)} carries no dimension, got ${dim}`);
    }
    return;
  }
  try {
    assertDimension(params, dim);
  } catch (err: unknown) {
    if (err instanceof CryptoError && code !== err.code) {
      throw new CryptoError(code, err.message, { cause: err });
    }
    throw err;
  }
}

/** Header bytes, shared by every kind. Kept here so size limits need no import of header.ts. */
export const HEADER_BYTES = 24;

/**
 * Largest serialised size of a kind over every known parameter set at its largest dimension (unpacked,
 * the larger encoding). Checked before the header is trusted, so no forged length can make the parser
 * allocate more than a genuine object of the kind would need.
 */
export function maxSerializedBytes(kind: ObjectKind): number {
  let max = 0;
  for (const params of PARAM_SETS) {
    const dim = hasDimension(kind) ? params.maxDim : 0;
    max = Math.max(max, payloadBytes(kind, params, dim, false), payloadBytes(kind, params, dim, true));
  }
  return HEADER_BYTES + max;
}
