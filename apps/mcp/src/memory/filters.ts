import type { RecordPayload, RecordStatus } from '@rune/client';

/** Recall filters, applied to opened records on this machine (the index never sees them). */
export interface RecallFilters {
  readonly domain?: string;
  readonly status?: RecordStatus;
  /** ms since the Unix epoch: records created at or after it. */
  readonly sinceMs?: number;
  /** Every one of these tags must be present (case-insensitive). */
  readonly tags?: readonly string[];
}

export function hasFilters(filters: RecallFilters): boolean {
  return (
    filters.domain !== undefined ||
    filters.status !== undefined ||
    filters.sinceMs !== undefined ||
    (filters.tags !== undefined && filters.tags.length > 0)
  );
}

export function matchesFilters(record: RecordPayload, filters: RecallFilters): boolean {
  if (filters.domain !== undefined && record.domain?.toLowerCase() !== filters.domain.toLowerCase()) {
    return false;
  }
  // A record without a status predates the field: treat it as accepted knowledge only when asked for none.
  if (filters.status !== undefined && record.status !== filters.status) return false;
  if (filters.sinceMs !== undefined && record.createdAt < filters.sinceMs) return false;
  if (filters.tags !== undefined && filters.tags.length > 0) {
    const have = new Set((record.tags ?? []).map((t) => t.toLowerCase()));
    if (!filters.tags.every((t) => have.has(t.toLowerCase()))) return false;
  }
  return true;
}
