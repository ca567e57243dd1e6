import { hkdfSync } from 'node:crypto';
import { type Envelope, newNonce, signEnvelope } from '@rune/protocol';
import type { Member } from '../member-registry.js';
import { Capability, type Role } from '../roles.js';
import { type SearchContext, audited, authorizeMember, takeRateLimit } from './context.js';

/** A grant lets its holder read sealed deltas at the index for this long; refreshed on expiry. */
export const TERM_STATS_GRANT_TTL_MS = 10 * 60_000;
export const TERM_STATS_KEY_BYTES = 32;
/**
 * HKDF salt and info prefix of the stats key. CHANGING THEM CHANGES EVERY INDEX'S STATS KEY (every
 * stored delta becomes unreadable): bump the version and keep the old derivation instead.
 */
export const TERM_STATS_KEY_INFO_PREFIX = 'rune/term-stats/v1';

export interface TermStatsGrant {
  /** Read access to the index's sealed deltas, verified by the index. */
  readonly grant: Envelope<'term-stats-grant'>;
  /**
   * K_stats, 32 bytes. SECURITY: the same for every member of the index (the counts are team-wide);
   * released only to members who may capture or recall, never logged.
   */
  readonly statsKey: Uint8Array;
}

/**
 * K_stats = HKDF-SHA256(ikm = team metadata secret, salt = "rune/term-stats/v1",
 * info = "rune/term-stats/v1" ‖ 0x00 ‖ UTF-8(index id), L = 32). Deterministic per index, so a
 * restarted or restored Vault hands out the key that opens every delta already stored.
 */
export function deriveTermStatsKey(teamSecret: Uint8Array, indexId: string): Uint8Array {
  const info = Buffer.concat([
    Buffer.from(TERM_STATS_KEY_INFO_PREFIX, 'utf8'),
    Buffer.from([0]),
    Buffer.from(indexId, 'utf8'),
  ]);
  return new Uint8Array(
    hkdfSync(
      'sha256',
      teamSecret,
      Buffer.from(TERM_STATS_KEY_INFO_PREFIX, 'utf8'),
      info,
      TERM_STATS_KEY_BYTES,
    ),
  );
}

/**
 * Hands a member who may capture or recall the index's stats key and a short-lived read grant for
 * the index. Audited as `term-stats.grant`; charged one token of the role's rate limit.
 */
export async function issueTermStatsGrant(
  ctx: SearchContext,
  request: { member: Member; indexId: string },
): Promise<TermStatsGrant> {
  const { member, indexId } = request;
  return audited(ctx, { actor: member.id, action: 'term-stats.grant', target: indexId }, () => {
    const role = authorizeCaptureOrRecall(ctx, member);
    takeRateLimit(ctx, member, role);
    const ledger = ctx.ledgers.get(indexId);
    const nowMs = ctx.clock();
    const grant = signEnvelope(
      'term-stats-grant',
      {
        v: 1,
        indexId: ledger.indexId,
        epoch: ledger.epoch,
        issuedAt: nowMs,
        expiresAt: nowMs + TERM_STATS_GRANT_TTL_MS,
        nonce: newNonce(ctx.random),
      },
      ctx.keys.signer,
    );
    return { grant, statsKey: deriveTermStatsKey(ctx.keys.teamSecret, ledger.indexId) };
  });
}

/** A reader (recall only) needs the counts to embed queries; a writer needs them to publish. */
function authorizeCaptureOrRecall(ctx: SearchContext, member: Member): Role {
  try {
    return authorizeMember(ctx, member, Capability.RECALL);
  } catch (recallRefusal: unknown) {
    try {
      return authorizeMember(ctx, member, Capability.CAPTURE);
    } catch {
      throw recallRefusal;
    }
  }
}
