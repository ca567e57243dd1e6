import { MIN_SCRYPT_PARAMS, createEngine, type Engine } from '@rune/crypto';
import { openOrCreateKeySet, type Kek, type OpenedKeySet } from '../src/keys/key-set.js';
import { fakeClock } from './helpers.js';

/** Passphrases that pass the policy; never reuse these outside tests. */
export const KEK: Kek = Object.freeze({ passphrase: 'granite-Orbit-lantern-57-mellow-fjord' });
export const BACKUP_PASSPHRASE = 'willow Quartz tundra 93 ember saddle';
/** The lowest scrypt cost the sealing format accepts: tests stay fast, the format is the same. */
export const FAST_SCRYPT = MIN_SCRYPT_PARAMS;

let engine: Engine | undefined;
export function testEngine(): Engine {
  engine ??= createEngine();
  return engine;
}

export async function openKeys(dataDir: string, kek: Kek = KEK, paramSetId = 1): Promise<OpenedKeySet> {
  return openOrCreateKeySet({
    dataDir,
    kek,
    paramSetId,
    engine: testEngine(),
    clock: fakeClock().now,
    scrypt: FAST_SCRYPT,
  });
}

/** Whether `needle` occurs anywhere in `haystack`. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1;
}
