import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBreakingPoint, stageResults } from '../src/loadtest/breaking-point.js';
import { CSV_COLUMNS, CsvWriter, csvField, csvLine } from '../src/loadtest/csv.js';
import { formatLiveLine, shouldColor } from '../src/loadtest/live-view.js';
import { bucketsOf, parsePrometheusText, quantileBetween, sumOf } from '../src/loadtest/prometheus-text.js';
import {
  buildScenario,
  parseDuration,
  parseMix,
  stageAt,
  totalDurationMs,
  usersAt,
} from '../src/loadtest/scenario.js';
import { type Sample, percentile, summarise } from '../src/loadtest/stats.js';
import { lineChart } from '../src/loadtest/svg-chart.js';
import { resolveTarget } from '../src/loadtest/target.js';
import { pickOp } from '../src/loadtest/virtual-user.js';
import { prepareOutDir } from '../src/loadtest/out-dir.js';
import { loadtest } from '../src/commands/loadtest.js';

const ok = (startMs: number, latencyMs: number): Sample => ({
  startMs,
  latencyMs,
  op: 'recall',
  outcome: 'ok',
});
const failed = (startMs: number): Sample => ({ startMs, latencyMs: 1, op: 'capture', outcome: 'error' });

describe('percentiles', () => {
  it('takes the nearest rank: the smallest value with at least q of the values at or below it', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.95)).toBe(95);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([1, 2, 3], 0.5)).toBe(2);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('counts rate-limited operations apart from errors and times only successes', () => {
    const s = summarise([
      ok(0, 10),
      ok(0, 30),
      failed(0),
      { startMs: 0, latencyMs: 2, op: 'recall', outcome: 'rate_limited' },
    ]);
    expect(s).toMatchObject({
      count: 4,
      ok: 2,
      errors: 1,
      rateLimited: 1,
      errorRate: 0.25,
      p50Ms: 10,
      p99Ms: 30,
    });
  });
});

describe('scenarios', () => {
  it('has the reference profiles at scale 1', () => {
    const M = 60_000;
    expect(buildScenario('smoke').stages).toEqual([{ users: 5, durationMs: M, rampMs: 0 }]);
    expect(buildScenario('baseline').stages[0]).toMatchObject({ users: 25, durationMs: 5 * M });
    expect(buildScenario('sustained').stages[0]).toMatchObject({ users: 50, durationMs: 10 * M });
    const stress = buildScenario('stress');
    expect(totalDurationMs(stress.stages)).toBe(15 * M);
    expect(stress.stages.at(-1)?.users).toBe(100);
    expect(stress.isStepped).toBe(true);
    expect(buildScenario('spike').stages.map((s) => [s.users, s.durationMs])).toEqual([
      [10, 2 * M],
      [100, 3 * M],
      [10, 2 * M],
    ]);
  });

  it('shrinks every stage in proportion to --duration and --scale, and sets the peak with --users', () => {
    const spike = buildScenario('spike', { durationMs: 7000, users: 20 });
    expect(spike.stages.map((s) => [s.users, s.durationMs])).toEqual([
      [2, 2000],
      [20, 3000],
      [2, 2000],
    ]);
    const stress = buildScenario('stress', { scale: 0.01 });
    expect(totalDurationMs(stress.stages)).toBe(9000);
    expect(stress.stages[0]).toEqual({ users: 20, durationMs: 1800, rampMs: 300 });
    expect(buildScenario('smoke', { durationMs: 3000, users: 2, scale: 2 }).stages).toEqual([
      { users: 2, durationMs: 6000, rampMs: 0 },
    ]);
  });

  it('needs --users and --duration for custom, and clamps the ramp to the stage', () => {
    expect(() => buildScenario('custom', { users: 3 })).toThrow(/--users N and --duration D/);
    expect(buildScenario('custom', { users: 3, durationMs: 1000, rampMs: 5000 }).stages).toEqual([
      { users: 3, durationMs: 1000, rampMs: 1000 },
    ]);
  });

  it('ramps users linearly inside a stage and drops to 0 after the end', () => {
    const stages = [
      { users: 10, durationMs: 1000, rampMs: 500 },
      { users: 20, durationMs: 1000, rampMs: 0 },
    ];
    expect(usersAt(stages, 0)).toBe(0);
    expect(usersAt(stages, 250)).toBe(5);
    expect(usersAt(stages, 600)).toBe(10);
    expect(usersAt(stages, 1000)).toBe(20);
    expect(usersAt(stages, 2000)).toBe(0);
    expect(stageAt(stages, 999)).toBe(0);
    expect(stageAt(stages, 1500)).toBe(1);
    expect(stageAt(stages, 5000)).toBe(1);
  });

  it('parses durations and mixes, refusing nonsense', () => {
    expect(parseDuration('90s', 'duration')).toBe(90_000);
    expect(parseDuration('2m', 'duration')).toBe(120_000);
    expect(parseDuration('500ms', 'duration')).toBe(500);
    expect(parseDuration('3', 'duration')).toBe(3000);
    for (const bad of ['', '-1s', '0', '2d', 'soon', '25h'])
      expect(() => parseDuration(bad, 'duration')).toThrow();
    expect(parseMix('capture=30,recall=70')).toEqual({ capture: 30, recall: 70 });
    expect(parseMix('recall=1')).toEqual({ capture: 0, recall: 1 });
    for (const bad of ['capture=0,recall=0', 'forget=1', 'capture=-1', 'capture'])
      expect(() => parseMix(bad)).toThrow();
    expect(pickOp({ capture: 30, recall: 70 }, 0.29)).toBe('capture');
    expect(pickOp({ capture: 30, recall: 70 }, 0.3)).toBe('recall');
    expect(pickOp({ capture: 0, recall: 1 }, 0)).toBe('recall');
  });
});

describe('breaking point', () => {
  const stages = [100, 200, 300].map((users) => ({ users, durationMs: 1000, rampMs: 200 }));
  const stage = (index: number, latencyMs: number, errors = 0, count = 20): Sample[] =>
    Array.from({ length: count }, (_, i) => {
      const startMs = index * 1000 + 200 + i * 10;
      return i < errors ? failed(startMs) : ok(startMs, latencyMs);
    });

  it('is the first stage whose error rate exceeds 5 %', () => {
    const samples = [...stage(0, 10), ...stage(1, 12, 1), ...stage(2, 12, 2)];
    const results = stageResults(stages, samples);
    expect(results.map((r) => r.errorRate)).toEqual([0, 0.05, 0.1]);
    expect(findBreakingPoint(results)).toMatchObject({ stage: 2, users: 300 });
  });

  it('is the first stage whose p95 exceeds 3 × the first stage p95', () => {
    const results = stageResults(stages, [...stage(0, 10), ...stage(1, 30), ...stage(2, 31)]);
    const found = findBreakingPoint(results);
    expect(found).toMatchObject({ stage: 2, users: 300 });
    expect(found?.reason).toContain('p95 31 ms > 3 × first stage');
  });

  it('ignores operations started during a ramp, and is undefined when every stage holds', () => {
    const rampSpike = [ok(1050, 10_000), failed(1100), failed(1150)];
    const results = stageResults(stages, [...stage(0, 10), ...rampSpike, ...stage(1, 20), ...stage(2, 25)]);
    expect(results[1]?.count).toBe(20);
    expect(findBreakingPoint(results)).toBeUndefined();
  });
});

describe('CSV', () => {
  it('quotes fields holding commas, quotes or line breaks, and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-3.5')).toBe('-3.5');
    expect(csvField(-2)).toBe('-2');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(true)).toBe('true');
    expect(csvLine(['a', 1, undefined])).toBe('a,1,\r\n');
  });

  it('writes a header and one row per operation, and never overwrites a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-lt-csv-'));
    const path = join(dir, 'requests.csv');
    const csv = await CsvWriter.open(path);
    csv.write({ ...ok(12.5, 40), timestampMs: 0, vu: 1, stage: 0, phases: { embed: 1, ticket: 2 }, hits: 3 });
    csv.write({ ...failed(13), timestampMs: 0, vu: 2, stage: 0, status: 503, code: 'OVERLOADED' });
    await csv.close();
    const lines = (await readFile(path, 'utf8')).split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[1]).toBe('1970-01-01T00:00:00.000Z,12.5,1,0,recall,true,ok,,,40,1,,,,2,,,,3');
    expect(lines[2]).toBe('1970-01-01T00:00:00.000Z,13,2,0,capture,false,error,503,OVERLOADED,1,,,,,,,,,');
    expect(lines).toHaveLength(4);
    await expect(CsvWriter.open(path)).rejects.toThrow();
  });
});

describe('metrics text', () => {
  const text = [
    '# HELP vault_requests_total x',
    'vault_requests_total{method="POST",endpoint="/v1/tickets",status="200"} 7',
    'vault_requests_total{method="POST",endpoint="/v1/tickets",status="429"} 2',
    'vault_cpu_usage_percent 12.5',
    'vault_decryption_duration_seconds_bucket{le="0.005"} 1',
    'vault_decryption_duration_seconds_bucket{le="0.01"} 3',
    'vault_decryption_duration_seconds_bucket{le="+Inf"} 4',
  ].join('\n');

  it('sums series by name and labels, and interpolates histogram quantiles like Prometheus', () => {
    const series = parsePrometheusText(text);
    expect(sumOf(series, 'vault_requests_total', { endpoint: '/v1/tickets' })).toBe(9);
    expect(sumOf(series, 'vault_requests_total', { status: '429' })).toBe(2);
    expect(sumOf(series, 'vault_cpu_usage_percent')).toBe(12.5);
    expect(sumOf(series, 'missing')).toBeUndefined();
    const buckets = bucketsOf(series, 'vault_decryption_duration_seconds');
    expect(buckets?.counts).toEqual([1, 3, 4]);
    if (buckets === undefined) return;
    expect(quantileBetween(undefined, buckets, 0.5)).toBeCloseTo(0.0075);
    expect(quantileBetween(buckets, buckets, 0.5)).toBeNaN();
  });
});

describe('live view and charts', () => {
  it('shows rate, percentiles, errors and users; colour only when asked', () => {
    const recent = [ok(4000, 10), ok(4500, 20), failed(4600)];
    const snap = { elapsedMs: 5000, totalMs: 60_000, users: 3, operations: 3, recent };
    const plain = formatLiveLine(snap, false);
    expect(plain).toBe(
      '[00:05/01:00] | VUs 3 | 0.6 op/s | p50 10 p95 20 p99 20 ms | errors 1 (33.3 %) | 429 0 | ops 3',
    );
    expect(plain).not.toContain('\x1b[');
    expect(formatLiveLine(snap, true)).toContain('\x1b[31merrors 1');
    expect(shouldColor(true, {})).toBe(true);
    expect(shouldColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor(true, { NO_COLOR: '' })).toBe(true);
    expect(shouldColor(true, { TERM: 'dumb' })).toBe(false);
    expect(shouldColor(false, {})).toBe(false);
  });

  it('draws an escaped SVG with one path per run of finite points', () => {
    const svg = lineChart({
      id: 'x',
      title: '<p95> & co',
      yUnit: 'ms',
      xMax: 10,
      series: [
        {
          name: 'p95',
          color: '#000',
          points: [
            [1, 5],
            [2, 6],
            [3, Number.NaN],
            [4, 7],
            [5, 8],
          ],
        },
      ],
    });
    expect(svg).toContain('&lt;p95&gt; &amp; co');
    expect(svg.match(/<path class="series"/g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|<script/);
  });
});

describe('target', () => {
  it('refuses a non-loopback Vault taken from a config file unless named on the command line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-lt-target-'));
    const path = join(dir, 'config.json');
    const config = {
      version: 1,
      vaultUrl: 'https://vault.example.com',
      indexUrl: 'https://index.example.com',
      indexId: 'team',
      token: `rune_${'a'.repeat(43)}`,
      publicKeyHash: '0'.repeat(64),
      vaultKeyId: '0'.repeat(32),
    };
    await writeFile(path, JSON.stringify(config), { mode: 0o600 });
    await expect(resolveTarget({ configFlag: path, env: {} })).rejects.toMatchObject({
      code: 'LOADTEST_TARGET_NOT_EXPLICIT',
    });
    await expect(
      resolveTarget({ configFlag: path, env: { VAULT_URL: 'https://other.example.com' } }),
    ).rejects.toMatchObject({ code: 'LOADTEST_TARGET_NOT_EXPLICIT' });
    const named = await resolveTarget({
      configFlag: path,
      vaultUrlFlag: 'https://vault.example.com/',
      env: {},
    });
    expect(named.config.vaultUrl).toBe('https://vault.example.com');
    const loopback = join(dir, 'local.json');
    await writeFile(
      loopback,
      JSON.stringify({ ...config, vaultUrl: 'http://127.0.0.1:1', indexUrl: 'http://127.0.0.1:2' }),
      { mode: 0o600 },
    );
    expect((await resolveTarget({ configFlag: loopback, env: {} })).source).toBe(loopback);
  });

  it('with a token, needs both URLs on the command line or in the environment', async () => {
    await expect(
      resolveTarget({ tokenFlag: `rune_${'a'.repeat(43)}`, vaultUrlFlag: 'http://127.0.0.1:1', env: {} }),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('command line', () => {
  it('refuses an unknown scenario, a bad --users and a custom run without its size, as usage errors', async () => {
    for (const argv of [
      ['bogus'],
      ['smoke', '--users', '0'],
      ['custom', '--users', '3'],
      ['smoke', '--scale', '0'],
    ]) {
      await expect(loadtest(argv, {})).rejects.toMatchObject({ code: 'USAGE', exitCode: 2 });
    }
  });

  it('cannot read a missing --ca, and cannot make a report folder under a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-lt-cli-'));
    await expect(
      resolveTarget({
        tokenFlag: `rune_${'a'.repeat(43)}`,
        vaultUrlFlag: 'http://127.0.0.1:1',
        indexUrlFlag: 'http://127.0.0.1:2',
        caFileFlag: join(dir, 'missing.pem'),
        env: {},
      }),
    ).rejects.toMatchObject({ code: 'LOADTEST_CA_UNREADABLE' });
    const file = join(dir, 'file');
    await writeFile(file, '');
    await expect(prepareOutDir(join(file, 'report'))).rejects.toMatchObject({
      code: 'LOADTEST_OUT_UNWRITABLE',
    });
    await writeFile(join(dir, 'summary.json'), '{}');
    await expect(prepareOutDir(dir)).rejects.toMatchObject({ code: 'LOADTEST_OUT_EXISTS' });
  });
});
