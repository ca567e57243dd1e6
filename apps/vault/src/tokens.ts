import { createHash, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';

/** Source of cryptographic randomness; injectable so tests are deterministic. */
export type RandomBytes = (size: number) => Uint8Array;

export const defaultRandomBytes: RandomBytes = (size) => nodeRandomBytes(size);

/** Member tokens: `rune_` + base64url(32 random bytes) = 5 + 43 characters. */
export const TOKEN_PREFIX = 'rune_';
/** Invitation codes: `rune_inv_` + base64url(32 random bytes); never accepted as a member token. */
export const INVITATION_PREFIX = 'rune_inv_';
export const SECRET_BYTES = 32;

const TOKEN_PATTERN = /^rune_[A-Za-z0-9_-]{43}$/;
const INVITATION_PATTERN = /^rune_inv_[A-Za-z0-9_-]{43}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Matches a token or invitation anywhere in a string; used to redact accidental leaks. */
export const SECRET_IN_TEXT = /rune_(?:inv_)?[A-Za-z0-9_-]{43}/g;

export interface IssuedSecret {
  /** The raw secret. SECURITY: hand it to the caller once and drop it; never store or log it. */
  readonly secret: string;
  /** Hex SHA-256 of the secret: the only form that is ever persisted. */
  readonly hash: string;
}

function issue(prefix: string, random: RandomBytes): IssuedSecret {
  const bytes = random(SECRET_BYTES);
  if (bytes.length !== SECRET_BYTES) throw new Error(`random source returned ${bytes.length} bytes`);
  const secret = prefix + Buffer.from(bytes).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

export function issueToken(random: RandomBytes = defaultRandomBytes): IssuedSecret {
  return issue(TOKEN_PREFIX, random);
}

export function issueInvitationCode(random: RandomBytes = defaultRandomBytes): IssuedSecret {
  return issue(INVITATION_PREFIX, random);
}

export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

export function isWellFormedInvitationCode(code: string): boolean {
  return INVITATION_PATTERN.test(code);
}

export function isSecretHash(value: string): boolean {
  return HASH_PATTERN.test(value);
}

/**
 * Hex SHA-256 of a token or invitation code. No salt is needed: the secrets carry 256 bits of
 * entropy, so the hash cannot be brute-forced back to the secret.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * SECURITY: compares two stored-form hashes in constant time. Both sides are fixed-length
 * SHA-256 digests, so the comparison never leaks how many leading bytes matched.
 */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  if (left.length !== 32 || right.length !== 32) return false;
  return timingSafeEqual(left, right);
}

/** Random id for members and invitations (not a secret; only needs to be unique). */
export function newId(prefix: string, random: RandomBytes = defaultRandomBytes): string {
  return prefix + Buffer.from(random(9)).toString('base64url');
}
