/**
 * Retrieval-quality benchmark of the offline embedder (`npm run bench:quality -- --json out.json
 * [--dim N]`), on ../shared/eval-data through the real product path: per retrieval set a fresh
 * local stack (Vault and index in this process, plain HTTP on 127.0.0.1, a temp dir), every doc
 * captured and every query recalled (k = 10) through RuneClient, then the member's exact-BM25
 * re-rank of the opened top 10; plaintext BM25 in the same run as the reference. Then the
 * novelty set: classification of duplicate / evolution / unrelated probes against the stored
 * originals, and the duplicate > evolution > unrelated ordering. A missed target is reported,
 * never an exit code. Never part of the tests.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_BM25_DIM, NOVELTY_THRESHOLDS, bm25EmbedderId, createBm25Embedder } from '@rune/embed';
import { RETRIEVAL_SET_FILES, loadNoveltyCases, loadRetrievalSet } from './eval-sets.js';
import type { RankMetrics } from './metrics.js';
import { feedTermStatsLocally, openQualityStack } from './quality-stack.js';
import { runNovelty, noveltyStore, type NoveltyResult } from './run-novelty.js';
import { runRetrievalSet, type RetrievalResult } from './run-retrieval.js';

/** Targets of issue #4: re-ranked MRR per set within this of plaintext BM25. */
export const TARGET_MRR_GAP = 0.02;
export const TARGET_POOLED_MRR = 0.8;
export const TARGET_CAPTURE_MRR = 0.83;
export const TARGET_ORDERING = 22;
const POOLED = 'rune-recall-pooled';
const CAPTURE = 'rune-capture-recall';

const { values } = parseArgs({ options: { json: { type: 'string' }, dim: { type: 'string' } } });
const dim = Number(values.dim ?? DEFAULT_BM25_DIM);
const log = (msg: string) => {
  process.stderr.write(`[bench:quality] ${msg}\n`);
};

const started = performance.now();
const embedderId = bm25EmbedderId(dim);
const prefix = embedderId.replace(/-d\d+$/, '');
const exported = NOVELTY_THRESHOLDS[prefix];
if (exported === undefined) throw new Error(`no NOVELTY_THRESHOLDS for ${prefix}`);

const retrieval: RetrievalResult[] = [];
for (const file of RETRIEVAL_SET_FILES) {
  const set = loadRetrievalSet(file);
  log(
    `${set.name}: capturing ${set.docs.length} docs, recalling ${set.queries.length} queries (${embedderId})`,
  );
  const result = await runRetrievalSet(set, dim);
  log(
    `${set.name}: capture ${result.captureSeconds.toFixed(1)} s, recall ${result.recallSeconds.toFixed(1)} s`,
  );
  retrieval.push(result);
}

log('novelty: capturing the originals, recalling every probe (top 3)');
const cases = loadNoveltyCases();
const novelty: NoveltyResult = await (async () => {
  const embedder = createBm25Embedder({ dim });
  const stack = await openQualityStack(embedder);
  try {
    const store = noveltyStore(cases);
    for (const text of store) await stack.client.capture({ insight: text });
    await feedTermStatsLocally(stack.client, embedder, store);
    const stats = embedder.termStats;
    if (stats === undefined) throw new Error('the BM25 embedder has no term stats');
    const search = async (query: string, k: number) =>
      (await stack.client.recall(query, { k })).hits.map((h) => h.record.insight);
    return await runNovelty(cases, search, stats, exported);
  } finally {
    await stack.close();
  }
})();
const wallSeconds = (performance.now() - started) / 1000;

// Report.
const f = (x: number) => x.toFixed(3);
const m = (r: RankMetrics) => `${f(r.hit1)} / ${f(r.hit5)} / ${f(r.mrr)}`;
const ok = (pass: boolean) => (pass ? 'ok' : 'MISSED');
console.log(`\nRetrieval quality, ${embedderId}, k = 10 (hit@1 / hit@5 / MRR@10)`);
console.log(
  'set                  | queries | encrypted recall      | + top-10 re-rank      | plaintext BM25        | target',
);
const targets: { name: string; pass: boolean; detail: string }[] = [];
for (const r of retrieval) {
  const gap = r.bm25.mrr - r.reranked.mrr;
  const floor = r.name === POOLED ? TARGET_POOLED_MRR : r.name === CAPTURE ? TARGET_CAPTURE_MRR : 0;
  const pass = gap <= TARGET_MRR_GAP && r.reranked.mrr >= floor;
  const detail = `MRR ${f(r.reranked.mrr)} within ${TARGET_MRR_GAP} of BM25 ${f(r.bm25.mrr)}${floor > 0 ? ` and ≥ ${floor}` : ''}`;
  targets.push({ name: r.name, pass, detail });
  console.log(
    `${r.name.padEnd(20)} | ${String(r.queries).padStart(7)} | ${m(r.encrypted)} | ${m(r.reranked)} | ${m(r.bm25)} | ${ok(pass)}: ${detail}`,
  );
}
const orderingPass = novelty.ordering.held >= TARGET_ORDERING;
targets.push({
  name: 'novelty ordering',
  pass: orderingPass,
  detail: `${novelty.ordering.held}/${novelty.ordering.cases} ≥ ${TARGET_ORDERING}`,
});
const t = novelty.calibrated;
console.log(
  `\nNovelty: duplicate > evolution > unrelated held in ${novelty.ordering.held}/${novelty.ordering.cases} ` +
    `topic×length cases (${ok(orderingPass)}, target ≥ ${TARGET_ORDERING})` +
    (novelty.ordering.failed.length > 0 ? `; failed: ${novelty.ordering.failed.join(', ')}` : ''),
);
console.log(
  `classification (best of top 3): ${novelty.accuracyExported.correct}/${novelty.accuracyExported.total} with the ` +
    `exported thresholds ${JSON.stringify(exported)}; ${novelty.accuracyCalibrated.correct}/` +
    `${novelty.accuracyCalibrated.total} with the ones calibrated on this run ${JSON.stringify(t)}`,
);
console.log(`confusion (exported): ${JSON.stringify(novelty.accuracyExported.confusion)}`);
console.log(`\nwall ${wallSeconds.toFixed(1)} s`);

if (values.json !== undefined) {
  const json = {
    embedderId,
    dim,
    wallSeconds,
    retrieval,
    novelty,
    targets,
    generatedAt: new Date().toISOString(),
  };
  writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
  log(`wrote ${values.json}`);
}
