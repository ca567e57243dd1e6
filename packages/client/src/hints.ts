import type { ServiceName } from './errors.js';

/**
 * Recovery hints for the refusals the services answer with, keyed by their stable codes
 * (apps/vault/src/errors.ts, apps/index/src/errors.ts). A code without an entry gets none.
 */
const VAULT_HINTS: Readonly<Record<string, string>> = {
  UNAUTHENTICATED:
    'the Vault refused your token (revoked, rotated or expired); ask your Vault admin for a new one (rune team rotate)',
  FORBIDDEN: 'your role does not allow this; ask your Vault admin',
  TOP_K_ABOVE_CAP: 'ask for fewer results; your role caps how many one recall may return',
  NOT_FOUND: 'check the record id, and that indexId in your member config names an index this Vault knows',
  TICKET_INVALID: 'retry; if it persists, check that the clocks of your machine and the Vault agree',
  TICKET_REPLAYED: 'retry the recall; each search ticket is used once',
  RESULT_REJECTED:
    'the index answered with a result the Vault could not verify; retry, and tell your Vault admin if it persists',
  SCORE_OUT_OF_RANGE: 'the index returned scores that cannot be genuine; tell your Vault admin',
  CANARY_MISMATCH: 'the index did not score what it stores (possible tampering); tell your Vault admin',
  OVERLOADED: 'the Vault is busy; retry in a few seconds',
  KEYS_LOCKED: 'the Vault cannot open its keys; tell your Vault admin',
  INVALID_REQUEST: 'the Vault refused the request as malformed; check the client and Vault versions match',
  INTERNAL: 'the Vault failed; retry, and tell your Vault admin if it persists',
};

const INDEX_HINTS: Readonly<Record<string, string>> = {
  INDEX_NOT_FOUND: 'check indexId and indexUrl in your member config',
  UNAUTHENTICATED:
    'the index does not trust the Vault key that signed this request; check both use the same Vault, and their clocks',
  FORBIDDEN:
    'the index refused the permit or ticket for this request; retry, and check indexId in your config',
  REPLAYED: 'retry; each ticket and permit is used once',
  SHAPE_MISMATCH: 'records were added while you searched; retry the recall',
  SLOT_OCCUPIED: 'retry the capture with a new permit',
  DUPLICATE_RECORD: 'retry the capture with a new permit',
  RECORD_NOT_FOUND: 'the record is already gone from the index',
  STORAGE_FAILED: 'the index cannot write; tell its operator',
  STORAGE_CORRUPT: 'the index found corrupt data; tell its operator',
  OVERLOADED: 'the index is busy; retry in a few seconds',
  PAYLOAD_TOO_LARGE: 'shorten the memory, or raise the index body limit',
  INTERNAL: 'the index failed; retry, and tell its operator if it persists',
};

export function hintFor(service: ServiceName, code: string, retryAfterMs?: number): string | undefined {
  if (code === 'RATE_LIMITED') {
    const seconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
    return seconds === undefined ? 'slow down and retry shortly' : `slow down; retry in ${seconds} s`;
  }
  return (service === 'vault' ? VAULT_HINTS : INDEX_HINTS)[code];
}
