import type { Header } from './header.js';
import {
  assertResiduesBelowPrimes,
  packResiduesInto,
  readU32Words,
  unpackResidues,
  writeU32Words,
} from './pack.js';
import { primeRuns, residueBits } from './shape.js';

/**
 * Writes an object's residue array at `offset`, packed or as u32 words per the header. The data is
 * checked first (shape and every residue below its prime), so a serialiser never emits a blob its own
 * parser would reject, and packing never truncates a value.
 */
export function writeResidues(header: Header, data: Uint32Array, out: Uint8Array, offset: number): void {
  const { params, kind, dim } = header;
  assertResiduesBelowPrimes(data, params.primes, primeRuns(kind, params, dim));
  if (header.isPacked) {
    packResiduesInto(data, residueBits(params), out, offset);
  } else {
    writeU32Words(data, out, offset);
  }
}

/** Reads the residue array at `offset` into a new array and rejects any residue ≥ its prime. */
export function readResidues(header: Header, bytes: Uint8Array, offset: number): Uint32Array {
  const { params, kind, dim } = header;
  const runs = primeRuns(kind, params, dim);
  const count = runs.repeats * params.primes.length * runs.runWords;
  const data = header.isPacked
    ? unpackResidues(bytes, count, residueBits(params), offset)
    : readU32Words(bytes, count, offset);
  assertResiduesBelowPrimes(data, params.primes, runs);
  return data;
}
