import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JsonHttpClient, type MemberConfig, writeMemberConfig } from '@rune/client';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../src/loadtest/csv.js';
import { fetchText } from '../src/loadtest/metrics-sampler.js';
import { type Series, parsePrometheusText, sumOf } from '../src/loadtest/prometheus-text.js';
import { CHART_IDS } from '../src/loadtest/report-html.js';
import type { Summary } from '../src/loadtest/summary.js';
import { type LocalStack, startLocalStack } from '../src/stack/local-stack.js';
import { type RuneRun, runRune } from './run-rune.js';

/** Debian's chromium; RUNE_TEST_CHROMIUM names another build (a wrapper script is fine). */
const CHROMIUM = process.env.RUNE_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** The role docs/LOADTEST.md tells an admin to create. */
const LOADTEST_ROLE = {
  name: 'loadtest',
  capabilities: ['capture', 'recall'],
  topKCap: 10,
  rateLimit: { requestsPerMinute: 100_000, burst: 10_000 },
};
/** A role a two-user run outruns at once: its 429s must be reported, and not as errors. */
const TIGHT_ROLE = {
  ...LOADTEST_ROLE,
  name: 'loadtest-tight',
  rateLimit: { requestsPerMinute: 1, burst: 6 },
};
/** Generous: a `rune` child starts through tsx, slow on a crowded machine; the load itself is 2–3 s. */
const RUN_TIMEOUT_MS = 90_000;

async function scrape(url: string, caCert: string | undefined): Promise<Series[]> {
  return parsePrometheusText(await fetchText(`${url}/metrics`, caCert));
}

function posts(series: Series[], name: string, endpoint: string): number {
  return sumOf(series, name, { method: 'POST', endpoint }) ?? 0;
}

describe('rune loadtest smoke against a local stack', { timeout: RUN_TIMEOUT_MS }, () => {
  let root: string;
  let stack: LocalStack;
  let admin: JsonHttpClient;
  let member: MemberConfig;
  let memberPath: string;
  let out: string;
  let run: RuneRun;
  let before: { vault: Series[]; index: Series[] };
  let after: { vault: Series[]; index: Series[] };

  const env = () => ({ PATH: process.env.PATH, HOME: root, NO_COLOR: '1' });

  async function addMember(role: typeof LOADTEST_ROLE): Promise<string> {
    await admin.post('/v1/roles', role);
    const made = (await admin.post('/v1/members', {
      name: role.name,
      email: `${role.name}@localhost`,
      role: role.name,
    })) as { member: { id: string }; token: string };
    member = { ...stack.adminConfig, token: made.token, memberId: made.member.id, name: role.name };
    const path = join(root, `${role.name}.json`);
    await writeMemberConfig(path, member);
    return path;
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rune-loadtest-'));
    stack = await startLocalStack({ dataDir: join(root, 'data'), vaultPort: 0, indexPort: 0, threads: 1 });
    const { vaultUrl, token, caCert } = stack.adminConfig;
    admin = new JsonHttpClient({
      service: 'vault',
      baseUrl: vaultUrl,
      token,
      ...(caCert === undefined ? {} : { caCert }),
    });
    memberPath = await addMember(LOADTEST_ROLE);
    out = join(root, 'report');
    const snapshot = async () => ({
      vault: await scrape(member.vaultUrl, member.caCert),
      index: await scrape(member.indexUrl, member.caCert),
    });
    before = await snapshot();
    run = await runRune(
      ['loadtest', 'smoke', '--users', '2', '--duration', '3s', '--out', out, '--config', memberPath],
      { env: env(), timeoutMs: RUN_TIMEOUT_MS },
    );
    after = await snapshot();
  }, 2 * RUN_TIMEOUT_MS);

  afterAll(async () => {
    admin.close();
    await stack.close();
    await rm(root, { recursive: true, force: true });
  });

  it('runs real captures and recalls; the CSV, summary.json and the services agree on the count', async () => {
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Summary;
    const csv = (await readFile(join(out, 'requests.csv'), 'utf8')).split('\r\n').filter((l) => l !== '');
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    const rows = csv.slice(1).map((l) => l.split(','));
    const ops = (op: string) => rows.filter((r) => r[4] === op).length;
    expect(rows).toHaveLength(summary.operations);
    expect(summary.total).toMatchObject({ errors: 0, rateLimited: 0 });
    expect(ops('capture')).toBe(summary.byOp.capture.count);
    expect(ops('recall')).toBe(summary.byOp.recall.count);
    expect(ops('capture')).toBeGreaterThan(0);
    expect(ops('recall')).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r[2]))).toEqual(new Set(['1', '2']));

    // A capture is one permit at the Vault; a recall one ticket and one opening there and one
    // search at the index. (The index's insert route also takes the Vault's canary plants.)
    const delta = (svc: 'vault' | 'index', endpoint: string) =>
      posts(after[svc], `${svc}_requests_total`, endpoint) -
      posts(before[svc], `${svc}_requests_total`, endpoint);
    expect(delta('vault', '/v1/permits')).toBe(ops('capture'));
    expect(delta('vault', '/v1/tickets')).toBe(ops('recall'));
    expect(delta('vault', '/v1/results')).toBe(ops('recall'));
    expect(delta('index', '/v1/indexes/:id/search')).toBe(ops('recall'));
    expect(summary.server.requests.vault['/v1/permits']).toBe(ops('capture'));
    expect(summary.server.requests.vault['/v1/tickets']).toBe(ops('recall'));
    expect(summary.server.decryption.count).toBe(ops('recall'));
  });

  it('prints a console summary on stdout and plain live lines on stderr (no TTY, NO_COLOR)', () => {
    expect(run.stdout).toContain('rune loadtest smoke: 2 virtual users');
    expect(run.stdout).toMatch(/^recall\s+\d+\s+\d+\s+0\s+0\s+\d+\s+\d+\s+\d+$/m);
    expect(run.stdout).toMatch(/Vault decryption: \d+ results, mean/);
    expect(run.stderr).toMatch(/^\[00:0\d\/00:03\] \| VUs \d \| [\d.]+ op\/s \| p50 /m);
    expect(`${run.stdout}${run.stderr}`).not.toContain('\x1b[');
  });

  it('targets a Vault named by VAULT_URL, INDEX_URL and VAULT_TOKEN, and reports 429s apart from errors', async () => {
    // A member whose role a one-user run outruns at once, reached without any member config.
    const tightPath = await addMember(TIGHT_ROLE);
    expect(tightPath).not.toBe(memberPath);
    const caFile = join(root, 'ca.pem');
    await writeFile(caFile, stack.adminConfig.caCert ?? '');
    const tightOut = join(root, 'tight');
    const res = await runRune(
      ['loadtest', 'custom', '--users', '2', '--duration', '2s', '--out', tightOut, '--ca', caFile, '--json'],
      {
        env: {
          ...env(),
          VAULT_URL: stack.vault.url,
          INDEX_URL: stack.index.url,
          VAULT_TOKEN: member.token,
          RUNE_CONFIG: join(root, 'absent.json'),
        },
        timeoutMs: RUN_TIMEOUT_MS,
      },
    );
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout) as Summary;
    expect(summary.target).toMatchObject({ vaultUrl: stack.vault.url, source: 'flags' });
    expect(summary.total.rateLimited).toBeGreaterThan(0);
    expect(summary.total.errors).toBe(0);
    const csv = await readFile(join(tightOut, 'requests.csv'), 'utf8');
    expect(csv).toMatch(/,false,rate_limited,429,RATE_LIMITED,/);
  });

  it('writes a report that opens in headless Chromium with every chart drawn and nothing fetched', async () => {
    expect(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM} (apt-get install chromium, or set RUNE_TEST_CHROMIUM)`,
    ).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
      page.on('request', (r) => requests.push(r.url()));
      const reportUrl = pathToFileURL(join(out, 'report.html')).href;
      await page.goto(reportUrl, { waitUntil: 'load' });
      expect(problems).toEqual([]);
      expect(requests).toEqual([reportUrl]);
      for (const id of CHART_IDS) {
        const box = await page.locator(`#${id} svg`).boundingBox();
        expect(box?.width, id).toBeGreaterThan(100);
        expect(box?.height, id).toBeGreaterThan(50);
        expect(await page.locator(`#${id} svg .series`).count(), `${id} draws its series`).toBeGreaterThan(0);
      }
      expect(await page.locator('table').first().textContent()).toContain('recall');
    } finally {
      await browser.close();
    }
  });
});
