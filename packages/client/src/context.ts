import type { Engine, PublicKey } from '@rune/crypto';
import type { Embedder } from '@rune/embed';
import {
  isProtocolError,
  verifyEnvelope,
  type MessageKind,
  type PayloadOf,
  type VerificationKey,
} from '@rune/protocol';
import type { JsonHttpClient } from './http.js';
import type { MemberConfig } from './member-config.js';
import type { RecordIdPool } from './record-id-pool.js';
import { responseInvalid } from './wire.js';

/** What the capture, recall and forget flows share; built once by RuneClient.connect. */
export interface ClientContext {
  readonly config: MemberConfig;
  /** Carries the member's bearer token. */
  readonly vault: JsonHttpClient;
  /** SECURITY: carries no token; the index authorises by the Vault's permits and tickets. */
  readonly index: JsonHttpClient;
  /** The pinned, verified EncKey. */
  readonly publicKey: PublicKey;
  /** The Vault's Ed25519 key, from the verified published key (its keyId is pinned). */
  readonly vaultKey: VerificationKey;
  /** The index's receipt key, when the config pins one. */
  readonly indexKey: VerificationKey | undefined;
  /** Created on first capture: recall and forget never encrypt. */
  readonly engine: () => Engine;
  readonly embedder: Embedder;
  /** Wall clock, ms since the Unix epoch: record timestamps. */
  readonly clock: () => number;
  /** Monotonic ms: step timings. */
  readonly monotonicMs: () => number;
  readonly seenIds: RecordIdPool;
}

/** Path of an index route; ids are [A-Za-z0-9_-] already, encoding is defence in depth. */
export function indexPath(ctx: ClientContext, suffix: string): string {
  return `/v1/indexes/${encodeURIComponent(ctx.config.indexId)}${suffix}`;
}

/**
 * Verifies a Vault-signed permit and returns its payload.
 *
 * SECURITY: this checks who signed the permit and what it binds (index, record, key version). Its
 * validity window is enforced by the index, which consumes it; checking it here too would only
 * make captures fail on a laptop whose clock is off by more than the allowed skew.
 */
export function verifyFromVault<K extends MessageKind>(
  ctx: ClientContext,
  kind: K,
  envelope: unknown,
): PayloadOf<K> {
  try {
    return verifyEnvelope(kind, envelope, ctx.vaultKey, { now: issuedAtOf(envelope) ?? ctx.clock() });
  } catch (err: unknown) {
    if (isProtocolError(err)) throw responseInvalid('vault', `${kind} refused: ${err.message}`, err);
    throw err;
  }
}

function issuedAtOf(envelope: unknown): number | undefined {
  if (typeof envelope !== 'object' || envelope === null || !('payload' in envelope)) return undefined;
  const payload = envelope.payload;
  if (typeof payload !== 'object' || payload === null || !('issuedAt' in payload)) return undefined;
  return Number.isSafeInteger(payload.issuedAt) ? Number(payload.issuedAt) : undefined;
}
