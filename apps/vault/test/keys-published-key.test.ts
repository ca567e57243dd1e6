import { serializePublicKey } from '@rune/crypto';
import { createSigner, encodeBase64url, decodeBase64url } from '@rune/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateVaultKeySet, type VaultKeySet } from '../src/keys/key-set.js';
import {
  publicKeyHashOf,
  publishKey,
  publishedKeySigningInput,
  verifyPublishedKey,
  type PublishedKey,
} from '../src/keys/published-key.js';
import { testEngine } from './keys-fixtures.js';
import { caught, expectCode } from './helpers.js';

let vault: VaultKeySet;
let hostile: VaultKeySet;
let published: PublishedKey;

beforeAll(() => {
  vault = generateVaultKeySet(testEngine(), 1, 0);
  hostile = generateVaultKeySet(testEngine(), 1, 0);
  published = publishKey(vault);
});

/** Signs arbitrary fields with `seed`, as the holder of that signing key could. */
function signed(fields: Omit<PublishedKey, 'signature' | 'keyId'>, seed: Uint8Array): PublishedKey {
  const signer = createSigner(seed);
  const signature = signer.sign(publishedKeySigningInput(fields));
  return { ...fields, keyId: signer.keyId, signature: encodeBase64url(signature) };
}

describe('publishKey / verifyPublishedKey', () => {
  it('publishes the public key with its SHA-256 and the Vault verify key, and verifies against the pin', () => {
    const bytes = serializePublicKey(vault.publicKey);
    expect(published.publicKeyHash).toBe(publicKeyHashOf(bytes));
    expect(published.publicKeyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(published.vaultVerifyKey).toBe(encodeBase64url(createSigner(vault.signingSeed).publicKey));

    const verified = verifyPublishedKey(JSON.parse(JSON.stringify(published)), published.publicKeyHash, {
      pinnedVaultKeyId: published.keyId,
    });
    expect(verified.publicKey.paramSetId).toBe(1);
    expect(Buffer.from(verified.publicKey.data.buffer).equals(Buffer.from(vault.publicKey.data.buffer))).toBe(
      true,
    );
    expect(verified.vaultVerificationKey.keyId).toBe(published.keyId);
    // The pin is accepted in upper case too (copied from a UI).
    expect(verifyPublishedKey(published, published.publicKeyHash.toUpperCase()).publicKeyHash).toBe(
      published.publicKeyHash,
    );
  });

  it("refuses a substituted public key even when the rest of the record is the Vault's own", async () => {
    const swapped = { ...published, publicKey: encodeBase64url(serializePublicKey(hostile.publicKey)) };
    expectCode(await caught(() => verifyPublishedKey(swapped, published.publicKeyHash)), 'KEY_PIN_MISMATCH');
  });

  it('refuses a hostile, self-consistent record signed by another key', async () => {
    const forged = publishKey(hostile);
    const err = await caught(() => verifyPublishedKey(forged, published.publicKeyHash));
    expectCode(err, 'KEY_PIN_MISMATCH');
    expect(err.message).toContain('substituting');
  });

  it('refuses the genuine record against a wrong pinned hash', async () => {
    const wrongPin = publishKey(hostile).publicKeyHash;
    expectCode(await caught(() => verifyPublishedKey(published, wrongPin)), 'KEY_PIN_MISMATCH');
  });

  it('refuses the genuine public key re-signed by a Vault key other than the pinned one', async () => {
    const resigned = signed(
      {
        paramSetId: 1,
        publicKey: published.publicKey,
        publicKeyHash: published.publicKeyHash,
        vaultVerifyKey: encodeBase64url(createSigner(hostile.signingSeed).publicKey),
      },
      hostile.signingSeed,
    );
    // Without a pinned Vault key the hash pin still guarantees the EncKey itself…
    expect(verifyPublishedKey(resigned, published.publicKeyHash).publicKeyHash).toBe(published.publicKeyHash);
    // …and with one, the foreign signing key is refused.
    const err = await caught(() =>
      verifyPublishedKey(resigned, published.publicKeyHash, { pinnedVaultKeyId: published.keyId }),
    );
    expectCode(err, 'KEY_PIN_MISMATCH');
  });

  it('refuses a flipped signature bit', async () => {
    const sig = decodeBase64url(published.signature);
    const flipped = Uint8Array.from(sig);
    flipped[10]! ^= 0x01;
    const record = { ...published, signature: encodeBase64url(flipped) };
    expectCode(
      await caught(() => verifyPublishedKey(record, published.publicKeyHash)),
      'PUBLISHED_KEY_INVALID',
    );
  });

  it('refuses a record whose signed fields were edited', async () => {
    const otherSet = { ...published, paramSetId: 2 };
    expectCode(
      await caught(() => verifyPublishedKey(otherSet, published.publicKeyHash)),
      'PUBLISHED_KEY_INVALID',
    );
    const wrongClaim = { ...published, publicKeyHash: publishKey(hostile).publicKeyHash };
    expectCode(
      await caught(() => verifyPublishedKey(wrongClaim, published.publicKeyHash)),
      'PUBLISHED_KEY_INVALID',
    );
    const wrongId = { ...published, keyId: publishKey(hostile).keyId };
    expectCode(
      await caught(() => verifyPublishedKey(wrongId, published.publicKeyHash)),
      'PUBLISHED_KEY_INVALID',
    );
  });

  it('refuses a validly signed public key that does not parse for its parameter set', async () => {
    const base = {
      publicKeyHash: published.publicKeyHash,
      publicKey: published.publicKey,
      vaultVerifyKey: published.vaultVerifyKey,
    };
    // A set-1 key declared as set 2, signed by the genuine Vault key.
    const mislabelled = signed({ ...base, paramSetId: 2 }, vault.signingSeed);
    const err = await caught(() => verifyPublishedKey(mislabelled, published.publicKeyHash));
    expectCode(err, 'PUBLISHED_KEY_INVALID');
    expect(err.reason).toContain('does not parse for parameter set 2');
    // Bytes that are no public key at all, pinned and signed.
    const junk = new Uint8Array(64).fill(7);
    const junkHash = publicKeyHashOf(junk);
    const garbage = signed(
      { ...base, paramSetId: 1, publicKey: encodeBase64url(junk), publicKeyHash: junkHash },
      vault.signingSeed,
    );
    const junkErr = await caught(() => verifyPublishedKey(garbage, junkHash));
    expectCode(junkErr, 'PUBLISHED_KEY_INVALID');
    expect(junkErr.reason).toContain('does not parse');
  });

  it('refuses malformed records and a malformed pin', async () => {
    for (const bad of [
      null,
      'key',
      [],
      { ...published, paramSetId: '1' },
      { ...published, signature: 42 },
      { ...published, publicKey: 'not base64url!' },
      { ...published, vaultVerifyKey: encodeBase64url(new Uint8Array(31)) },
      { ...published, keyId: 'xyz' },
    ]) {
      expectCode(
        await caught(() => verifyPublishedKey(bad, published.publicKeyHash)),
        'PUBLISHED_KEY_INVALID',
      );
    }
    expectCode(await caught(() => verifyPublishedKey(published, 'abc')), 'INVALID_REQUEST');
  });
});
