import { VaultError, VaultErrorCode, invalidRequest } from './errors.js';

/** What a role may do. Admin holds every capability. */
export const Capability = {
  /** Store new memories (permits for index inserts, record keys for the captured record). */
  CAPTURE: 'capture',
  /** Search (tickets, score decryption, record keys for returned records). */
  RECALL: 'recall',
  /** Add, remove, rotate, revoke members; create invitations; define roles. */
  MANAGE_MEMBERS: 'manage_members',
  /** Read and verify the audit log. */
  READ_AUDIT: 'read_audit',
  /** Export and restore the key set. */
  MANAGE_KEYS: 'manage_keys',
} as const;

export type Capability = (typeof Capability)[keyof typeof Capability];

const ALL_CAPABILITIES: readonly Capability[] = Object.values(Capability);

export interface RateLimitPolicy {
  /** Sustained rate: tokens refilled per minute. */
  readonly requestsPerMinute: number;
  /** Bucket size: requests allowed back to back after an idle period. */
  readonly burst: number;
}

export interface Role {
  readonly name: string;
  readonly capabilities: readonly Capability[];
  /** Largest k a recall may return; larger requests are refused (TOP_K_ABOVE_CAP), never clamped. */
  readonly topKCap: number;
  readonly rateLimit: RateLimitPolicy;
  readonly isBuiltIn: boolean;
}

export type RoleDefinition = Omit<Role, 'isBuiltIn'>;

export const MAX_TOP_K_CAP = 100;
const MAX_REQUESTS_PER_MINUTE = 100_000;
const MAX_BURST = 10_000;
const ROLE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

function builtIn(def: RoleDefinition): Role {
  return Object.freeze({ ...def, capabilities: Object.freeze([...def.capabilities]), isBuiltIn: true });
}

export const BUILT_IN_ROLES: Readonly<Record<'admin' | 'member' | 'reader', Role>> = Object.freeze({
  admin: builtIn({
    name: 'admin',
    capabilities: ALL_CAPABILITIES,
    topKCap: 50,
    rateLimit: { requestsPerMinute: 600, burst: 100 },
  }),
  member: builtIn({
    name: 'member',
    capabilities: [Capability.CAPTURE, Capability.RECALL],
    topKCap: 10,
    rateLimit: { requestsPerMinute: 120, burst: 30 },
  }),
  reader: builtIn({
    name: 'reader',
    capabilities: [Capability.RECALL],
    topKCap: 10,
    rateLimit: { requestsPerMinute: 120, burst: 30 },
  }),
});

export function isBuiltInRoleName(name: string): boolean {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}

function isPositiveInt(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a custom role definition (from an admin request or the state file) and returns a
 * frozen role. Throws INVALID_REQUEST, or CONFLICT for a built-in name.
 */
export function defineRole(input: unknown): Role {
  if (!isRecord(input)) throw invalidRequest('role: expected an object');
  const { name, capabilities, topKCap, rateLimit } = input;
  if (typeof name !== 'string' || !ROLE_NAME.test(name)) {
    throw invalidRequest('role.name: expected 1-32 characters of [a-z0-9_-], starting with a letter');
  }
  if (isBuiltInRoleName(name)) {
    throw new VaultError(VaultErrorCode.CONFLICT, `role "${name}" is built in and cannot be redefined`);
  }
  if (!Array.isArray(capabilities) || capabilities.length === 0) {
    throw invalidRequest('role.capabilities: expected a non-empty list');
  }
  const caps: Capability[] = [];
  for (const cap of capabilities) {
    if (typeof cap !== 'string' || !(ALL_CAPABILITIES as readonly string[]).includes(cap)) {
      throw invalidRequest(`role.capabilities: unknown capability ${JSON.stringify(cap)}`);
    }
    if (caps.includes(cap as Capability)) throw invalidRequest(`role.capabilities: duplicate "${cap}"`);
    caps.push(cap as Capability);
  }
  if (!isPositiveInt(topKCap, MAX_TOP_K_CAP)) {
    throw invalidRequest(`role.topKCap: expected an integer from 1 to ${MAX_TOP_K_CAP}`);
  }
  if (!isRecord(rateLimit)) throw invalidRequest('role.rateLimit: expected an object');
  const { requestsPerMinute, burst } = rateLimit;
  if (!isPositiveInt(requestsPerMinute, MAX_REQUESTS_PER_MINUTE)) {
    throw invalidRequest(
      `role.rateLimit.requestsPerMinute: expected an integer from 1 to ${MAX_REQUESTS_PER_MINUTE}`,
    );
  }
  if (!isPositiveInt(burst, MAX_BURST)) {
    throw invalidRequest(`role.rateLimit.burst: expected an integer from 1 to ${MAX_BURST}`);
  }
  return Object.freeze({
    name,
    capabilities: Object.freeze(caps),
    topKCap,
    rateLimit: Object.freeze({ requestsPerMinute, burst }),
    isBuiltIn: false,
  });
}

export function hasCapability(role: Role, capability: Capability): boolean {
  return role.capabilities.includes(capability);
}
