import { RECORD_STATUSES } from '@rune/client';
import { idSchema } from '@rune/protocol';
import { z } from 'zod';

/** Field schemas shared by the tools; limits match the sealed record's (packages/client). */
export const insightField = z
  .string()
  .trim()
  .min(1)
  .max(32 * 1024)
  .describe(
    'The memory itself: one self-contained paragraph a teammate could act on without this conversation (what was decided or learnt, and why). This text is embedded and searched.',
  );
export const contextField = z
  .string()
  .max(64 * 1024)
  .describe(
    'Supporting detail stored with the memory but not searched: links, file paths, error text, alternatives weighed.',
  );
export const titleField = z.string().trim().min(1).max(512).describe('A short headline, under ten words.');
export const tagsField = z
  .array(z.string().trim().min(1).max(64))
  .max(32)
  .describe('Free-form labels, e.g. ["postgres", "migration"].');
export const domainField = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .describe('The area the memory belongs to, e.g. "payments", "ci", "auth".');
export const statusField = z
  .enum(RECORD_STATUSES)
  .describe(
    'Where a decision stands: proposed, accepted or rejected (a rejected alternative is worth remembering too).',
  );
export const recordIdField = idSchema.describe('A record id as returned by capture or recall (e.g. "r_…").');
export const sinceField = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date or date-time, e.g. 2026-01-31')
  .describe('Only memories created at or after this ISO 8601 date or date-time, e.g. "2026-01-31".');

export function sinceMs(since: string | undefined): number | undefined {
  return since === undefined ? undefined : Date.parse(since);
}

/** What capture and each batch item accept. */
export const captureItemSchema = z.strictObject({
  insight: insightField,
  context: contextField.exactOptional(),
  title: titleField.exactOptional(),
  tags: tagsField.exactOptional(),
  domain: domainField.exactOptional(),
  status: statusField.exactOptional(),
  supersedes: recordIdField
    .exactOptional()
    .describe('Id of an older record this one replaces; that record then ranks down and points here.'),
});
export type CaptureItem = z.output<typeof captureItemSchema>;
