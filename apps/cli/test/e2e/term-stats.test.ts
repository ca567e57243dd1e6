import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonHttpClient, type MemberConfig, RuneClient, isRuneClientError } from '@rune/client';
import { bm25EmbedderId, createBm25Embedder } from '@rune/embed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealTermStatsDelta } from '../../../../packages/client/src/term-stats-seal.js';
import { TERM_STATS_LOG_FILE, TermStatsLog, encodeEntry } from '../../../index/src/storage/term-stats-log.js';
import { type LocalStack, startLocalStack } from '../../src/stack/local-stack.js';

/**
 * Sealed team term statistics end to end (decision 0009), against a real local stack on
 * 127.0.0.1: a Vault and an index with embedded storage, two members, restarts on the same ports.
 */

const INSIGHTS = [
  'postgres connection pool exhausted under load; raise max connections',
  'the deploy script retries flaky uploads three times',
];
const EXTRA = 'kafka consumer lag alarms fire after partition rebalance';
/** The stack's own index is built with the lexical embedder; this one with BM25. */
const INDEX_ID = 'notes';

interface Warning {
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

let root: string;
let dataDir: string;
let stack: LocalStack;
let member: MemberConfig;
let admin: MemberConfig;
const warnings: Warning[] = [];
const clients: RuneClient[] = [];

const logger = {
  warn: (fields: Record<string, unknown>, message: string) => warnings.push({ message, fields }),
};

async function start(ports?: { vault: number; index: number }): Promise<LocalStack> {
  return startLocalStack({
    dataDir,
    plainHttp: true,
    vaultPort: ports?.vault ?? 0,
    indexPort: ports?.index ?? 0,
    threads: 1,
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A member config of the BM25 index, on the stack's current URLs. */
function bm25Config(config: MemberConfig): MemberConfig {
  return {
    ...config,
    indexId: INDEX_ID,
    embedder: { id: bm25EmbedderId(384), dim: 384 },
    vaultUrl: stack.vault.url,
    indexUrl: stack.index.url,
  };
}

async function connect(config: MemberConfig, stateDir?: string): Promise<RuneClient> {
  const client = await RuneClient.connect(bm25Config(config), {
    embedder: createBm25Embedder({ dim: 384 }),
    termStats: { logger, ...(stateDir === undefined ? {} : { stateDir }) },
  });
  clients.push(client);
  return client;
}

function closeClients(): void {
  for (const client of clients.splice(0)) client.close();
}

function adminVault(): JsonHttpClient {
  return new JsonHttpClient({ service: 'vault', baseUrl: stack.vault.url, token: stack.adminConfig.token });
}

function indexClient(): JsonHttpClient {
  return new JsonHttpClient({ service: 'index', baseUrl: stack.index.url });
}

async function refusalCode(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'NO_ERROR';
  } catch (err: unknown) {
    return isRuneClientError(err) ? err.code : String(err);
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rune-term-stats-'));
  dataDir = join(root, 'data');
  stack = await start();
  const vault = adminVault();
  const operator = new JsonHttpClient({
    service: 'index',
    baseUrl: stack.index.url,
    token: stack.index.operatorToken,
  });
  try {
    await operator.post('/v1/indexes', {
      indexId: INDEX_ID,
      paramSetId: 1,
      dim: 384,
      embedderId: bm25EmbedderId(384),
    });
    await vault.post('/v1/indexes', { indexId: INDEX_ID, dim: 384 });
    const added = (await vault.post('/v1/members', {
      name: 'bob',
      email: 'bob@example.com',
      role: 'member',
    })) as { member: { id: string }; token: string };
    admin = bm25Config(stack.adminConfig);
    member = bm25Config({ ...stack.adminConfig, token: added.token, memberId: added.member.id, name: 'bob' });
  } finally {
    vault.close();
    operator.close();
  }
}, 120_000);

afterAll(async () => {
  closeClients();
  await stack.close();
  await rm(root, { recursive: true, force: true });
});

describe('sealed team term statistics', () => {
  it("gives member B's query side the document frequencies of member A's captures", async () => {
    const alice = await connect(admin);
    const bob = await connect(member);
    for (const insight of INSIGHTS) await alice.capture({ insight });
    await bob.recall('postgres connection pool');
    const stats = bob.embedder.termStats;
    if (stats === undefined) throw new Error('the BM25 embedder has term stats');
    expect(stats.documentCount).toBe(2);
    for (const insight of INSIGHTS) {
      const terms = bob.embedder.documentTerms?.(insight) ?? new Uint32Array();
      expect(terms.length).toBeGreaterThan(3);
      for (const term of terms) expect(stats.df(term)).toBeGreaterThanOrEqual(1);
    }
    const shared = bob.embedder.documentTerms?.('postgres') ?? new Uint32Array();
    expect(stats.df(shared[0] ?? 0)).toBe(1);
    closeClients();
  });

  it('refuses an append without a permit, a replayed append, and a fetch without a grant', async () => {
    const vault = new JsonHttpClient({ service: 'vault', baseUrl: stack.vault.url, token: member.token });
    const index = indexClient();
    try {
      const permitGrant = (await vault.post('/v1/permits', { indexId: member.indexId })) as {
        permit: Record<string, unknown>;
        recordId: string;
      };
      const statsGrant = (await vault.post('/v1/term-stats/grant', { indexId: member.indexId })) as {
        grant: Record<string, unknown>;
        statsKey: string;
      };
      const key = Buffer.from(statsGrant.statsKey, 'base64url');
      const sealed = sealTermStatsDelta(
        key,
        { indexId: member.indexId, recordId: permitGrant.recordId, kind: 'capture' },
        { documents: 1, terms: Uint32Array.from([1, 2, 3]) },
      );
      const path = `/v1/indexes/${member.indexId}/term-stats`;
      const body = { permit: permitGrant.permit, sealed: Buffer.from(sealed).toString('base64url') };
      expect(await refusalCode(index.post(path, { ...body, permit: statsGrant.grant }))).toBe(
        'UNAUTHENTICATED',
      );
      const payload = permitGrant.permit.payload as Record<string, unknown>;
      const forged = { ...permitGrant.permit, payload: { ...payload, recordId: 'rec_forged' } };
      expect(await refusalCode(index.post(path, { ...body, permit: forged }))).toBe('UNAUTHENTICATED');
      expect(await index.post(path, body)).toMatchObject({ seq: 3 });
      expect(await refusalCode(index.post(path, body))).toBe('REPLAYED');
      const fetchPath = `/v1/indexes/${member.indexId}/term-stats/fetch`;
      expect(await refusalCode(index.post(fetchPath, { grant: permitGrant.permit, after: 0 }))).toBe(
        'UNAUTHENTICATED',
      );
      const otherIndex = (await vault.post('/v1/term-stats/grant', { indexId: 'team' })) as {
        grant: unknown;
      };
      expect(await refusalCode(index.post(fetchPath, { grant: otherIndex.grant, after: 0 }))).toBe(
        'FORBIDDEN',
      );
      const tiny = Buffer.alloc(50).toString('base64url');
      expect(await refusalCode(index.post(path, { ...body, sealed: tiny }))).toBe('INVALID_INPUT');
      const huge = Buffer.alloc(140_000).toString('base64url');
      expect(await refusalCode(index.post(path, { ...body, sealed: huge }))).toBe('PAYLOAD_TOO_LARGE');
      const page = (await index.post(fetchPath, { grant: statsGrant.grant, after: 0 })) as {
        lastSeq: number;
      };
      expect(page.lastSeq).toBe(3);
    } finally {
      vault.close();
      index.close();
    }
  });

  it('resumes from the cached sequence: a second client fetches only newer deltas', async () => {
    const stateDir = join(root, 'state-bob');
    const first = await connect(member, stateDir);
    expect(await first.refreshTermStats()).toMatchObject({ applied: 3, skipped: 0, seq: 3 });
    closeClients();
    const alice = await connect(admin);
    await alice.capture({ insight: EXTRA });
    const second = await connect(member, stateDir);
    expect(await second.refreshTermStats()).toMatchObject({ applied: 1, skipped: 0, seq: 4 });
    expect(second.embedder.termStats?.documentCount).toBe(4);
    closeClients();
  });

  it('keeps the log across a restart, and the cache resumes against it', async () => {
    const ports = { vault: portOf(stack.vault.url), index: portOf(stack.index.url) };
    await stack.close();
    stack = await start(ports);
    const fresh = await connect(member);
    expect(await fresh.refreshTermStats()).toMatchObject({ applied: 4, seq: 4 });
    const cached = await connect(member, join(root, 'state-bob'));
    expect(await cached.refreshTermStats()).toMatchObject({ applied: 0, seq: 4 });
    expect(cached.embedder.termStats?.toJSON()).toEqual(fresh.embedder.termStats?.toJSON());
    closeClients();
  });

  it('skips a stored delta whose sealed bytes were altered, with a warning', async () => {
    const ports = { vault: portOf(stack.vault.url), index: portOf(stack.index.url) };
    await stack.close();
    // A hostile index rewrites delta 1 consistently: its own checksum passes, the seal must not.
    const logDir = join(dataDir, 'index', 'indexes', member.indexId);
    const log = await TermStatsLog.open(logDir);
    const { deltas } = await log.read(0, 100, 1 << 24);
    await log.close();
    const rewritten = deltas.map((delta) => {
      if (delta.seq !== 1) return encodeEntry(delta);
      const sealed = Uint8Array.from(delta.sealed);
      sealed[20] = (sealed[20] ?? 0) ^ 0x01;
      return encodeEntry({ ...delta, sealed });
    });
    await writeFile(join(logDir, TERM_STATS_LOG_FILE), Buffer.concat(rewritten));
    stack = await start(ports);
    warnings.length = 0;
    const client = await connect(member);
    expect(await client.refreshTermStats()).toMatchObject({ applied: 3, skipped: 1, seq: 4 });
    expect(client.embedder.termStats?.documentCount).toBe(3);
    expect(warnings.map((w) => w.message)).toContain('term-stats delta refused; skipped');
    expect(JSON.stringify(warnings)).not.toContain('postgres');
    closeClients();
  });

  it('counts a forget with its text as −1, bound to the delete-permit', async () => {
    const alice = await connect(admin);
    const note = 'zanzibar flamingo migration checklist';
    const captured = await alice.capture({ insight: note });
    await alice.forget(captured.recordId, { text: note });
    const bob = await connect(member);
    expect(await bob.refreshTermStats()).toMatchObject({ applied: 5, skipped: 1, seq: 6 });
    expect(bob.embedder.termStats?.documentCount).toBe(3);
    for (const term of bob.embedder.documentTerms?.(note) ?? [])
      expect(bob.embedder.termStats?.df(term)).toBe(0);
    closeClients();
  });

  it('rebuilds a cache that is ahead of the index log (the index was restored from a backup)', async () => {
    const ports = { vault: portOf(stack.vault.url), index: portOf(stack.index.url) };
    await stack.close();
    // Keep only the first two deltas, as a restore of an older index backup would.
    const logDir = join(dataDir, 'index', 'indexes', member.indexId);
    const log = await TermStatsLog.open(logDir);
    const { deltas } = await log.read(0, 2, 1 << 24);
    await log.close();
    await writeFile(join(logDir, TERM_STATS_LOG_FILE), Buffer.concat(deltas.map((d) => encodeEntry(d))));
    stack = await start(ports);
    warnings.length = 0;
    const cached = await connect(member, join(root, 'state-bob')); // cached at seq 4
    // Delta 1 was altered by the test above: skipped again; delta 2 applies.
    expect(await cached.refreshTermStats()).toMatchObject({ applied: 1, skipped: 1, seq: 2 });
    expect(cached.embedder.termStats?.documentCount).toBe(1);
    expect(warnings.map((w) => w.message)).toContain(
      'term-stats log is behind this cache (index restored or recreated); rebuilding the counts',
    );
    closeClients();
  });

  it('hands the stats key to members who may recall, and to no one else', async () => {
    const vault = adminVault();
    try {
      await vault.post('/v1/roles', {
        name: 'auditor',
        capabilities: ['read_audit'],
        topKCap: 5,
        rateLimit: { requestsPerMinute: 60, burst: 10 },
      });
      const tokens: Record<string, string> = {};
      for (const role of ['reader', 'auditor']) {
        const added = (await vault.post('/v1/members', {
          name: role,
          email: `${role}@example.com`,
          role,
        })) as { token: string };
        tokens[role] = added.token;
      }
      const as = (role: string) =>
        new JsonHttpClient({ service: 'vault', baseUrl: stack.vault.url, token: tokens[role] ?? '' });
      const reader = as('reader');
      const auditor = as('auditor');
      try {
        const grant = (await reader.post('/v1/term-stats/grant', { indexId: INDEX_ID })) as {
          statsKey: string;
        };
        expect(Buffer.from(grant.statsKey, 'base64url')).toHaveLength(32);
        expect(await refusalCode(auditor.post('/v1/term-stats/grant', { indexId: INDEX_ID }))).toBe(
          'FORBIDDEN',
        );
      } finally {
        reader.close();
        auditor.close();
      }
    } finally {
      vault.close();
    }
  });
});
