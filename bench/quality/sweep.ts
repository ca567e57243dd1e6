/**
 * Dimension sweep of the BM25-shaped embedder in plaintext simulation
 * (`npx tsx bench/quality/sweep.ts [--json out.json]`): MRR@10 against textbook BM25 on every
 * retrieval set in ../shared/eval-data, with and without document L2 and the member's top-10
 * exact-BM25 re-rank. The figures behind docs/decisions/0008-offline-embedder-dimension.md.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RETRIEVAL_SET_FILES, loadCombinedSet, loadRetrievalSet, loadScenarioSets } from './eval-sets.js';
import type { RankMetrics } from './metrics.js';
import { simulate, type SimulatedSet } from './simulate.js';

export const SWEEP_DIMS = [128, 256, 512, 640, 1024, 1536, 2048] as const;

const { values } = parseArgs({ options: { json: { type: 'string' } } });
const started = performance.now();
const results: SimulatedSet[] = [];
for (const file of RETRIEVAL_SET_FILES) {
  const set = loadRetrievalSet(file);
  results.push(await simulate(set.name, [set], SWEEP_DIMS));
}
results.push(await simulate('rune-recall-scenarios (16 stores)', loadScenarioSets(), SWEEP_DIMS));
const combined = loadCombinedSet();
results.push(await simulate(combined.name, [combined], SWEEP_DIMS));

const f = (m: RankMetrics) => m.mrr.toFixed(3);
for (const r of results) {
  console.log(
    `\n${r.name} (${r.queries} queries): BM25 MRR@10 ${f(r.bm25)} ` +
      `(hit@1 ${r.bm25.hit1.toFixed(2)}, hit@5 ${r.bm25.hit5.toFixed(2)}); BM25 avgdl 40 ${f(r.bm25FixedAvgdl)}`,
  );
  console.log(
    '   dim | hashed, no L2 | hashed, unit | unit hit@10 | unit + top-10 re-rank | Δ re-rank vs BM25',
  );
  for (const d of r.byDim) {
    const delta = d.hashedUnitReranked.mrr - r.bm25.mrr;
    console.log(
      `  ${String(d.dim).padStart(4)} | ${f(d.hashedRaw).padStart(13)} | ${f(d.hashedUnit).padStart(12)} | ` +
        `${d.hashedUnit.hit10.toFixed(3).padStart(11)} | ` +
        `${f(d.hashedUnitReranked).padStart(21)} | ${(delta >= 0 ? '+' : '') + delta.toFixed(3)}`,
    );
  }
}
console.log(`\nwall ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
