export { AccessGate, type Admission, type GateOutcome, type GateRequest } from './access-gate.js';
export {
  ANONYMOUS_ACTOR,
  AUDIT_FILE_MODE,
  AuditLog,
  AuditOutcome,
  GENESIS_HASH,
  hashAuditEntry,
  verifyAuditLog,
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  type AuditVerification,
} from './audit-log.js';
export { canonicalJson } from './canonical-json.js';
export {
  VaultError,
  VaultErrorCode,
  forbidden,
  invalidRequest,
  isVaultError,
  unauthenticated,
  type VaultErrorOptions,
} from './errors.js';
export {
  DEFAULT_INVITATION_TTL_MS,
  MAX_INVITATION_TTL_MS,
  MemberRegistry,
  STATE_FILE_NAME,
  parseRegistryState,
  type Invitation,
  type IssuedMemberToken,
  type Member,
  type MemberRegistryOptions,
  type MemberStatus,
  type NewInvitation,
  type NewMember,
} from './member-registry.js';
export { RateLimiter, type Clock, type RateDecision } from './rate-limiter.js';
export {
  BUILT_IN_ROLES,
  Capability,
  MAX_TOP_K_CAP,
  capTopK,
  defineRole,
  hasCapability,
  isBuiltInRoleName,
  type RateLimitPolicy,
  type Role,
  type RoleDefinition,
} from './roles.js';
export { JsonFileStore, STATE_FILE_MODE, writeFileAtomicSync } from './state-store.js';
export {
  INVITATION_PREFIX,
  TOKEN_PREFIX,
  hashSecret,
  hashesEqual,
  isWellFormedInvitationCode,
  isWellFormedToken,
  issueInvitationCode,
  issueToken,
  type IssuedSecret,
  type RandomBytes,
} from './tokens.js';
