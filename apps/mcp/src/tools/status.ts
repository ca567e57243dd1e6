import { z } from 'zod';
import { diagnose, type StatusReport } from '../memory/status.js';
import { defineTool } from './tool.js';

export const statusTool = defineTool({
  name: 'status',
  title: 'Rune status and diagnostics',
  description:
    'Check that team memory works: configuration, Vault and index reachability and latency, the ' +
    'pinned key, the embedder and the index size, with a fix for every problem found. Use it when ' +
    'another Rune tool fails, or when the user asks whether memory is set up.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  inputSchema: z.strictObject({}),
  async run(_input, ctx) {
    const report = await diagnose(ctx);
    return {
      // A problem is an error the agent must see, as every other tool reports it.
      ...(report.problems.length === 0 ? {} : { isError: true }),
      content: [{ type: 'text', text: describeStatus(report) }],
      structuredContent: { ...report },
    };
  },
});

function describeStatus(r: StatusReport): string {
  const lines = [
    r.isConfigured ? 'Rune is configured.' : 'Rune is NOT CONFIGURED.',
    `Member config: ${r.configPath}`,
  ];
  if (r.indexId !== undefined) lines.push(`Index id: ${r.indexId}`);
  if (r.vault !== undefined) lines.push(`Vault: ${r.vault.url} — ${reach(r.vault)}`);
  if (r.index !== undefined) {
    const size = r.index.records === undefined ? '' : `, ${r.index.records} records`;
    const emb =
      r.index.embedderId === undefined ? '' : `, built with ${r.index.embedderId} (d=${String(r.index.dim)})`;
    lines.push(`Index: ${r.index.url} — ${reach(r.index)}${size}${emb}`);
  }
  if (r.isKeyPinned !== undefined)
    lines.push(`Pinned Vault key: ${r.isKeyPinned ? 'matches' : 'DOES NOT MATCH'}`);
  if (r.embedder !== undefined) lines.push(`Embedder: ${r.embedder.id} (d=${r.embedder.dim})`);
  if (r.roleCap !== undefined) lines.push(`Recall cap for your role: ${r.roleCap}`);
  lines.push(`Local capture log: ${r.historyPath}`);
  if (r.problems.length === 0) lines.push('No problems found.');
  else {
    lines.push(`${r.problems.length} problem(s):`);
    for (const p of r.problems) lines.push(`- ${p.code}: ${p.message}\n  How to fix: ${p.hint}`);
  }
  return lines.join('\n');
}

function reach(check: { isReachable: boolean; latencyMs?: number }): string {
  return check.isReachable ? `reachable (${String(check.latencyMs)} ms)` : 'UNREACHABLE';
}
