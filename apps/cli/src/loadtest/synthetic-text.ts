/** Small deterministic PRNG (mulberry32): reproducible texts per virtual user, no crypto needed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'cache retry backoff queue ledger postgres index shard replica timeout deadline token rotation ' +
  'migration schema rollback canary deploy kubernetes terraform latency throughput budget alert ' +
  'pager runbook vault ticket permit encryption lattice vector embedding recall capture memory ' +
  'decision tradeoff lesson incident outage postmortem feature flag rollout gateway proxy tls ' +
  'certificate dns load balancer autoscaling worker thread pool connection keepalive batch stream ' +
  'kafka consumer producer partition offset idempotent transaction isolation serializable lock ' +
  'mutex contention benchmark profile heap garbage collector allocation leak monitoring metric ' +
  'histogram percentile dashboard grafana prometheus logging tracing span sampling audit compliance'
).split(' ');

function words(random: () => number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(random() * WORDS.length)] ?? 'rune');
  return out.join(' ');
}

/** A capture's insight: 12–30 words, tagged with who made it so every one is distinct. */
export function syntheticInsight(random: () => number, vu: number, seq: number): string {
  return `loadtest vu${vu} #${seq}: ${words(random, 12 + Math.floor(random() * 19))}`;
}

/** A recall query: 3–8 words of the same vocabulary. */
export function syntheticQuery(random: () => number): string {
  return words(random, 3 + Math.floor(random() * 6));
}
