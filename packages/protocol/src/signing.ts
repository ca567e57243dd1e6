import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import { base64urlLength, decodeBase64url, encodeBase64url } from './base64url.js';
import { canonicalBytes } from './canonical.js';
import { ProtocolError } from './errors.js';
import { MESSAGE_KINDS, isTimeBound, payloadSchemas, type MessageKind, type PayloadOf } from './messages.js';

export const PUBLIC_KEY_BYTES = 32;
export const PRIVATE_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Clock difference tolerated between Vault, index and member, in both directions. */
export const CLOCK_SKEW_MS = 10_000;

/** First 16 bytes of SHA-256(raw public key), hex: names a key without shipping it. */
export function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest().subarray(0, 16).toString('hex');
}

/** Anything that can produce an Ed25519 signature: an in-process key now, a KMS later. */
export interface Signer {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A trusted public key, imported once (importing per verification costs more than verifying). */
export interface VerificationKey {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly keyObject: KeyObject;
}

export interface SigningKeyPair {
  /** The 32-byte Ed25519 seed. SECRET: store sealed, never log. */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
}

// Fixed DER headers of RFC 8410 Ed25519 keys; the raw 32 bytes follow.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function rawFromJwk(key: KeyObject, field: 'x' | 'd'): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const value = jwk[field];
  if (value === undefined) throw new ProtocolError('INVALID_ARGUMENT', `key has no JWK '${field}'`);
  return decodeBase64url(value, `JWK ${field}`);
}

function requireLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.byteLength !== length) {
    throw new ProtocolError('INVALID_ARGUMENT', `${what} must be ${length} bytes, got ${bytes.byteLength}`);
  }
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawFromJwk(privateKey, 'x');
  return { privateKey: rawFromJwk(privateKey, 'd'), publicKey, keyId: keyIdOf(publicKey) };
}

/** Builds a Signer from a 32-byte Ed25519 seed. */
export function createSigner(privateKey: Uint8Array): Signer {
  requireLength(privateKey, PRIVATE_KEY_BYTES, 'Ed25519 private key');
  let keyObject: KeyObject;
  let publicKey: Uint8Array;
  try {
    keyObject = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, privateKey]),
      format: 'der',
      type: 'pkcs8',
    });
    publicKey = rawFromJwk(createPublicKey(keyObject), 'x');
  } catch (err: unknown) {
    throw new ProtocolError('INVALID_ARGUMENT', 'not a valid Ed25519 private key', { cause: err });
  }
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    sign: (message) => new Uint8Array(nodeSign(null, message, keyObject)),
  };
}

/** Imports a raw 32-byte Ed25519 public key as a trusted verification key. */
export function importVerificationKey(publicKey: Uint8Array): VerificationKey {
  requireLength(publicKey, PUBLIC_KEY_BYTES, 'Ed25519 public key');
  try {
    const keyObject = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return { keyId: keyIdOf(publicKey), publicKey: Uint8Array.from(publicKey), keyObject };
  } catch (err: unknown) {
    throw new ProtocolError('INVALID_ARGUMENT', 'not a valid Ed25519 public key', { cause: err });
  }
}

const DOMAIN_PREFIX = 'rune/v1/';
const encoder = new TextEncoder();

/**
 * SECURITY: the signed bytes are `"rune/v1/" ‖ kind ‖ 0x00 ‖ canonical(payload)`. The kind is
 * inside the signature, so a valid envelope of one kind can never verify as another (a receipt
 * as a permit, a ticket as a result), and the version prefix keeps v1 signatures out of any
 * later protocol. The NUL cannot occur in a kind, so the split is unambiguous.
 */
export function signingInput(kind: MessageKind, payload: unknown): Uint8Array {
  const prefix = encoder.encode(`${DOMAIN_PREFIX}${kind}\0`);
  const body = canonicalBytes(payload);
  const out = new Uint8Array(prefix.byteLength + body.byteLength);
  out.set(prefix, 0);
  out.set(body, prefix.byteLength);
  return out;
}

export interface Envelope<K extends MessageKind = MessageKind> {
  readonly kind: K;
  readonly keyId: string;
  readonly payload: PayloadOf<K>;
  /** Ed25519 signature over signingInput(kind, payload), unpadded base64url. */
  readonly signature: string;
}

export const envelopeSchema = z.strictObject({
  kind: z.enum(MESSAGE_KINDS),
  keyId: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits'),
  payload: z.record(z.string(), z.unknown()),
  signature: z
    .string()
    .length(base64urlLength(SIGNATURE_BYTES))
    .regex(/^[A-Za-z0-9_-]*$/, 'must be unpadded base64url'),
});

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Validates `payload` against its kind's schema, then signs it. */
export function signEnvelope<K extends MessageKind>(
  kind: K,
  payload: PayloadOf<K>,
  signer: Signer,
): Envelope<K> {
  const parsed = payloadSchemas[kind].safeParse(payload);
  if (!parsed.success) {
    throw new ProtocolError('INVALID_ARGUMENT', `invalid ${kind} payload: ${describe(parsed.error)}`);
  }
  const signature = signer.sign(signingInput(kind, parsed.data));
  return {
    kind,
    keyId: signer.keyId,
    payload: parsed.data as PayloadOf<K>,
    signature: encodeBase64url(signature),
  };
}

export interface VerifyOptions {
  /** Current time, ms since the Unix epoch (injected; no hidden clock). */
  readonly now: number;
}

function selectKey(keyId: string, keys: VerificationKey | readonly VerificationKey[]): VerificationKey {
  const list: readonly VerificationKey[] = 'keyObject' in keys ? [keys] : keys;
  const key = list.find((k) => k.keyId === keyId);
  if (key === undefined) {
    throw new ProtocolError('KEY_MISMATCH', `envelope is signed by key ${keyId}, which is not trusted here`);
  }
  return key;
}

/**
 * Verifies an envelope received from the wire and returns its payload. Fails closed: every
 * refusal is a ProtocolError, and nothing of the payload is returned before the signature and
 * the validity window have been checked.
 *
 * `keys` are the trusted keys of the expected signer (the Vault's pinned key for permits and
 * tickets; the index's registered key for results and receipts); several allow key rotation.
 */
export function verifyEnvelope<K extends MessageKind>(
  kind: K,
  envelope: unknown,
  keys: VerificationKey | readonly VerificationKey[],
  options: VerifyOptions,
): PayloadOf<K> {
  const outer = envelopeSchema.safeParse(envelope);
  if (!outer.success) {
    throw new ProtocolError('MALFORMED_REQUEST', `malformed envelope: ${describe(outer.error)}`);
  }
  if (outer.data.kind !== kind) {
    throw new ProtocolError('WRONG_KIND', `expected a ${kind}, got a ${outer.data.kind}`);
  }
  const key = selectKey(outer.data.keyId, keys);
  // 86 canonical base64url characters are exactly SIGNATURE_BYTES (64) bytes.
  const signature = decodeBase64url(outer.data.signature, 'signature');
  // The payload as received, not zod's copy of it (a copy could differ, e.g. on a "__proto__" key).
  const received = (envelope as { readonly payload: unknown }).payload;
  const inner = payloadSchemas[kind].safeParse(received);
  if (!inner.success) {
    throw new ProtocolError('MALFORMED_REQUEST', `malformed ${kind} payload: ${describe(inner.error)}`);
  }
  // SECURITY: verify over the payload exactly as received (canonicalised), and return only what
  // the strict schema parsed from those same values, so nothing unsigned reaches the caller.
  const message = signingInput(kind, received);
  if (!nodeVerify(null, message, key.keyObject, signature)) {
    throw new ProtocolError('SIGNATURE_INVALID', `${kind} signature does not verify`);
  }
  const payload = inner.data as PayloadOf<K>;
  if (isTimeBound(kind)) assertWithinValidity(payload as PayloadOf<K> & Validity, options.now);
  return payload;
}

interface Validity {
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * Accepts iff issuedAt − skew ≤ now < expiresAt + skew.
 * SECURITY: a replay guard must remember an id until expiresAt + CLOCK_SKEW_MS (see
 * ReplayGuard), or an id could be replayed in the skew window after the guard forgot it.
 */
export function assertWithinValidity(validity: Validity, now: number): void {
  if (!Number.isSafeInteger(now)) {
    throw new ProtocolError('INVALID_ARGUMENT', 'now must be an integer ms timestamp');
  }
  if (now < validity.issuedAt - CLOCK_SKEW_MS) {
    throw new ProtocolError('NOT_YET_VALID', `valid from ${validity.issuedAt}, now is ${now}`);
  }
  if (now >= validity.expiresAt + CLOCK_SKEW_MS) {
    throw new ProtocolError('EXPIRED', `expired at ${validity.expiresAt}, now is ${now}`);
  }
}
