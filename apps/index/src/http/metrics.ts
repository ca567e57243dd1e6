import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { RefusalReason } from './errors.js';

export interface IndexMetrics {
  readonly healthStatus: Gauge;
  readonly requests: Counter<'method' | 'endpoint' | 'status'>;
  readonly requestDuration: Histogram<'method' | 'endpoint'>;
  readonly searchDuration: Histogram;
  readonly inserts: Counter<'status'>;
  readonly records: Gauge;
  readonly storageErrors: Counter;
  readonly refusals: Counter<'reason'>;
  readonly cpuUsage: Gauge;
  readonly memoryUsage: Gauge;
  readonly uptime: Gauge;
}

export interface MetricSources {
  /** Live records over all indexes; read at scrape time. */
  readonly recordCount: () => Promise<number>;
  readonly cpuPercent: () => number;
  readonly uptimeSeconds: () => number;
}

/** Registers the `index_*` family on `registry` (never the global one). Labels are bounded. */
export function createIndexMetrics(registry: Registry, sources: MetricSources): IndexMetrics {
  const registers = [registry];
  const refusals = new Counter({
    name: 'index_refusals_total',
    help: 'Requests refused, by bounded reason',
    labelNames: ['reason'] as const,
    registers,
  });
  // Pre-create every reason so dashboards see zeros rather than gaps.
  for (const reason of Object.values(RefusalReason)) refusals.inc({ reason }, 0);
  return {
    healthStatus: new Gauge({
      name: 'index_health_status',
      help: '1 when the last health check passed, 0 otherwise',
      registers,
    }),
    requests: new Counter({
      name: 'index_requests_total',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'endpoint', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'index_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames: ['method', 'endpoint'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    searchDuration: new Histogram({
      name: 'index_search_duration_seconds',
      help: 'Time to score a search ticket in seconds',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inserts: new Counter({
      name: 'index_inserts_total',
      help: 'Insert attempts by outcome (ok, refused, error)',
      labelNames: ['status'] as const,
      registers,
    }),
    records: new Gauge({
      name: 'index_records',
      help: 'Live records over all indexes',
      registers,
      async collect() {
        this.set(await sources.recordCount());
      },
    }),
    storageErrors: new Counter({
      name: 'index_storage_errors_total',
      help: 'Requests that failed on storage (write failure or corruption)',
      registers,
    }),
    refusals,
    cpuUsage: new Gauge({
      name: 'index_cpu_usage_percent',
      help: 'Process CPU use since the previous scrape, percent of one core',
      registers,
      collect() {
        this.set(sources.cpuPercent());
      },
    }),
    memoryUsage: new Gauge({
      name: 'index_memory_usage_bytes',
      help: 'Resident set size in bytes',
      registers,
      collect() {
        this.set(process.memoryUsage().rss);
      },
    }),
    uptime: new Gauge({
      name: 'index_uptime_seconds',
      help: 'Seconds since the HTTP app was created',
      registers,
      collect() {
        this.set(sources.uptimeSeconds());
      },
    }),
  };
}

/** CPU percent of one core between successive calls. */
export function createCpuSampler(minIntervalMs = 1000): () => number {
  let lastUsage = process.cpuUsage();
  let lastTime = process.hrtime.bigint();
  let value = 0;
  return () => {
    const time = process.hrtime.bigint();
    const elapsedMicros = Number(time - lastTime) / 1000;
    // Calls close together (a scrape's health check, then its gauge) would measure the scrape
    // itself; within the interval they share the last reading.
    if (elapsedMicros < minIntervalMs * 1000) return value;
    const usage = process.cpuUsage(lastUsage);
    lastUsage = process.cpuUsage();
    lastTime = time;
    value = ((usage.user + usage.system) / elapsedMicros) * 100;
    return value;
  };
}
