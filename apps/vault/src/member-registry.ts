import { join } from 'node:path';
import { VaultError, VaultErrorCode, forbidden, invalidRequest, unauthenticated } from './errors.js';
import type { Clock } from './rate-limiter.js';
import { BUILT_IN_ROLES, type Capability, type Role, defineRole, hasCapability } from './roles.js';
import { JsonFileStore } from './state-store.js';
import {
  type RandomBytes,
  defaultRandomBytes,
  hashSecret,
  hashesEqual,
  isSecretHash,
  isWellFormedInvitationCode,
  isWellFormedToken,
  issueInvitationCode,
  issueToken,
  newId,
} from './tokens.js';

export const STATE_FILE_NAME = 'vault-state.json';
const STATE_VERSION = 1;
/** Rotated-away hashes kept per member so the audit log can name reuse of an old token. */
const RETIRED_HASHES_KEPT = 5;
export const DEFAULT_INVITATION_TTL_MS = 72 * 3_600_000;
export const MAX_INVITATION_TTL_MS = 30 * 24 * 3_600_000;

/** Persisted form. SECURITY: holds only SHA-256 hashes of tokens and codes, never the secrets. */
interface MemberRecord {
  id: string;
  name: string;
  email: string;
  role: string;
  createdAt: number;
  expiresAt?: number;
  revokedAt?: number;
  tokenHash: string;
  tokenIssuedAt: number;
  retiredTokenHashes: string[];
}

interface InvitationRecord {
  id: string;
  codeHash: string;
  role: string;
  createdAt: number;
  expiresAt: number;
  memberExpiresAt?: number;
  redeemedAt?: number;
  redeemedBy?: string;
}

interface RegistryState {
  version: typeof STATE_VERSION;
  members: MemberRecord[];
  invitations: InvitationRecord[];
  roles: Omit<Role, 'isBuiltIn'>[];
}

export type MemberStatus = 'active' | 'revoked' | 'expired';

/** What callers see of a member: no token material, not even its hash. */
export interface Member {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly role: string;
  readonly createdAt: number;
  readonly tokenIssuedAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  readonly status: MemberStatus;
}

export interface Invitation {
  readonly id: string;
  readonly role: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly memberExpiresAt?: number;
  readonly redeemedAt?: number;
  readonly redeemedBy?: string;
}

/** A freshly issued token. SECURITY: the only time the raw token exists outside the member's hands. */
export interface IssuedMemberToken {
  readonly member: Member;
  readonly token: string;
}

export interface NewMember {
  name: string;
  email: string;
  role: string;
  /** Epoch ms after which the token stops working. */
  expiresAt?: number;
}

export interface NewInvitation {
  role: string;
  /** How long the code can be redeemed; default 72 h, at most 30 days. */
  ttlMs?: number;
  /** Expiry of the member the code creates. */
  memberExpiresAt?: number;
}

export interface MemberRegistryOptions {
  dataDir: string;
  clock?: Clock;
  random?: RandomBytes;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function fail(path: string, expected: string): never {
  throw new Error(`${path}: expected ${expected}`);
}

function asRecord(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object');
  return value as Record<string, unknown>;
}

function str(obj: Record<string, unknown>, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0) fail(`${path}.${key}`, 'a non-empty string');
  return v;
}

function hash(obj: Record<string, unknown>, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || !isSecretHash(v)) fail(`${path}.${key}`, '64 lowercase hex characters');
  return v;
}

function time(obj: Record<string, unknown>, key: string, path: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(`${path}.${key}`, 'an epoch-ms integer');
  return v;
}

function optTime(obj: Record<string, unknown>, key: string, path: string): { [k: string]: number } {
  return obj[key] === undefined ? {} : { [key]: time(obj, key, path) };
}

function list(obj: Record<string, unknown>, key: string, path: string): unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) fail(`${path}.${key}`, 'an array');
  return v;
}

/** Parse boundary for the state file: every field is checked, nothing is defaulted. */
export function parseRegistryState(raw: unknown): RegistryState {
  const root = asRecord(raw, 'state');
  if (root.version !== STATE_VERSION) fail('state.version', String(STATE_VERSION));
  const roles = list(root, 'roles', 'state').map((r, i) => {
    try {
      const role = defineRole(r);
      return {
        name: role.name,
        capabilities: role.capabilities,
        topKCap: role.topKCap,
        rateLimit: role.rateLimit,
      };
    } catch (err: unknown) {
      throw new Error(`state.roles[${i}]: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  });
  const roleNames = new Set([...Object.keys(BUILT_IN_ROLES), ...roles.map((r) => r.name)]);
  const roleOf = (obj: Record<string, unknown>, path: string): string => {
    const name = str(obj, 'role', path);
    if (!roleNames.has(name)) fail(`${path}.role`, `a defined role, got "${name}"`);
    return name;
  };
  const members = list(root, 'members', 'state').map((m, i): MemberRecord => {
    const p = `state.members[${i}]`;
    const o = asRecord(m, p);
    return {
      id: str(o, 'id', p),
      name: str(o, 'name', p),
      email: str(o, 'email', p),
      role: roleOf(o, p),
      createdAt: time(o, 'createdAt', p),
      ...optTime(o, 'expiresAt', p),
      ...optTime(o, 'revokedAt', p),
      tokenHash: hash(o, 'tokenHash', p),
      tokenIssuedAt: time(o, 'tokenIssuedAt', p),
      retiredTokenHashes: list(o, 'retiredTokenHashes', p).map((h, j) =>
        typeof h === 'string' && isSecretHash(h) ? h : fail(`${p}.retiredTokenHashes[${j}]`, 'a hash'),
      ),
    };
  });
  const invitations = list(root, 'invitations', 'state').map((v, i): InvitationRecord => {
    const p = `state.invitations[${i}]`;
    const o = asRecord(v, p);
    return {
      id: str(o, 'id', p),
      codeHash: hash(o, 'codeHash', p),
      role: roleOf(o, p),
      createdAt: time(o, 'createdAt', p),
      expiresAt: time(o, 'expiresAt', p),
      ...optTime(o, 'memberExpiresAt', p),
      ...optTime(o, 'redeemedAt', p),
      ...(o.redeemedBy === undefined ? {} : { redeemedBy: str(o, 'redeemedBy', p) }),
    };
  });
  // Duplicates would make authentication or lookups ambiguous; treat them as corruption.
  const seen = new Set<string>();
  for (const [i, key] of [
    ...members.flatMap((m) => [m.id, `email:${m.email}`, `hash:${m.tokenHash}`]),
    ...invitations.flatMap((v) => [v.id, `hash:${v.codeHash}`]),
  ].entries()) {
    if (seen.has(key))
      fail(`state (entry ${i})`, `unique ids, emails and hashes; "${key.slice(0, 12)}…" repeats`);
    seen.add(key);
  }
  return { version: STATE_VERSION, members, invitations, roles };
}

function emptyState(): RegistryState {
  return { version: STATE_VERSION, members: [], invitations: [], roles: [] };
}

function toMember(r: MemberRecord, now: number): Member {
  const status: MemberStatus =
    r.revokedAt !== undefined
      ? 'revoked'
      : r.expiresAt !== undefined && now >= r.expiresAt
        ? 'expired'
        : 'active';
  return Object.freeze({
    id: r.id,
    name: r.name,
    email: r.email,
    role: r.role,
    createdAt: r.createdAt,
    tokenIssuedAt: r.tokenIssuedAt,
    ...(r.expiresAt === undefined ? {} : { expiresAt: r.expiresAt }),
    ...(r.revokedAt === undefined ? {} : { revokedAt: r.revokedAt }),
    status,
  });
}

function toInvitation(r: InvitationRecord): Invitation {
  return Object.freeze({
    id: r.id,
    role: r.role,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    ...(r.memberExpiresAt === undefined ? {} : { memberExpiresAt: r.memberExpiresAt }),
    ...(r.redeemedAt === undefined ? {} : { redeemedAt: r.redeemedAt }),
    ...(r.redeemedBy === undefined ? {} : { redeemedBy: r.redeemedBy }),
  });
}

/**
 * Members, roles and invitations, persisted to `<dataDir>/vault-state.json`. Every mutation
 * builds the next state, writes it durably, and only then replaces the in-memory state, so a
 * failed write leaves both unchanged.
 */
export class MemberRegistry {
  readonly #store: JsonFileStore<RegistryState>;
  readonly #clock: Clock;
  readonly #random: RandomBytes;
  #state: RegistryState;

  private constructor(
    store: JsonFileStore<RegistryState>,
    state: RegistryState,
    clock: Clock,
    random: RandomBytes,
  ) {
    this.#store = store;
    this.#state = state;
    this.#clock = clock;
    this.#random = random;
  }

  /** Loads the registry, or starts an empty one when no state file exists. STATE_CORRUPT on a bad file. */
  static open(options: MemberRegistryOptions): MemberRegistry {
    const store = new JsonFileStore(join(options.dataDir, STATE_FILE_NAME), parseRegistryState);
    const state = store.load() ?? emptyState();
    return new MemberRegistry(store, state, options.clock ?? Date.now, options.random ?? defaultRandomBytes);
  }

  get statePath(): string {
    return this.#store.path;
  }

  // ---- roles ----

  getRole(name: string): Role {
    if (Object.hasOwn(BUILT_IN_ROLES, name)) return BUILT_IN_ROLES[name as keyof typeof BUILT_IN_ROLES];
    const def = this.#state.roles.find((r) => r.name === name);
    if (def === undefined) throw new VaultError(VaultErrorCode.NOT_FOUND, `no role "${name}"`);
    return defineRole(def);
  }

  listRoles(): Role[] {
    return [...Object.values(BUILT_IN_ROLES), ...this.#state.roles.map((r) => defineRole(r))];
  }

  /** Adds or replaces a custom role; built-in roles cannot be redefined. */
  defineRole(input: unknown): Role {
    const role = defineRole(input);
    const def = {
      name: role.name,
      capabilities: role.capabilities,
      topKCap: role.topKCap,
      rateLimit: role.rateLimit,
    };
    this.#commit({ ...this.#state, roles: [...this.#state.roles.filter((r) => r.name !== role.name), def] });
    return role;
  }

  /** Removes a custom role; CONFLICT while any member or open invitation still uses it. */
  removeRole(name: string): void {
    if (!this.#state.roles.some((r) => r.name === name)) {
      throw new VaultError(VaultErrorCode.NOT_FOUND, `no custom role "${name}"`);
    }
    const inUse =
      this.#state.members.some((m) => m.role === name) ||
      this.#state.invitations.some((i) => i.role === name && i.redeemedAt === undefined);
    if (inUse) throw new VaultError(VaultErrorCode.CONFLICT, `role "${name}" is still assigned`);
    this.#commit({ ...this.#state, roles: this.#state.roles.filter((r) => r.name !== name) });
  }

  // ---- members ----

  /** Creates a member and returns its token. SECURITY: the token is returned here once and never again. */
  addMember(input: NewMember): IssuedMemberToken {
    const now = this.#clock();
    const { record, token } = this.#newMember(input, now);
    this.#commit({ ...this.#state, members: [...this.#state.members, record] });
    return { member: toMember(record, now), token };
  }

  listMembers(): Member[] {
    const now = this.#clock();
    return this.#state.members.map((m) => toMember(m, now));
  }

  getMember(id: string): Member {
    return toMember(this.#record(id), this.#clock());
  }

  /** Deletes a member; its token stops working at once. */
  removeMember(id: string): void {
    this.#record(id);
    this.#commit({ ...this.#state, members: this.#state.members.filter((m) => m.id !== id) });
  }

  /** Issues a new token; the old one is refused from this moment. Returned once. */
  rotateToken(id: string): IssuedMemberToken {
    const now = this.#clock();
    const current = this.#record(id);
    if (current.revokedAt !== undefined) {
      throw new VaultError(VaultErrorCode.CONFLICT, `member ${id} is revoked; add them again instead`);
    }
    const issued = issueToken(this.#random);
    const next: MemberRecord = {
      ...current,
      tokenHash: issued.hash,
      tokenIssuedAt: now,
      retiredTokenHashes: [current.tokenHash, ...current.retiredTokenHashes].slice(0, RETIRED_HASHES_KEPT),
    };
    this.#replace(next);
    return { member: toMember(next, now), token: issued.secret };
  }

  /** Revokes a member's access for good while keeping the record for the audit trail. */
  revokeMember(id: string): Member {
    const now = this.#clock();
    const current = this.#record(id);
    if (current.revokedAt !== undefined) return toMember(current, now);
    const next: MemberRecord = { ...current, revokedAt: now };
    this.#replace(next);
    return toMember(next, now);
  }

  setRole(id: string, role: string): Member {
    this.getRole(role);
    const next: MemberRecord = { ...this.#record(id), role };
    this.#replace(next);
    return toMember(next, this.#clock());
  }

  // ---- invitations ----

  /** Creates a one-time invitation code. SECURITY: the code is returned once; only its hash is kept. */
  createInvitation(input: NewInvitation): { invitation: Invitation; code: string } {
    const now = this.#clock();
    this.getRole(input.role);
    const ttlMs = input.ttlMs ?? DEFAULT_INVITATION_TTL_MS;
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_INVITATION_TTL_MS) {
      throw invalidRequest(`ttlMs: expected an integer from 1 to ${MAX_INVITATION_TTL_MS}`);
    }
    if (
      input.memberExpiresAt !== undefined &&
      (!Number.isSafeInteger(input.memberExpiresAt) || input.memberExpiresAt <= now + ttlMs)
    ) {
      throw invalidRequest('memberExpiresAt: expected an epoch-ms time after the invitation expires');
    }
    const issued = issueInvitationCode(this.#random);
    const record: InvitationRecord = {
      id: newId('inv_', this.#random),
      codeHash: issued.hash,
      role: input.role,
      createdAt: now,
      expiresAt: now + ttlMs,
      ...(input.memberExpiresAt === undefined ? {} : { memberExpiresAt: input.memberExpiresAt }),
    };
    this.#commit({ ...this.#state, invitations: [...this.#state.invitations, record] });
    return { invitation: toInvitation(record), code: issued.secret };
  }

  listInvitations(): Invitation[] {
    return this.#state.invitations.map(toInvitation);
  }

  /**
   * Exchanges an invitation code for a new member and token. The code dies in the same durable
   * write that creates the member, so it can be exchanged exactly once.
   */
  redeemInvitation(code: string, who: { name: string; email: string }): IssuedMemberToken {
    const now = this.#clock();
    if (!isWellFormedInvitationCode(code)) throw unauthenticated('malformed invitation code');
    const codeHash = hashSecret(code);
    let found: InvitationRecord | undefined;
    for (const inv of this.#state.invitations) {
      // SECURITY: constant-time compare and no early exit, so timing reveals no partial match.
      if (hashesEqual(inv.codeHash, codeHash)) found = inv;
    }
    if (found === undefined) throw unauthenticated('unknown invitation code');
    if (found.redeemedAt !== undefined) throw unauthenticated(`invitation ${found.id} already used`);
    if (now >= found.expiresAt) throw unauthenticated(`invitation ${found.id} expired`);
    const { record, token } = this.#newMember(
      {
        ...who,
        role: found.role,
        ...(found.memberExpiresAt === undefined ? {} : { expiresAt: found.memberExpiresAt }),
      },
      now,
    );
    const invId = found.id;
    // One durable write creates the member and spends the code: no crash can leave both usable.
    this.#commit({
      ...this.#state,
      members: [...this.#state.members, record],
      invitations: this.#state.invitations.map((i) =>
        i.id === invId ? { ...i, redeemedAt: now, redeemedBy: record.id } : i,
      ),
    });
    return { member: toMember(record, now), token };
  }

  // ---- authentication and authorisation ----

  /**
   * Resolves a token to its member, or throws UNAUTHENTICATED with the audit `reason`
   * (malformed / unknown / rotated / revoked / expired).
   */
  authenticate(token: string, now: number = this.#clock()): Member {
    if (!isWellFormedToken(token)) throw unauthenticated('malformed token');
    const tokenHash = hashSecret(token);
    let current: MemberRecord | undefined;
    let retired: MemberRecord | undefined;
    // SECURITY: every stored hash is compared in constant time and the loop never exits early,
    // so timing reveals only the member count, not whether or where a token matched.
    for (const m of this.#state.members) {
      if (hashesEqual(m.tokenHash, tokenHash)) current = m;
      for (const old of m.retiredTokenHashes) if (hashesEqual(old, tokenHash)) retired = m;
    }
    if (current === undefined) {
      if (retired !== undefined) throw unauthenticated('rotated-away token', retired.id);
      throw unauthenticated('unknown token');
    }
    if (current.revokedAt !== undefined) throw unauthenticated('token revoked', current.id);
    if (current.expiresAt !== undefined && now >= current.expiresAt) {
      throw unauthenticated('member expired', current.id);
    }
    return toMember(current, now);
  }

  /** Throws FORBIDDEN (with the missing capability as reason) unless the member's role grants it. */
  authorize(member: Member, capability: Capability): Role {
    const role = this.getRole(member.role);
    if (!hasCapability(role, capability)) {
      throw forbidden(`role "${role.name}" lacks capability "${capability}"`, member.id);
    }
    return role;
  }

  // ---- internals ----

  /** Validates a new member and mints its token, without committing. */
  #newMember(input: NewMember, now: number): { record: MemberRecord; token: string } {
    const name = input.name.trim();
    const email = input.email.trim().toLowerCase();
    if (name.length === 0 || name.length > 200) throw invalidRequest('name: expected 1-200 characters');
    if (!EMAIL.test(email) || email.length > 320) throw invalidRequest('email: expected an email address');
    this.getRole(input.role);
    if (input.expiresAt !== undefined && (!Number.isSafeInteger(input.expiresAt) || input.expiresAt <= now)) {
      throw invalidRequest('expiresAt: expected a future epoch-ms time');
    }
    if (this.#state.members.some((m) => m.email === email)) {
      throw new VaultError(VaultErrorCode.CONFLICT, `a member with email ${email} already exists`);
    }
    const issued = issueToken(this.#random);
    const record: MemberRecord = {
      id: newId('mem_', this.#random),
      name,
      email,
      role: input.role,
      createdAt: now,
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
      tokenHash: issued.hash,
      tokenIssuedAt: now,
      retiredTokenHashes: [],
    };
    return { record, token: issued.secret };
  }

  #record(id: string): MemberRecord {
    const record = this.#state.members.find((m) => m.id === id);
    if (record === undefined) throw new VaultError(VaultErrorCode.NOT_FOUND, `no member ${id}`);
    return record;
  }

  #replace(next: MemberRecord): void {
    this.#commit({ ...this.#state, members: this.#state.members.map((m) => (m.id === next.id ? next : m)) });
  }

  /** Durable first, then in memory: a failed write throws and changes nothing. */
  #commit(next: RegistryState): void {
    this.#store.save(next);
    this.#state = next;
  }
}
