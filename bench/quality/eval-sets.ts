import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The evaluation data in ../shared/eval-data (outside the repository on purpose: read, never
 * copied; CI has the same path). RUNE_EVAL_DATA overrides the folder.
 */
export const EVAL_DATA_DIR =
  process.env.RUNE_EVAL_DATA ?? fileURLToPath(new URL('../../../shared/eval-data/', import.meta.url));

/** Retrieval sets in the shared shape: one store of docs, queries naming their relevant docs. */
export const RETRIEVAL_SET_FILES = ['rune-recall-pooled.json', 'rune-capture-recall.json'] as const;
export const SCENARIOS_FILE = 'rune-recall-scenarios.json';
export const NOVELTY_FILE = 'rune-embedding-novelty.json';

const retrievalSetSchema = z.object({
  name: z.string(),
  docs: z.array(z.object({ id: z.string(), text: z.string().min(1) })).min(1),
  queries: z
    .array(
      z.object({
        id: z.string(),
        text: z.string().min(1),
        relevant: z.array(z.string()).min(1),
        language: z.string().optional(),
      }),
    )
    .min(1),
});
export type RetrievalSet = z.infer<typeof retrievalSetSchema>;

const scenariosSchema = z.object({
  scenarios: z.array(
    z.object({
      id: z.string(),
      query: z.string().min(1),
      seed_records: z.array(z.object({ title: z.string(), content: z.string() })).min(1),
      expected_match_titles: z.array(z.string()).min(1),
    }),
  ),
});

const lengthTexts = z.record(z.string(), z.string().min(1));
const noveltySchema = z.object({
  topics: z
    .array(
      z.object({
        id: z.string(),
        language: z.string(),
        variants: z.object({
          original: lengthTexts,
          duplicate: lengthTexts,
          evolution: lengthTexts,
          unrelated: lengthTexts,
        }),
      }),
    )
    .min(1),
});

/** One topic × length of the novelty set. */
export interface NoveltyCase {
  readonly id: string;
  readonly language: string;
  readonly original: string;
  readonly duplicate: string;
  readonly evolution: string;
  readonly unrelated: string;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(join(EVAL_DATA_DIR, file), 'utf8')) as unknown;
}

export function loadRetrievalSet(file: string): RetrievalSet {
  return retrievalSetSchema.parse(readJson(file));
}

/**
 * rune's 16 recall scenarios as 16 tiny retrieval sets (1–3 seed records each), records embedded
 * as "title. content" like rune's retriever_bench; the first expected title counts.
 */
export function loadScenarioSets(): RetrievalSet[] {
  const { scenarios } = scenariosSchema.parse(readJson(SCENARIOS_FILE));
  return scenarios.map((s) => ({
    name: s.id,
    docs: s.seed_records.map((r) => ({ id: r.title, text: `${r.title}. ${r.content}` })),
    queries: [{ id: s.id, text: s.query, relevant: s.expected_match_titles }],
  }));
}

export function loadNoveltyCases(): NoveltyCase[] {
  const { topics } = noveltySchema.parse(readJson(NOVELTY_FILE));
  return topics.flatMap((t) =>
    Object.keys(t.variants.original).map((length) => {
      const pick = (texts: Record<string, string>) => {
        const text = texts[length];
        if (text === undefined) throw new Error(`novelty set: ${t.id} lacks a ${length} variant`);
        return text;
      };
      return {
        id: `${t.id}@${length}`,
        language: t.language,
        original: pick(t.variants.original),
        duplicate: pick(t.variants.duplicate),
        evolution: pick(t.variants.evolution),
        unrelated: pick(t.variants.unrelated),
      };
    }),
  );
}

/**
 * A harder store for the dimension choice: the pooled and capture-recall docs plus every novelty
 * text as distractors (more records, more hash collisions), queried by both sets' queries.
 */
export function loadCombinedSet(): RetrievalSet {
  const parts = RETRIEVAL_SET_FILES.map(loadRetrievalSet);
  const distractors = loadNoveltyCases().flatMap((c) =>
    (['original', 'duplicate', 'evolution', 'unrelated'] as const).map((v) => ({
      id: `novelty:${c.id}:${v}`,
      text: c[v],
    })),
  );
  return {
    name: 'combined (pooled + capture-recall + novelty distractors)',
    docs: [...parts.flatMap((p) => p.docs.map((d) => ({ ...d, id: `${p.name}:${d.id}` }))), ...distractors],
    queries: parts.flatMap((p) =>
      p.queries.map((q) => ({
        ...q,
        id: `${p.name}:${q.id}`,
        relevant: q.relevant.map((r) => `${p.name}:${r}`),
      })),
    ),
  };
}
