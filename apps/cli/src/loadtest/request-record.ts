import type { Sample } from './stats.js';

/** Per-phase timings the client reports (RuneClient's CaptureTimings / RecallTimings), ms. */
export const PHASES = ['embed', 'permit', 'encrypt', 'insert', 'ticket', 'search', 'open', 'fetch'] as const;
export type Phase = (typeof PHASES)[number];

/** One operation of one virtual user: a row of requests.csv. */
export interface RequestRecord extends Sample {
  /** Wall clock at the start, ms since the Unix epoch. */
  readonly timestampMs: number;
  readonly vu: number;
  readonly stage: number;
  /** HTTP status of a refusal (absent on success and for network failures). */
  readonly status?: number;
  /** Stable error code of a failure (RATE_LIMITED, VAULT_TIMEOUT, …). */
  readonly code?: string;
  readonly phases?: Partial<Record<Phase, number>>;
  /** Recall: hits returned. */
  readonly hits?: number;
}
