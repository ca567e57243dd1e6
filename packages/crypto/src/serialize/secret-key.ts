import { CryptoError } from '../errors.js';
import { getParamSet } from '../params.js';
import type { SecretKey } from '../types.js';
import { HEADER_BYTES, allocateWithHeader, headerFor, readHeader, type ParseExpectation } from './header.js';
import { ObjectKind } from './shape.js';

/*
 * !!! SECURITY: serializeSecretKey returns THE SECRET KEY IN THE CLEAR. !!!
 * Its output must only ever go straight into a sealed key-set export. Never log it, write it to disk,
 * send it anywhere or keep it after sealing: zero it (`fill(0)`) as soon as it is sealed. Anyone holding
 * these 1,048 bytes can decrypt every vector and score encrypted under the matching public key.
 *
 * Format: header + n ternary coefficients at 2 bits each, coefficient i at bits 2(i mod 4) of byte i/4;
 * code 0 → 0, 1 → +1, 2 → −1, 3 is invalid. Encoding and decoding are branch-free on coefficient values.
 */

/** SECRET OUTPUT: only for a sealed key-set export; zero it after sealing (see the box above). */
export function serializeSecretKey(key: SecretKey): Uint8Array {
  const params = getParamSet(key.paramSetId);
  if (key.coeffs.length !== params.n) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `secret key has ${key.coeffs.length} coefficients, expected ${params.n}`,
    );
  }
  const header = headerFor(ObjectKind.SECRET_KEY, params, 0, 0, false);
  const out = allocateWithHeader(header);
  let bad = 0;
  let byte = 0;
  for (const [i, c] of key.coeffs.entries()) {
    // Valid iff c + 1 and c + 2 both lie in [0, 3], i.e. c ∈ {−1, 0, 1}.
    bad |= ((c + 1) & ~3) | ((c + 2) & ~3);
    // −1 → 2, 0 → 0, 1 → 1.
    byte |= (c & 3 & ~((c >> 1) & 1)) << ((i & 3) * 2);
    out[HEADER_BYTES + (i >>> 2)] = byte;
    if ((i & 3) === 3) {
      byte = 0; // the branch depends on the position only, never on a coefficient
    }
  }
  if (bad !== 0) {
    out.fill(0);
    throw new CryptoError('MALFORMED_INPUT', 'secret key coefficients must be −1, 0 or 1');
  }
  return out;
}

export function parseSecretKey(
  bytes: Uint8Array,
  expected?: Pick<ParseExpectation, 'paramSetId'>,
): SecretKey {
  const header = readHeader(bytes, ObjectKind.SECRET_KEY, expected);
  const coeffs = new Int8Array(header.params.n);
  let bad = 0;
  for (const [b, byte] of bytes.subarray(HEADER_BYTES).entries()) {
    for (let j = 0; j < 4; j++) {
      const code = (byte >>> (2 * j)) & 3;
      bad |= code & (code >>> 1);
      coeffs[4 * b + j] = (code & 1) - (code >>> 1);
    }
  }
  if (bad !== 0) {
    coeffs.fill(0);
    throw new CryptoError('MALFORMED_INPUT', 'secret key contains the invalid coefficient code 3');
  }
  return { paramSetId: header.params.id, coeffs };
}
