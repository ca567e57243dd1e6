import { cpus, freemem, totalmem } from 'node:os';
import { statfs } from 'node:fs/promises';

export const HEALTH_THRESHOLD_PERCENT = 90;

export interface HealthCheck {
  readonly ok: boolean;
  readonly value?: number;
}

export interface HealthReport {
  readonly status: 'healthy' | 'unhealthy';
  readonly checks: {
    keys: HealthCheck;
    memory: HealthCheck;
    cpu: HealthCheck;
    disk: HealthCheck;
  };
}

/** Host CPU use between successive calls, from os.cpus() tick counters (first call: since boot). */
export function createCpuSampler(minIntervalMs = 1000): () => number {
  let last = totals();
  let lastAt = Date.now();
  let value = 0;
  return () => {
    // Callers close together (a scrape's gauge, then its health check) would otherwise measure a
    // window of a few milliseconds, i.e. the scrape itself; they share the last reading instead.
    if (Date.now() - lastAt < minIntervalMs) return value;
    const now = totals();
    const total = now.total - last.total;
    const idle = now.idle - last.idle;
    if (total > 0) {
      last = now;
      lastAt = Date.now();
      value = round1((1 - idle / total) * 100);
    }
    return value;
  };
}

function totals(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

export function memoryPercent(): number {
  return round1(((totalmem() - freemem()) / totalmem()) * 100);
}

export async function diskPercent(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.blocks === 0 ? 0 : round1(((s.blocks - s.bavail) / s.blocks) * 100);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export async function checkHealth(deps: {
  keysAccessible: () => Promise<boolean>;
  cpuPercent: () => number;
  dataDir: string;
  thresholdPercent?: number;
}): Promise<HealthReport> {
  const limit = deps.thresholdPercent ?? HEALTH_THRESHOLD_PERCENT;
  const keysOk = await deps.keysAccessible().catch(() => false);
  const memory = memoryPercent();
  const cpu = deps.cpuPercent();
  const disk = await diskPercent(deps.dataDir).catch(() => Number.NaN);
  const checks = {
    keys: { ok: keysOk },
    memory: { ok: memory < limit, value: memory },
    cpu: { ok: cpu < limit, value: cpu },
    // NaN (statfs failed) compares false, so an unreadable data dir is unhealthy.
    disk: { ok: disk < limit, value: Number.isNaN(disk) ? -1 : disk },
  };
  const ok = Object.values(checks).every((c) => c.ok);
  return { status: ok ? 'healthy' : 'unhealthy', checks };
}
