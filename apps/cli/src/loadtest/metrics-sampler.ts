import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  type Buckets,
  type Series,
  bucketsOf,
  byLabel,
  parsePrometheusText,
  quantileBetween,
  sumOf,
} from './prometheus-text.js';

const SCRAPE_TIMEOUT_MS = 5000;
const MAX_METRICS_BYTES = 4 * 1024 * 1024;

/** One scrape of both services, reduced to what the report draws. */
export interface MetricsSample {
  readonly elapsedMs: number;
  readonly vaultCpuPercent?: number;
  readonly vaultMemoryBytes?: number;
  readonly indexCpuPercent?: number;
  readonly indexMemoryBytes?: number;
  /** Mean and p95 of the Vault's decryptions since the previous sample, ms. */
  readonly decryptMeanMs?: number;
  readonly decryptP95Ms?: number;
  readonly decryptions?: number;
  /** 429s the Vault answered since the previous sample. */
  readonly rateLimited?: number;
}

/** Requests each service counted, by route template, between the first and last scrape. */
export interface ServerRequests {
  readonly vault: Record<string, number>;
  readonly index: Record<string, number>;
}

export interface ScrapeTarget {
  readonly vaultUrl: string;
  readonly indexUrl: string;
  readonly caCert?: string;
}

/** GET a text body, trusting `caCert` when given; rejects on a non-200 status. */
export function fetchText(url: string, caCert?: string, timeoutMs = SCRAPE_TIMEOUT_MS): Promise<string> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { method: 'GET', timeout: timeoutMs, ...(caCert === undefined ? {} : { ca: caCert }) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.byteLength;
          if (size > MAX_METRICS_BYTES)
            req.destroy(new Error(`${url}: answer over ${MAX_METRICS_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === 200) resolve(Buffer.concat(chunks).toString('utf8'));
          else reject(new Error(`GET ${url}: HTTP ${res.statusCode ?? 0}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function metricsUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/metrics`;
}

/**
 * Scrapes the Vault's and the index's /metrics every `intervalMs` while the run lasts. A failed
 * scrape leaves a gap (counted) and never stops the run: /metrics may sit behind a proxy.
 */
export class MetricsSampler {
  readonly samples: MetricsSample[] = [];
  #failures = 0;
  #lastError: string | undefined;
  #previous: { decrypt?: Buckets; decryptSum?: number; rateLimited?: number } = {};
  #first: { vault?: Series[]; index?: Series[] } = {};
  #last: { vault?: Series[]; index?: Series[] } = {};
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  readonly #target: ScrapeTarget;
  readonly #elapsedMs: () => number;

  constructor(target: ScrapeTarget, elapsedMs: () => number) {
    this.#target = target;
    this.#elapsedMs = elapsedMs;
  }

  get failures(): number {
    return this.#failures;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The first scrape (the baseline), then one every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    await this.scrape();
    this.#timer = setInterval(() => {
      this.#inFlight ??= this.scrape().finally(() => (this.#inFlight = undefined));
    }, intervalMs);
  }

  /** Stops the timer and takes a last scrape, so the counters cover the whole run. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
    await this.scrape();
  }

  async scrape(): Promise<void> {
    const [vault, index] = await Promise.all([
      this.#get(this.#target.vaultUrl),
      this.#get(this.#target.indexUrl),
    ]);
    const elapsedMs = this.#elapsedMs();
    if (vault !== undefined) {
      this.#first.vault ??= vault;
      this.#last.vault = vault;
    }
    if (index !== undefined) {
      this.#first.index ??= index;
      this.#last.index = index;
    }
    if (vault === undefined && index === undefined) return;
    this.samples.push({ elapsedMs, ...this.#reduceVault(vault), ...reduceIndex(index) });
  }

  /** Request counts by endpoint between the first and the last successful scrape. */
  serverRequests(): ServerRequests {
    return {
      vault: deltaByEndpoint(this.#first.vault, this.#last.vault, 'vault_requests_total'),
      index: deltaByEndpoint(this.#first.index, this.#last.index, 'index_requests_total'),
    };
  }

  /** The Vault's decryptions over the whole run (first to last scrape): count, mean, p95 (ms). */
  decryptionOverall(): { count: number; meanMs: number; p95Ms: number } {
    const first = this.#first.vault;
    const last = this.#last.vault;
    const name = 'vault_decryption_duration_seconds';
    const after = last === undefined ? undefined : bucketsOf(last, name);
    if (first === undefined || last === undefined || after === undefined) {
      return { count: 0, meanMs: Number.NaN, p95Ms: Number.NaN };
    }
    const count = (sumOf(last, `${name}_count`) ?? 0) - (sumOf(first, `${name}_count`) ?? 0);
    const sum = (sumOf(last, `${name}_sum`) ?? 0) - (sumOf(first, `${name}_sum`) ?? 0);
    return {
      count,
      meanMs: count > 0 ? (sum / count) * 1000 : Number.NaN,
      p95Ms: quantileBetween(bucketsOf(first, name), after, 0.95) * 1000,
    };
  }

  #reduceVault(series: Series[] | undefined): Partial<MetricsSample> {
    if (series === undefined) return {};
    const buckets = bucketsOf(series, 'vault_decryption_duration_seconds');
    const sum = sumOf(series, 'vault_decryption_duration_seconds_sum');
    const rateLimited = sumOf(series, 'vault_rate_limited_total');
    const prev = this.#previous;
    const out: { -readonly [K in keyof MetricsSample]?: MetricsSample[K] } = {
      ...optional('vaultCpuPercent', sumOf(series, 'vault_cpu_usage_percent')),
      ...optional('vaultMemoryBytes', sumOf(series, 'vault_memory_usage_bytes')),
    };
    if (buckets !== undefined && prev.decrypt !== undefined) {
      const count = (buckets.counts.at(-1) ?? 0) - (prev.decrypt.counts.at(-1) ?? 0);
      out.decryptions = count;
      if (count > 0 && sum !== undefined && prev.decryptSum !== undefined) {
        out.decryptMeanMs = ((sum - prev.decryptSum) / count) * 1000;
        out.decryptP95Ms = quantileBetween(prev.decrypt, buckets, 0.95) * 1000;
      }
    }
    if (rateLimited !== undefined && prev.rateLimited !== undefined)
      out.rateLimited = rateLimited - prev.rateLimited;
    this.#previous = {
      ...(buckets === undefined ? {} : { decrypt: buckets }),
      ...(sum === undefined ? {} : { decryptSum: sum }),
      ...(rateLimited === undefined ? {} : { rateLimited }),
    };
    return out;
  }

  async #get(base: string): Promise<Series[] | undefined> {
    try {
      return parsePrometheusText(await fetchText(metricsUrl(base), this.#target.caCert));
    } catch (err: unknown) {
      this.#failures++;
      this.#lastError = err instanceof Error ? err.message : String(err);
      return undefined;
    }
  }
}

function reduceIndex(series: Series[] | undefined): Partial<MetricsSample> {
  if (series === undefined) return {};
  return {
    ...optional('indexCpuPercent', sumOf(series, 'index_cpu_usage_percent')),
    ...optional('indexMemoryBytes', sumOf(series, 'index_memory_usage_bytes')),
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined || !Number.isFinite(value) ? {} : ({ [key]: value } as Record<K, number>);
}

function deltaByEndpoint(
  first: Series[] | undefined,
  last: Series[] | undefined,
  name: string,
): Record<string, number> {
  if (first === undefined || last === undefined) return {};
  const before = byLabel(first, name, 'endpoint');
  const after = byLabel(last, name, 'endpoint');
  const out: Record<string, number> = {};
  for (const [endpoint, n] of Object.entries(after)) {
    const delta = n - (before[endpoint] ?? 0);
    if (delta > 0) out[endpoint] = delta;
  }
  return out;
}
