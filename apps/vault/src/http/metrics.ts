import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VaultErrorCode } from '../errors.js';
import type { SearchEvent } from '../search/index.js';

/** Bounded refusal reasons (DESIGN §5); every other refusal code is left uncounted here. */
export const REFUSAL_REASONS = ['replay', 'signature', 'shape', 'range', 'canary', 'cap'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const REFUSAL_OF: Partial<Record<VaultErrorCode, RefusalReason>> = {
  [VaultErrorCode.TICKET_REPLAYED]: 'replay',
  [VaultErrorCode.TICKET_INVALID]: 'signature',
  [VaultErrorCode.RESULT_REJECTED]: 'signature',
  [VaultErrorCode.INVALID_REQUEST]: 'shape',
  [VaultErrorCode.SCORE_OUT_OF_RANGE]: 'range',
  [VaultErrorCode.CANARY_MISMATCH]: 'canary',
  [VaultErrorCode.TOP_K_ABOVE_CAP]: 'cap',
};

export function refusalReasonOf(code: VaultErrorCode): RefusalReason | undefined {
  return REFUSAL_OF[code];
}

/** Sources the collect-time gauges read; filled in by createVaultApp. */
export interface MetricSources {
  healthStatus: () => Promise<number>;
  cpuPercent: () => number;
  /** Host memory in use, percent (what the health check compares with its threshold). */
  memoryPercent: () => number;
  /** Use of the filesystem holding the data directory, percent. */
  diskPercent: () => Promise<number>;
  auditSeq: () => number;
}

/**
 * The Vault's metrics on their own prom-client Registry (never the global one). Labels are bounded:
 * route templates, fixed status/key-type/reason sets; never a member, token or record id.
 */
export interface VaultMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'endpoint' | 'status'>;
  readonly requestDuration: Histogram<'method' | 'endpoint'>;
  readonly decryptions: Counter<'status'>;
  readonly decryptionDuration: Histogram;
  readonly keyAccess: Counter<'key_type' | 'status'>;
  readonly ticketsIssued: Counter;
  readonly refusals: Counter<'reason'>;
  readonly rateLimited: Counter;
  /** Wire this into SearchDeps.onEvent so core decisions show up here. */
  readonly onSearchEvent: (event: SearchEvent) => void;
  /** Called once by createVaultApp; until then the collect-time gauges report 0. */
  bindSources(sources: MetricSources): void;
}

export function createVaultMetrics(registry: Registry = new Registry()): VaultMetrics {
  let sources: MetricSources | undefined;
  const startMs = Date.now();
  const registers = [registry];

  new Gauge({
    name: 'vault_health_status',
    help: '1 when every health check passes, 0 otherwise',
    registers,
    async collect() {
      this.set(sources === undefined ? 0 : await sources.healthStatus());
    },
  });
  new Gauge({
    name: 'vault_cpu_usage_percent',
    help: 'Host CPU use since the previous sample, percent',
    registers,
    collect() {
      this.set(sources?.cpuPercent() ?? 0);
    },
  });
  new Gauge({
    name: 'vault_memory_usage_bytes',
    help: 'Resident set size of the Vault process',
    registers,
    collect() {
      this.set(process.memoryUsage().rss);
    },
  });
  // Percent gauges beside the byte gauge, so alerts compare with the same numbers /health uses.
  new Gauge({
    name: 'vault_memory_usage_percent',
    help: 'Host memory in use, percent',
    registers,
    collect() {
      this.set(sources?.memoryPercent() ?? 0);
    },
  });
  new Gauge({
    name: 'vault_disk_usage_percent',
    help: 'Use of the filesystem holding the data directory, percent',
    registers,
    async collect() {
      // -1 (as /status reports) rather than 0, so a failing statfs is not read as an empty disk.
      this.set(sources === undefined ? 0 : await sources.diskPercent().catch(() => -1));
    },
  });
  new Gauge({
    name: 'vault_uptime_seconds',
    help: 'Seconds since the Vault metrics were created',
    registers,
    collect() {
      this.set((Date.now() - startMs) / 1000);
    },
  });
  // Follows the audit head (entries in the hash-chained log), so entries written by any component,
  // and before the first scrape, are all counted.
  let seenSeq = 0;
  new Counter({
    name: 'vault_audit_entries_total',
    help: 'Entries in the hash-chained audit log',
    registers,
    collect() {
      const seq = sources?.auditSeq() ?? seenSeq;
      if (seq > seenSeq) {
        this.inc(seq - seenSeq);
        seenSeq = seq;
      }
    },
  });

  const decryptions = new Counter({
    name: 'vault_decryption_operations_total',
    help: 'Search results whose scores were decrypted, by outcome',
    labelNames: ['status'] as const,
    registers,
  });
  const decryptionDuration = new Histogram({
    name: 'vault_decryption_duration_seconds',
    help: 'Time to check and decrypt one search result',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const keyAccess = new Counter({
    name: 'vault_key_access_total',
    help: 'Uses of Vault key material, by key type and outcome',
    labelNames: ['key_type', 'status'] as const,
    registers,
  });
  const ticketsIssued = new Counter({
    name: 'vault_tickets_issued_total',
    help: 'Search tickets issued',
    registers,
  });
  const refusals = new Counter({
    name: 'vault_refusals_total',
    help: 'Search requests refused, by bounded reason',
    labelNames: ['reason'] as const,
    registers,
  });

  const onSearchEvent = (event: SearchEvent): void => {
    switch (event.type) {
      case 'ticket.issued':
        ticketsIssued.inc();
        keyAccess.inc({ key_type: 'signing_key', status: 'success' });
        return;
      case 'permit.issued':
        keyAccess.inc({ key_type: 'signing_key', status: 'success' });
        keyAccess.inc({ key_type: 'team_secret', status: 'success' });
        return;
      case 'result.opened':
        decryptions.inc({ status: 'success' });
        decryptionDuration.observe(event.decryptMs / 1000);
        keyAccess.inc({ key_type: 'secret_key', status: 'success' });
        return;
      case 'refused': {
        if (event.action === 'recall.open') {
          decryptions.inc({ status: 'refused' });
          keyAccess.inc({ key_type: 'secret_key', status: 'refused' });
        }
        const reason = refusalReasonOf(event.code);
        if (reason !== undefined) refusals.inc({ reason });
        return;
      }
    }
  };

  return {
    registry,
    requests: new Counter({
      name: 'vault_requests_total',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'endpoint', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'vault_request_duration_seconds',
      help: 'HTTP request duration by method and route template',
      labelNames: ['method', 'endpoint'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    decryptions,
    decryptionDuration,
    keyAccess,
    ticketsIssued,
    refusals,
    rateLimited: new Counter({
      name: 'vault_rate_limited_total',
      help: 'Requests refused by a rate limit',
      registers,
    }),
    onSearchEvent,
    bindSources(next) {
      sources = next;
    },
  };
}
