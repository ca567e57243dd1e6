import { createHash, timingSafeEqual, verify as nodeVerify } from 'node:crypto';
import { isCryptoError, parsePublicKey, serializePublicKey, type PublicKey } from '@rune/crypto';
import {
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  base64urlLength,
  canonicalBytes,
  createSigner,
  decodeBase64url,
  encodeBase64url,
  importVerificationKey,
  isProtocolError,
  type VerificationKey,
} from '@rune/protocol';
import { VaultError, VaultErrorCode, invalidRequest } from '../errors.js';
import type { VaultKeySet } from './key-set.js';

/**
 * What members pin (DESIGN §1): the Vault's RLWE public key (EncKey), signed by the Vault.
 *
 * SECURITY: the pinned SHA-256 of the serialised public key is what stops a hostile index or proxy
 * from substituting its own EncKey (which would let it decrypt every vector members upload). The
 * signature binds the Vault's Ed25519 verify key to that pinned key; the verify key is only as
 * trustworthy as the channel it arrived on, so members should pin its keyId too
 * (`pinnedVaultKeyId`), as permits and tickets are checked against it.
 */
export interface PublishedKey {
  readonly paramSetId: number;
  /** Serialised RLWE public key, unpadded base64url. */
  readonly publicKey: string;
  /** SHA-256 of the serialised public key bytes, 64 lowercase hex digits. */
  readonly publicKeyHash: string;
  /** Raw 32-byte Ed25519 public key of the Vault, unpadded base64url. */
  readonly vaultVerifyKey: string;
  /** keyIdOf(vaultVerifyKey). */
  readonly keyId: string;
  /** Ed25519 over publishedKeySigningInput({ paramSetId, publicKeyHash, vaultVerifyKey }), base64url. */
  readonly signature: string;
}

export interface VerifiedPublishedKey {
  readonly publicKey: PublicKey;
  readonly publicKeyHash: string;
  readonly vaultVerificationKey: VerificationKey;
}

export interface VerifyPublishedKeyOptions {
  /** The Vault signing key id pinned at onboarding; when given, any other key is refused. */
  readonly pinnedVaultKeyId?: string;
}

/** Bounds the base64 text before decoding it; far above any parameter set's public key. */
const MAX_PUBLIC_KEY_B64_CHARS = base64urlLength(1024 * 1024);
const HASH_RE = /^[0-9a-f]{64}$/;
const KEY_ID_RE = /^[0-9a-f]{32}$/;
/**
 * Domain separation: "published-key" is not a protocol message kind, so these signatures can never
 * verify as an envelope (signingInput uses "rune/v1/<kind>\0"), nor an envelope as one of these.
 */
const DOMAIN = new TextEncoder().encode('rune/v1/published-key\0');

/** SHA-256 of the serialised public key, lowercase hex: the value members pin. */
export function publicKeyHashOf(serializedPublicKey: Uint8Array): string {
  return createHash('sha256').update(serializedPublicKey).digest('hex');
}

export function publishedKeySigningInput(fields: {
  readonly paramSetId: number;
  readonly publicKeyHash: string;
  readonly vaultVerifyKey: string;
}): Uint8Array {
  const body = canonicalBytes({
    paramSetId: fields.paramSetId,
    publicKeyHash: fields.publicKeyHash,
    vaultVerifyKey: fields.vaultVerifyKey,
  });
  const out = new Uint8Array(DOMAIN.length + body.length);
  out.set(DOMAIN, 0);
  out.set(body, DOMAIN.length);
  return out;
}

/** The record the Vault hands to members (over its API and in `rune vault show-key`). */
export function publishKey(keySet: VaultKeySet): PublishedKey {
  const bytes = serializePublicKey(keySet.publicKey);
  const publicKeyHash = publicKeyHashOf(bytes);
  const signer = createSigner(keySet.signingSeed);
  const vaultVerifyKey = encodeBase64url(signer.publicKey);
  const signature = signer.sign(
    publishedKeySigningInput({ paramSetId: keySet.paramSetId, publicKeyHash, vaultVerifyKey }),
  );
  return Object.freeze({
    paramSetId: keySet.paramSetId,
    publicKey: encodeBase64url(bytes),
    publicKeyHash,
    vaultVerifyKey,
    keyId: signer.keyId,
    signature: encodeBase64url(signature),
  });
}

function invalid(detail: string, cause?: unknown): VaultError {
  return new VaultError(VaultErrorCode.PUBLISHED_KEY_INVALID, `published key refused: ${detail}`, {
    reason: detail,
    ...(cause === undefined ? {} : { cause }),
  });
}

function pinMismatch(detail: string): VaultError {
  return new VaultError(
    VaultErrorCode.KEY_PIN_MISMATCH,
    `published key refused: ${detail}. Someone between you and the Vault may be substituting keys; ` +
      'do not use it, and check the pinned value with your Vault admin',
    { reason: detail },
  );
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function field(record: Record<string, unknown>, name: string, pattern?: RegExp, maxChars = 256): string {
  const value = record[name];
  if (
    typeof value !== 'string' ||
    value.length > maxChars ||
    (pattern !== undefined && !pattern.test(value))
  ) {
    throw invalid(`field "${name}" is missing or malformed`);
  }
  return value;
}

function decode(text: string, what: string): Uint8Array {
  try {
    return decodeBase64url(text, what);
  } catch (err: unknown) {
    if (!isProtocolError(err)) throw err;
    throw invalid(`${what} is not base64url`, err);
  }
}

/**
 * Checks a published key received from anywhere (the Vault, an index, a proxy, a file) against the
 * member's pinned hash and returns the public key to encrypt under. Refuses, in this order: a
 * malformed record (PUBLISHED_KEY_INVALID), a key whose bytes do not hash to the pin or a Vault key
 * other than the pinned one (KEY_PIN_MISMATCH), a bad signature or a key that does not parse for
 * its parameter set (PUBLISHED_KEY_INVALID). A malformed pin is INVALID_REQUEST (local config).
 */
export function verifyPublishedKey(
  published: unknown,
  pinnedPublicKeyHash: string,
  options: VerifyPublishedKeyOptions = {},
): VerifiedPublishedKey {
  const pin = pinnedPublicKeyHash.toLowerCase();
  if (!HASH_RE.test(pin)) throw invalidRequest('the pinned public key hash must be 64 hex digits (SHA-256)');
  if (typeof published !== 'object' || published === null || Array.isArray(published)) {
    throw invalid('not an object');
  }
  const record = published as Record<string, unknown>;
  const paramSetId = record.paramSetId;
  if (typeof paramSetId !== 'number' || !Number.isSafeInteger(paramSetId) || paramSetId < 0) {
    throw invalid('field "paramSetId" is missing or malformed');
  }
  const publicKeyText = field(record, 'publicKey', undefined, MAX_PUBLIC_KEY_B64_CHARS);
  const claimedHash = field(record, 'publicKeyHash', HASH_RE);
  const vaultVerifyKey = field(record, 'vaultVerifyKey', undefined, base64urlLength(PUBLIC_KEY_BYTES));
  const keyId = field(record, 'keyId', KEY_ID_RE);
  const signatureText = field(record, 'signature', undefined, base64urlLength(SIGNATURE_BYTES));

  const bytes = decode(publicKeyText, 'publicKey');
  // SECURITY: hash the bytes actually received; the record's own publicKeyHash is never trusted.
  const actualHash = publicKeyHashOf(bytes);
  if (!sameHex(actualHash, pin)) throw pinMismatch('the public key does not match the pinned hash');
  if (!sameHex(claimedHash, actualHash)) throw invalid('publicKeyHash does not match the public key');

  let vaultVerificationKey: VerificationKey;
  try {
    vaultVerificationKey = importVerificationKey(decode(vaultVerifyKey, 'vaultVerifyKey'));
  } catch (err: unknown) {
    if (err instanceof VaultError || !isProtocolError(err)) throw err;
    throw invalid('vaultVerifyKey is not an Ed25519 public key', err);
  }
  if (vaultVerificationKey.keyId !== keyId) throw invalid('keyId does not match vaultVerifyKey');
  if (options.pinnedVaultKeyId !== undefined && !sameHex(keyId, options.pinnedVaultKeyId.toLowerCase())) {
    throw pinMismatch('it is signed by a Vault key other than the pinned one');
  }
  const signature = decode(signatureText, 'signature');
  const message = publishedKeySigningInput({ paramSetId, publicKeyHash: actualHash, vaultVerifyKey });
  if (
    signature.length !== SIGNATURE_BYTES ||
    !nodeVerify(null, message, vaultVerificationKey.keyObject, signature)
  ) {
    throw invalid('the signature does not verify');
  }

  let publicKey: PublicKey;
  try {
    publicKey = parsePublicKey(bytes, { paramSetId });
  } catch (err: unknown) {
    if (!isCryptoError(err)) throw err;
    throw invalid(`the public key does not parse for parameter set ${paramSetId} (${err.message})`, err);
  }
  return { publicKey, publicKeyHash: actualHash, vaultVerificationKey };
}
