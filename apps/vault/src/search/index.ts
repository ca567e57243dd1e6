import type { Member } from '../member-registry.js';
import { type CaptureGrant, issueCapturePermit, registerIndex } from './capture.js';
import {
  type PlantedCanary,
  abandonStaleCanaries,
  canaryDeficit,
  confirmCanaryInsert,
  plantCanaries,
} from './canaries.js';
import { type SearchContext, type SearchDeps, createSearchContext } from './context.js';
import { type ForgetOutcome, forgetRecord } from './forget.js';
import { type RecallHit, issueTicket, openResult } from './search.js';
import { type TermStatsGrant, issueTermStatsGrant } from './term-stats.js';
import type { Envelope } from '@rune/protocol';

export { PERMIT_TTL_MS, type CaptureGrant } from './capture.js';
export {
  CANARY_TOLERANCE,
  MAX_CANARIES_PER_CALL,
  bytesToFloat32,
  float32ToBytes,
  randomUnitVector,
  type PlantedCanary,
} from './canaries.js';
export {
  KEY_EPOCH,
  RECORD_KEY_VERSION,
  VAULT_ACTOR,
  type SearchDeps,
  type SearchEvent,
  type SearchKeyMaterial,
} from './context.js';
export type { ForgetOutcome } from './forget.js';
export { MAX_SLOTS_PER_INDEX, RecordStatus, type LedgerRecord } from './record-ledger.js';
export { TICKET_TTL_MS, plainQueryBytes, type RecallHit } from './search.js';
export { TERM_STATS_GRANT_TTL_MS, deriveTermStatsKey, type TermStatsGrant } from './term-stats.js';

/**
 * The Vault's transport-neutral capture and search core. Every method authorises the member,
 * writes exactly one audit entry per decision and throws VaultError; an HTTP or MCP edge only
 * authenticates the token (MemberRegistry.authenticate), parses, calls, and maps codes.
 */
export interface SearchCore {
  registerIndex(request: { member: Member; indexId: string; dim: number }): ReturnType<typeof registerIndex>;
  issueCapturePermit(request: { member: Member; indexId: string }): Promise<CaptureGrant>;
  plantCanaries(request: { indexId: string; count?: number }): Promise<PlantedCanary[]>;
  confirmCanaryInsert(request: { indexId: string; receipt: unknown }): Promise<void>;
  /** Tombstones canaries whose receipt never came; returns how many. */
  abandonStaleCanaries(request: { indexId: string; olderThanMs: number }): Promise<number>;
  /** Every registered index. */
  indexIds(): string[];
  /** Canaries still needed for about one per block. */
  canaryDeficit(indexId: string): number;
  issueTicket(request: {
    member: Member;
    indexId: string;
    query: Float32Array;
    k: number;
  }): Promise<Envelope<'search-ticket'>>;
  openResult(request: {
    member: Member;
    ticket: unknown;
    result: unknown;
    blocks: readonly Uint8Array[];
  }): Promise<RecallHit[]>;
  forgetRecord(request: { member: Member; indexId: string; recordId: string }): Promise<ForgetOutcome>;
  /** The index's stats key and a read grant for its sealed term-statistics deltas. */
  issueTermStatsGrant(request: { member: Member; indexId: string }): Promise<TermStatsGrant>;
  /** Zeroes the key-derived decryption tables; the core refuses to decrypt afterwards. */
  close(): void;
}

export function createSearchCore(deps: SearchDeps): SearchCore {
  const ctx: SearchContext = createSearchContext(deps);
  return {
    registerIndex: (r) => registerIndex(ctx, r),
    issueCapturePermit: (r) => issueCapturePermit(ctx, r),
    plantCanaries: (r) => plantCanaries(ctx, r),
    confirmCanaryInsert: (r) => confirmCanaryInsert(ctx, r),
    indexIds: () => ctx.ledgers.indexIds(),
    abandonStaleCanaries: (r) => abandonStaleCanaries(ctx, r),
    canaryDeficit: (indexId) => canaryDeficit(ctx, indexId),
    issueTicket: (r) => issueTicket(ctx, r),
    openResult: (r) => openResult(ctx, r),
    forgetRecord: (r) => forgetRecord(ctx, r),
    issueTermStatsGrant: (r) => issueTermStatsGrant(ctx, r),
    close: () => {
      ctx.decryptor.destroy();
    },
  };
}
