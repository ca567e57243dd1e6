import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuneClient } from '@rune/client';
import { type LocalStack, startLocalStack } from '../../../apps/cli/src/stack/local-stack.js';
import { dashboardQueries, readAlertRules, readDashboard, variableQueries } from './assets.js';
import { type Family, missingReferences, parseExposition } from './promql.js';

/**
 * The real Vault and index, in process on loopback, after one capture, one recall and one refused
 * recall (so the labelled counters have series). The dashboard and the alerts may name only what
 * these two /metrics endpoints actually emit.
 */
describe('metrics emitted by the running services', () => {
  let dataDir: string;
  let stack: LocalStack;
  let emitted: Map<string, Family>;

  const scrape = async (url: string): Promise<Map<string, Family>> => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  };
  const scrapeBoth = async (): Promise<Map<string, Family>> =>
    new Map([...(await scrape(stack.vault.url)), ...(await scrape(stack.index.url))]);
  const valueOf = (families: ReadonlyMap<string, Family>, name: string): number => {
    const samples = families.get(name)?.samples ?? [];
    expect(samples, name).toHaveLength(1);
    return samples[0]?.value ?? Number.NaN;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rune-monitoring-'));
    stack = await startLocalStack({ dataDir, plainHttp: true, vaultPort: 0, indexPort: 0 });
    const client = await RuneClient.connect(stack.adminConfig);
    try {
      await client.capture({ insight: 'the staging database password rotates every Monday' });
      const recalled = await client.recall('when does the staging password rotate', { k: 3 });
      expect(recalled.hits.length).toBeGreaterThan(0);
      // Above the admin role's top-k cap of 50: refused by the Vault, counted with reason="cap".
      // A query with content words: the BM25 embedder refuses one of stop words only, before the Vault.
      await expect(client.recall('staging password rotation', { k: 60 })).rejects.toThrow();
    } finally {
      client.close();
    }
    emitted = await scrapeBoth();
  });

  afterAll(async () => {
    await stack.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('emit every metric and label the alert rules name', async () => {
    const problems = (await readAlertRules()).flatMap((rule) =>
      missingReferences(rule.expr, emitted).map((p) => `${rule.alert}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it('emit every metric and label the dashboard names', async () => {
    const dashboard = await readDashboard();
    const problems = [
      ...dashboardQueries(dashboard).flatMap(({ panel, expr }) =>
        missingReferences(expr, emitted).map((p) => `${panel}: ${p}`),
      ),
      ...variableQueries(dashboard).flatMap(({ name, selector, label }) =>
        missingReferences(`count by (${label}) (${selector})`, emitted).map((p) => `$${name}: ${p}`),
      ),
    ];
    expect(problems).toEqual([]);
  });

  it('report healthy services and counted work', () => {
    // The Vault's health also fails on host CPU >= 90 %, which a busy test machine can reach.
    expect([0, 1]).toContain(valueOf(emitted, 'vault_health_status'));
    expect(valueOf(emitted, 'index_health_status')).toBe(1);
    expect(valueOf(emitted, 'vault_tickets_issued_total')).toBeGreaterThanOrEqual(1);
    expect(valueOf(emitted, 'vault_audit_entries_total')).toBeGreaterThan(0);
    const refusals = emitted.get('vault_refusals_total')?.samples ?? [];
    expect(refusals.find((s) => s.labels.reason === 'cap')?.value).toBe(1);
    const decryptions = emitted.get('vault_decryption_operations_total')?.samples ?? [];
    expect(decryptions.find((s) => s.labels.status === 'success')?.value).toBeGreaterThanOrEqual(1);
  });

  it('report real memory, disk and uptime values', async () => {
    const families = await scrapeBoth();
    const rss = process.memoryUsage().rss; // the services run in this process
    for (const name of ['vault_memory_usage_bytes', 'index_memory_usage_bytes']) {
      expect(valueOf(families, name), name).toBeGreaterThan(rss / 2);
      expect(valueOf(families, name), name).toBeLessThan(rss * 2);
    }
    const hostMemory = ((totalmem() - freemem()) / totalmem()) * 100;
    expect(valueOf(families, 'vault_memory_usage_percent')).toBeGreaterThan(0);
    expect(Math.abs(valueOf(families, 'vault_memory_usage_percent') - hostMemory)).toBeLessThan(5);
    const disk = await statfs(join(dataDir, 'vault'));
    const diskPercent = ((disk.blocks - disk.bavail) / disk.blocks) * 100;
    expect(valueOf(families, 'vault_disk_usage_percent')).toBeGreaterThan(0);
    expect(Math.abs(valueOf(families, 'vault_disk_usage_percent') - diskPercent)).toBeLessThan(1);
    expect(valueOf(families, 'vault_uptime_seconds')).toBeGreaterThan(0);
    expect(valueOf(families, 'index_uptime_seconds')).toBeGreaterThan(0);
  });

  it('report CPU use over the interval since the previous scrape, not over the scrape itself', async () => {
    // Each scrape starts a sampler interval; the independent measurements below cover the same
    // intervals: this process's CPU for the in-process index, host CPU for the Vault. The pause
    // first lets a sampler that keeps a minimum interval (1 s) start a fresh one at that scrape.
    await sleep(1100);
    await scrape(stack.index.url);
    const process0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    await scrape(stack.vault.url);
    const host0 = hostCpuTicks();
    await sleep(1500); // idle: nothing in this process works until the next scrape
    const processPercent =
      (cpuMicros(process.cpuUsage(process0)) / (Number(process.hrtime.bigint() - wall0) / 1000)) * 100;
    const index = valueOf(await scrape(stack.index.url), 'index_cpu_usage_percent');
    const hostPercent = hostCpuTicks().busyPercentSince(host0);
    const vault = valueOf(await scrape(stack.vault.url), 'vault_cpu_usage_percent');
    expect(vault).toBeGreaterThanOrEqual(0);
    expect(vault).toBeLessThanOrEqual(100);
    expect(index).toBeGreaterThanOrEqual(0);
    // A gauge that samples only the few milliseconds of its own scrape reads 0, 100 or whatever
    // the scrape itself cost, however idle the interval was.
    expect
      .soft(Math.abs(vault - hostPercent), `vault ${vault} % vs host ${hostPercent.toFixed(1)} %`)
      .toBeLessThan(25);
    expect
      .soft(Math.abs(index - processPercent), `index ${index} % vs process ${processPercent.toFixed(1)} %`)
      .toBeLessThan(25);
  });
});

function cpuMicros(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

/** Host CPU tick counters, summed over cores (the Vault's sampler reads the same ones). */
function hostCpuTicks(): {
  idle: number;
  total: number;
  busyPercentSince(earlier: { idle: number; total: number }): number;
} {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return {
    idle,
    total,
    busyPercentSince(earlier) {
      const dTotal = total - earlier.total;
      return dTotal > 0 ? (1 - (idle - earlier.idle) / dTotal) * 100 : 0;
    },
  };
}
