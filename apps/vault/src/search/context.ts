import { randomBytes as nodeRandomBytes } from 'node:crypto';
import {
  ScoreDecryptor,
  getParamSet,
  type Engine,
  type PublicKey,
  type SecretKey,
  TEAM_SECRET_BYTES,
} from '@rune/crypto';
import { ReplayGuard, importVerificationKey, type Signer, type VerificationKey } from '@rune/protocol';
import { type AuditLog, AuditOutcome } from '../audit-log.js';
import { VaultError, VaultErrorCode, isVaultError, unauthenticated } from '../errors.js';
import type { Member, MemberRegistry } from '../member-registry.js';
import type { Clock, RateLimiter } from '../rate-limiter.js';
import type { Capability, Role } from '../roles.js';
import type { RandomBytes } from '../tokens.js';
import { LedgerSet } from './record-ledger.js';

/** The key epoch every permit, ticket and ledger carries; bumped by a future key rotation. */
export const KEY_EPOCH = 1;
/** Version of the record-key derivation named in permits (the seal's AAD carries it). */
export const RECORD_KEY_VERSION = 1;
/** Actor of decisions the Vault takes on its own (canary planting), in the audit log. */
export const VAULT_ACTOR = 'vault';

/**
 * Key material the search core needs, injected (loaded and unsealed elsewhere, src/keys/).
 * SECURITY: secretKey and teamSecret never leave this process and never appear in a result,
 * a log line or an error message.
 */
export interface SearchKeyMaterial {
  readonly paramSetId: number;
  readonly secretKey: SecretKey;
  readonly publicKey: PublicKey;
  /** The team metadata secret: HKDF input keying material of every record key. */
  readonly teamSecret: Uint8Array;
  /** The Vault's Ed25519 signer for permits and tickets. */
  readonly signer: Signer;
  /** Ed25519 public keys of the indexes whose results this Vault trusts (raw 32 bytes or imported). */
  readonly indexVerifyKeys: readonly (Uint8Array | VerificationKey)[];
}

/** Bounded, label-safe events for metrics (no member, record or ticket ids). */
export type SearchEvent =
  | { readonly type: 'ticket.issued' }
  | { readonly type: 'permit.issued' }
  | { readonly type: 'result.opened'; readonly blocks: number; readonly decryptMs: number }
  | { readonly type: 'refused'; readonly action: string; readonly code: VaultErrorCode };

export interface SearchDeps {
  readonly keys: SearchKeyMaterial;
  readonly engine: Engine;
  readonly registry: MemberRegistry;
  readonly audit: AuditLog;
  /** Ledgers live under `<dataDir>/search/`. */
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly random?: RandomBytes;
  /**
   * Applies the role's rate limit to ticket and permit issuance. Leave it out when the edge
   * already rate-limits (AccessGate), or a request would cost two tokens.
   */
  readonly limiter?: RateLimiter;
  /** Most outstanding tickets remembered at once (default 10 000). */
  readonly ticketCapacity?: number;
  readonly onEvent?: (event: SearchEvent) => void;
}

/** A ticket this process issued and has not seen expire: what openResult needs besides the wire. */
export interface PendingTicket {
  readonly memberId: string;
  readonly indexId: string;
  /** The unit query exactly as hashed into the ticket; needed for the canary check. */
  readonly query: Float32Array;
  readonly k: number;
  readonly expiresAt: number;
}

export interface SearchContext {
  readonly keys: SearchKeyMaterial;
  readonly engine: Engine;
  readonly registry: MemberRegistry;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly random: RandomBytes;
  readonly limiter: RateLimiter | undefined;
  readonly ledgers: LedgerSet;
  readonly decryptor: ScoreDecryptor;
  /** The Vault's own key, to verify tickets coming back with a result. */
  readonly vaultVerifyKey: VerificationKey;
  readonly indexVerifyKeys: readonly VerificationKey[];
  /**
   * SECURITY: in memory only. A restarted Vault has no pending tickets, so it refuses every ticket
   * issued before it started — the ReplayGuard's memory-only limitation is closed by this map.
   */
  readonly pendingTickets: Map<string, PendingTicket>;
  readonly replayGuard: ReplayGuard;
  readonly ticketCapacity: number;
  readonly emit: (event: SearchEvent) => void;
}

export function createSearchContext(deps: SearchDeps): SearchContext {
  const { keys } = deps;
  getParamSet(keys.paramSetId);
  if (keys.secretKey.paramSetId !== keys.paramSetId || keys.publicKey.paramSetId !== keys.paramSetId) {
    throw new VaultError(VaultErrorCode.INVALID_REQUEST, 'key material mixes parameter sets');
  }
  if (keys.teamSecret.byteLength !== TEAM_SECRET_BYTES) {
    throw new VaultError(VaultErrorCode.INVALID_REQUEST, `team secret must be ${TEAM_SECRET_BYTES} bytes`);
  }
  if (keys.indexVerifyKeys.length === 0) {
    throw new VaultError(VaultErrorCode.INVALID_REQUEST, 'at least one trusted index key is required');
  }
  const clock = deps.clock ?? Date.now;
  const ticketCapacity = deps.ticketCapacity ?? 10_000;
  const onEvent = deps.onEvent;
  return {
    keys,
    engine: deps.engine,
    registry: deps.registry,
    audit: deps.audit,
    clock,
    random: deps.random ?? ((size) => nodeRandomBytes(size)),
    limiter: deps.limiter,
    ledgers: new LedgerSet(deps.dataDir),
    decryptor: ScoreDecryptor.create(deps.engine, keys.secretKey),
    vaultVerifyKey: importVerificationKey(keys.signer.publicKey),
    indexVerifyKeys: keys.indexVerifyKeys.map((k) =>
      k instanceof Uint8Array ? importVerificationKey(k) : k,
    ),
    pendingTickets: new Map(),
    replayGuard: new ReplayGuard({ capacity: ticketCapacity, now: clock }),
    ticketCapacity,
    emit: (event) => {
      try {
        onEvent?.(event);
      } catch {
        // A metrics hook must never change a security decision.
      }
    },
  };
}

/**
 * Re-reads the member (it may have been revoked since the edge authenticated it), then checks
 * the capability. Throws UNAUTHENTICATED or FORBIDDEN with the audit reason.
 */
export function authorizeMember(ctx: SearchContext, member: Member, capability: Capability): Role {
  const current = ctx.registry.getMember(member.id);
  if (current.status !== 'active') {
    throw unauthenticated(`member ${current.status}`, member.id);
  }
  return ctx.registry.authorize(current, capability);
}

export function takeRateLimit(ctx: SearchContext, member: Member, role: Role): void {
  if (ctx.limiter === undefined) return;
  const decision = ctx.limiter.take(member.id, role.rateLimit, ctx.clock());
  if (!decision.isAllowed) {
    throw new VaultError(VaultErrorCode.RATE_LIMITED, 'rate limit exceeded', {
      reason: `rate limit ${role.rateLimit.requestsPerMinute}/min exceeded`,
      memberId: member.id,
      retryAfterMs: decision.retryAfterMs,
    });
  }
}

export interface AuditedAction {
  readonly actor: string;
  readonly action: string;
  readonly target?: string;
}

/**
 * Runs one decision and writes exactly one audit entry for it: allowed with count and latency,
 * or denied with the precise reason. The result is returned only after its entry is durable,
 * so nothing (no record key) leaves the Vault unaudited.
 */
export async function audited<T>(
  ctx: SearchContext,
  what: AuditedAction,
  run: () => T,
  countOf: (result: T) => number | undefined = () => undefined,
): Promise<T> {
  const startMs = ctx.clock();
  const target = what.target === undefined ? {} : { target: what.target };
  let result: T;
  try {
    result = run();
  } catch (err: unknown) {
    const isRefusal = isVaultError(err) && err.code !== VaultErrorCode.STORAGE_FAILED;
    if (isVaultError(err)) ctx.emit({ type: 'refused', action: what.action, code: err.code });
    await ctx.audit.append({
      actor: what.actor,
      action: what.action,
      outcome: isRefusal ? AuditOutcome.DENIED : AuditOutcome.ALLOWED,
      reason: isVaultError(err) ? (err.reason ?? err.code) : 'operation failed',
      latencyMs: ctx.clock() - startMs,
      ...target,
    });
    throw err;
  }
  const count = countOf(result);
  await ctx.audit.append({
    actor: what.actor,
    action: what.action,
    outcome: AuditOutcome.ALLOWED,
    ...(count === undefined ? {} : { count }),
    latencyMs: ctx.clock() - startMs,
    ...target,
  });
  return result;
}

/** A fresh id-safe record id: `rec_` + 16 base64url characters (96 random bits). */
export function newRecordId(random: RandomBytes): string {
  return `rec_${Buffer.from(random(12)).toString('base64url')}`;
}

/** Refusal with a client-safe message and the precise reason kept for the audit log. */
export function refuse(code: VaultErrorCode, message: string, reason: string, cause?: unknown): VaultError {
  return new VaultError(code, message, { reason, ...(cause === undefined ? {} : { cause }) });
}
