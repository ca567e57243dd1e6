import type { CaptureResult } from '../memory/capture.js';
import { describeCounts } from '../memory/redact.js';

/** One line per capture outcome; never a bare number (one host rejects scalar text results). */
export function describeCapture(result: CaptureResult): string {
  const lines: string[] = [];
  const similarity = result.similarity.toFixed(3);
  if (result.outcome === 'near-duplicate') {
    lines.push(
      `Not stored: near-duplicate of existing record ${result.duplicateOf ?? '?'} (similarity ${similarity}). ` +
        'Recall that record instead; if it is outdated, use forget with mode "supersede" to replace it.',
    );
  } else {
    lines.push(
      `Captured as record ${result.recordId ?? '?'} (${result.novelty}; closest existing similarity ${similarity}).`,
    );
    if (result.supersedes !== undefined) lines.push(`It supersedes record ${result.supersedes}.`);
    const linked = result.neighbours.filter((n) => n.recordId !== result.supersedes && n.similarity > 0);
    if (linked.length > 0 && result.novelty !== 'novel') {
      lines.push(
        `Related records: ${linked.map((n) => `${n.recordId} (${n.similarity.toFixed(3)}${n.title === undefined ? '' : `, "${n.title}"`})`).join(', ')}.`,
      );
    }
  }
  const redacted = describeCounts(result.redacted);
  lines.push(redacted === undefined ? 'Nothing was redacted.' : `Redacted before encryption: ${redacted}.`);
  return lines.join('\n');
}

export function captureStructured(result: CaptureResult): Record<string, unknown> {
  return {
    outcome: result.outcome,
    ...(result.recordId === undefined ? {} : { recordId: result.recordId }),
    ...(result.duplicateOf === undefined ? {} : { duplicateOf: result.duplicateOf }),
    novelty: result.novelty,
    similarity: result.similarity,
    neighbours: result.neighbours,
    redacted: result.redacted,
    ...(result.supersedes === undefined ? {} : { supersedes: result.supersedes }),
  };
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}
