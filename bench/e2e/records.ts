import type { RecordPayload } from '@rune/client';

/** A small sealed record naming its vector, so a recalled record can be traced to its source. */
export function benchRecord(index: number): RecordPayload {
  return { v: 1, insight: `benchmark record ${index}`, createdAt: Date.now() };
}
