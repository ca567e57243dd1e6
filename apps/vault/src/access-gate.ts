import { ANONYMOUS_ACTOR, type AuditLog, AuditOutcome } from './audit-log.js';
import { VaultError, VaultErrorCode, isVaultError } from './errors.js';
import type { Member, MemberRegistry } from './member-registry.js';
import type { Clock, RateLimiter } from './rate-limiter.js';
import type { Capability, Role } from './roles.js';

export interface GateRequest {
  /** The bearer token as presented. SECURITY: used only to authenticate; never logged or stored. */
  readonly token: string;
  readonly capability: Capability;
  /** Audit action name, e.g. "recall" or "member.add". */
  readonly action: string;
  /** Object acted on, when not the actor (member or invitation id). */
  readonly target?: string;
}

export interface Admission {
  readonly member: Member;
  readonly role: Role;
}

export interface GateOutcome<T> {
  readonly result: T;
  /** Items returned or written, for the audit entry. */
  readonly count?: number;
}

/**
 * The one door every authenticated operation goes through: authenticate, authorise, rate
 * limit, run, and write exactly one audit entry for the decision — denied with its precise
 * reason, or allowed with count and latency. Transport-neutral: HTTP maps the thrown VaultError.
 */
export class AccessGate {
  readonly #registry: MemberRegistry;
  readonly #limiter: RateLimiter;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(deps: { registry: MemberRegistry; limiter: RateLimiter; audit: AuditLog; clock?: Clock }) {
    this.#registry = deps.registry;
    this.#limiter = deps.limiter;
    this.#audit = deps.audit;
    this.#clock = deps.clock ?? Date.now;
  }

  async run<T>(
    request: GateRequest,
    operation: (admission: Admission) => Promise<GateOutcome<T>>,
  ): Promise<T> {
    const startMs = this.#clock();
    const target = request.target === undefined ? {} : { target: request.target };
    let admission: Admission;
    try {
      admission = this.#admit(request, startMs);
    } catch (err: unknown) {
      const actor = isVaultError(err) ? (err.memberId ?? ANONYMOUS_ACTOR) : ANONYMOUS_ACTOR;
      const reason = isVaultError(err) ? (err.reason ?? err.code) : 'internal error';
      await this.#audit.append({
        actor,
        action: request.action,
        outcome: AuditOutcome.DENIED,
        reason,
        ...target,
      });
      throw err;
    }
    const actor = admission.member.id;
    let outcome: GateOutcome<T>;
    try {
      outcome = await operation(admission);
    } catch (err: unknown) {
      // The operation itself refused (bad input, conflict) or failed; record which, then rethrow.
      const isRefusal = isVaultError(err) && err.code !== VaultErrorCode.STORAGE_FAILED;
      await this.#audit.append({
        actor,
        action: request.action,
        outcome: isRefusal ? AuditOutcome.DENIED : AuditOutcome.ALLOWED,
        reason: isVaultError(err) ? (err.reason ?? err.code) : 'operation failed',
        latencyMs: this.#clock() - startMs,
        ...target,
      });
      throw err;
    }
    await this.#audit.append({
      actor,
      action: request.action,
      outcome: AuditOutcome.ALLOWED,
      ...(outcome.count === undefined ? {} : { count: outcome.count }),
      latencyMs: this.#clock() - startMs,
      ...target,
    });
    return outcome.result;
  }

  #admit(request: GateRequest, nowMs: number): Admission {
    const member = this.#registry.authenticate(request.token, nowMs);
    const role = this.#registry.authorize(member, request.capability);
    const decision = this.#limiter.take(member.id, role.rateLimit, nowMs);
    if (!decision.isAllowed) {
      throw new VaultError(VaultErrorCode.RATE_LIMITED, 'rate limit exceeded', {
        reason: `rate limit ${role.rateLimit.requestsPerMinute}/min exceeded`,
        memberId: member.id,
        retryAfterMs: decision.retryAfterMs,
      });
    }
    return { member, role };
  }
}
