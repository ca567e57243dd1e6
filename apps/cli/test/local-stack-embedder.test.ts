import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonHttpClient, RuneClient, readMemberConfig, type MemberConfig } from '@rune/client';
import { getParamSet } from '@rune/crypto';
import { DEFAULT_BM25_DIM } from '@rune/embed';
import { openEmbeddedStore } from '@rune/index';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_CONFIG_FILE, startLocalStack, type LocalStack } from '../src/stack/local-stack.js';

const dirs: string[] = [];
const stacks: LocalStack[] = [];
afterEach(async () => {
  for (const stack of stacks.splice(0)) await stack.close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(dataDir: string): Promise<LocalStack> {
  const stack = await startLocalStack({ dataDir, plainHttp: true, vaultPort: 0, indexPort: 0, threads: 1 });
  stacks.push(stack);
  return stack;
}

async function stop(stack: LocalStack): Promise<void> {
  stacks.splice(stacks.indexOf(stack), 1);
  await stack.close();
}

async function indexEmbedder(config: MemberConfig): Promise<{ embedderId: unknown; dim: unknown }> {
  const http = new JsonHttpClient({ service: 'index', baseUrl: config.indexUrl });
  try {
    return (await http.get(`/v1/indexes/${config.indexId}`)) as { embedderId: unknown; dim: unknown };
  } finally {
    http.close();
  }
}

const MEMORIES = [
  [
    'We chose PostgreSQL for the ledger: it gives serializable transactions',
    'which database holds the ledger',
  ],
  ['Redis caches the session tokens with a ten minute expiry', 'how long do cached sessions live in redis'],
] as const;

/** Captures a memory through the member's client and recalls it by a paraphrase; the embedder id on success. */
async function roundTrip(config: MemberConfig, which: 0 | 1 = 0): Promise<string | undefined> {
  const [insight, query] = MEMORIES[which];
  const client = await RuneClient.connect(config);
  try {
    const { recordId } = await client.capture({ insight });
    const { hits } = await client.recall(query, { k: 1 });
    return hits[0]?.recordId === recordId ? client.embedder.id : undefined;
  } finally {
    client.close();
  }
}

describe('startLocalStack: the index embedder', () => {
  it('creates a new team index with the default BM25 embedder and writes it in the admin config', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rune-stack-embed-'));
    dirs.push(dataDir);
    const stack = await start(dataDir);
    const want = { id: `bm25-hash-v1-d${DEFAULT_BM25_DIM}`, dim: DEFAULT_BM25_DIM };
    expect(stack.adminConfig.embedder).toEqual(want);
    expect((await readMemberConfig(join(dataDir, ADMIN_CONFIG_FILE))).embedder).toEqual(want);
    expect(await indexEmbedder(stack.adminConfig)).toMatchObject({ embedderId: want.id, dim: want.dim });
    expect(await roundTrip(stack.adminConfig)).toBe(want.id);
  });

  it('keeps an existing index built with the old lexical embedder working across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rune-stack-embed-'));
    dirs.push(dataDir);
    // What an older `rune up` left behind: the team index, created for lexical-hash-v1-d384.
    const store = await openEmbeddedStore({ dataDir: join(dataDir, 'index') });
    await store.createIndex({
      id: 'team',
      paramSetId: 1,
      dim: 384,
      queryMode: getParamSet(1).queryMode,
      embedderId: 'lexical-hash-v1-d384',
    });
    await store.close();
    const old = { id: 'lexical-hash-v1-d384', dim: 384 };

    const first = await start(dataDir);
    expect(first.adminConfig.embedder).toEqual(old);
    expect(await roundTrip(first.adminConfig)).toBe(old.id);
    await stop(first);

    const again = await start(dataDir);
    expect(again.adminConfig.embedder).toEqual(old);
    expect((await readMemberConfig(join(dataDir, ADMIN_CONFIG_FILE))).embedder).toEqual(old);
    expect(await roundTrip(again.adminConfig, 1)).toBe(old.id);
  });
});
