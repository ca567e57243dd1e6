import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonHttpClient, RuneClient } from '@rune/client';
import type { Embedder } from '@rune/embed';
import { startLocalStack } from '../../apps/cli/src/stack/local-stack.js';
import { createBenchMember } from '../e2e/bench-member.js';

/** The index every quality run creates, named so it is never mistaken for the stack's default. */
export const QUALITY_INDEX_ID = 'quality';

export interface QualityStack {
  /** A member holding the bench role (capture + recall, top-k cap 10), on the quality index. */
  readonly client: RuneClient;
  close(): Promise<void>;
}

/**
 * A fresh local stack (plain HTTP on 127.0.0.1, ephemeral ports, a temp data dir) with an index
 * created for `embedder`'s id and dimension, and a member client connected to it through the
 * real Vault and index: every capture is encrypted, every recall scored under encryption.
 */
export async function openQualityStack(embedder: Embedder): Promise<QualityStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'rune-quality-'));
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  try {
    stack = await startLocalStack({
      dataDir,
      vaultPort: 0,
      indexPort: 0,
      plainHttp: true,
      dim: embedder.dim,
    });
    const admin = stack.adminConfig;
    // The same two calls local-stack.ts makes for its default index, with this embedder's id.
    const indexService = new JsonHttpClient({
      service: 'index',
      baseUrl: stack.index.url,
      token: stack.index.operatorToken,
    });
    const vault = new JsonHttpClient({ service: 'vault', baseUrl: admin.vaultUrl, token: admin.token });
    try {
      await indexService.post('/v1/indexes', {
        indexId: QUALITY_INDEX_ID,
        paramSetId: 1,
        dim: embedder.dim,
        embedderId: embedder.id,
      });
      await vault.post('/v1/indexes', { indexId: QUALITY_INDEX_ID, dim: embedder.dim });
    } finally {
      indexService.close();
      vault.close();
    }
    const member = await createBenchMember(admin);
    const client = await RuneClient.connect(
      { ...member, indexId: QUALITY_INDEX_ID, embedder: { id: embedder.id, dim: embedder.dim } },
      { embedder },
    );
    const running = stack;
    return {
      client,
      close: async () => {
        client.close();
        await running.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err: unknown) {
    await stack?.close();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * TEMPORARY, until RuneClient's sealed term-statistics deltas are in every build (issue #4, client
 * part: each capture publishes its term-hash delta, each recall first applies the team's new
 * deltas to `embedder.termStats`): the bench asks the client to apply the published deltas now,
 * and only when the counts still do not hold `texts.length` documents does it count the captured
 * texts into the embedder's TermStats itself, as those deltas would. So it can never double-count
 * once the client does the work. Returns whether it fed anything.
 */
export async function feedTermStatsLocally(
  client: RuneClient,
  embedder: Embedder,
  texts: readonly string[],
): Promise<boolean> {
  const stats = embedder.termStats;
  if (stats === undefined || embedder.documentTerms === undefined) return false;
  await client.refreshTermStats();
  if (stats.documentCount === texts.length) return false;
  if (stats.documentCount !== 0) {
    throw new Error(
      `term stats hold ${stats.documentCount} documents, neither 0 nor the ${texts.length} captured`,
    );
  }
  for (const text of texts) stats.apply({ documents: 1, terms: embedder.documentTerms(text) });
  return true;
}
