import {
  ProtocolError,
  verifyEnvelope,
  type MessageKind,
  type PayloadOf,
  type VerificationKey,
} from '@rune/protocol';
import { IndexError } from '../errors.js';

/**
 * Verifies a Vault-signed permit or ticket. Every wire-side refusal becomes UNAUTHENTICATED with
 * the protocol error as its cause: the transport logs the reason and tells the client nothing more.
 */
export function verifyFromVault<K extends MessageKind>(
  kind: K,
  envelope: unknown,
  vaultKeys: readonly VerificationKey[],
  now: number,
): PayloadOf<K> {
  try {
    return verifyEnvelope(kind, envelope, vaultKeys, { now });
  } catch (err: unknown) {
    if (err instanceof ProtocolError && err.code !== 'INVALID_ARGUMENT') {
      throw new IndexError('UNAUTHENTICATED', `${kind} refused`, { cause: err });
    }
    throw err;
  }
}

/** SECURITY: a verified permit or ticket binds one index, epoch and shape; anything else is refused. */
export function requireMatch(what: string, field: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) {
    throw new IndexError('FORBIDDEN', `${what} is for ${field} ${String(actual)}, not ${String(expected)}`);
  }
}
