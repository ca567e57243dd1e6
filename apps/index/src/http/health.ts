import { randomBytes } from 'node:crypto';
import { rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface HealthLimits {
  /** Unhealthy below this many free bytes on the data directory's filesystem. */
  readonly minFreeDiskBytes: number;
  /** Unhealthy above this resident set size. */
  readonly maxMemoryBytes: number;
  /** Unhealthy above this CPU percent of one core (sustained overload). */
  readonly maxCpuPercent: number;
}

export const DEFAULT_HEALTH_LIMITS: HealthLimits = Object.freeze({
  minFreeDiskBytes: 256 * 1024 * 1024,
  maxMemoryBytes: 8 * 1024 * 1024 * 1024,
  maxCpuPercent: 400,
});

export interface HealthCheck {
  readonly status: 'pass' | 'fail';
  readonly detail: string;
}

export interface HealthReport {
  readonly status: 'healthy' | 'unhealthy';
  readonly checks: {
    readonly storage: HealthCheck;
    readonly memory: HealthCheck;
    readonly cpu: HealthCheck;
    readonly disk: HealthCheck;
  };
}

export async function checkHealth(
  dataDir: string,
  limits: HealthLimits,
  cpuPercent: number,
): Promise<HealthReport> {
  const [storage, disk] = await Promise.all([
    checkWritable(dataDir),
    checkDisk(dataDir, limits.minFreeDiskBytes),
  ]);
  const rss = process.memoryUsage().rss;
  const memory: HealthCheck =
    rss <= limits.maxMemoryBytes
      ? { status: 'pass', detail: `rss ${rss} bytes` }
      : { status: 'fail', detail: `rss ${rss} bytes over ${limits.maxMemoryBytes}` };
  const cpu: HealthCheck =
    cpuPercent <= limits.maxCpuPercent
      ? { status: 'pass', detail: `${cpuPercent.toFixed(1)} %` }
      : { status: 'fail', detail: `${cpuPercent.toFixed(1)} % over ${limits.maxCpuPercent} %` };
  const checks = { storage, memory, cpu, disk };
  const healthy = Object.values(checks).every((c) => c.status === 'pass');
  return { status: healthy ? 'healthy' : 'unhealthy', checks };
}

/** A probe file written and removed in the data directory: the store needs exactly this to work. */
async function checkWritable(dataDir: string): Promise<HealthCheck> {
  const probe = join(dataDir, `.health-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(probe, 'ok', { mode: 0o600 });
    await rm(probe, { force: true });
    return { status: 'pass', detail: 'data directory writable' };
  } catch (err: unknown) {
    return { status: 'fail', detail: `data directory not writable (${errorCode(err)})` };
  }
}

async function checkDisk(dataDir: string, minFreeBytes: number): Promise<HealthCheck> {
  try {
    const fs = await statfs(dataDir);
    const free = fs.bavail * fs.bsize;
    return free >= minFreeBytes
      ? { status: 'pass', detail: `${free} bytes free` }
      : { status: 'fail', detail: `${free} bytes free, below ${minFreeBytes}` };
  } catch (err: unknown) {
    return { status: 'fail', detail: `statfs failed (${errorCode(err)})` };
  }
}

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'unknown';
}
