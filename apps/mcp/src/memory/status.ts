import { JsonHttpClient, isRuneClientError, type MemberConfig } from '@rune/client';
import type { MemoryContext } from './context.js';
import { describeFailure, type Failure } from './errors.js';

export interface ServiceCheck {
  readonly url: string;
  readonly isReachable: boolean;
  /** Round trip of the health request, ms. */
  readonly latencyMs?: number;
}

export interface StatusReport {
  readonly isConfigured: boolean;
  readonly configPath: string;
  readonly historyPath: string;
  readonly indexId?: string;
  readonly vault?: ServiceCheck;
  readonly index?: ServiceCheck & {
    readonly embedderId?: string;
    readonly dim?: number;
    readonly records?: number;
  };
  /** True when the Vault's published key matched the config's pins. */
  readonly isKeyPinned?: boolean;
  readonly embedder?: { readonly id: string; readonly dim: number };
  readonly roleCap?: number;
  /** Every problem found, each with its recovery hint; empty when all is well. */
  readonly problems: readonly Failure[];
}

const STATUS_TIMEOUT_MS = 5_000;

/** Checks configuration, both services, the key pin and the embedder; never throws for a problem it finds. */
export async function diagnose(ctx: MemoryContext): Promise<StatusReport> {
  const base = { configPath: ctx.session.configPath, historyPath: ctx.history.path };
  let config: MemberConfig;
  try {
    config = await ctx.session.config();
  } catch (err: unknown) {
    return { ...base, isConfigured: false, problems: [describeFailure(err)] };
  }
  const problems: Failure[] = [];
  const tls = config.caCert === undefined ? {} : { caCert: config.caCert };
  const vault = await ping('vault', config.vaultUrl, '/health/live', tls, problems);
  const indexService = new JsonHttpClient({
    service: 'index',
    baseUrl: config.indexUrl,
    timeoutMs: STATUS_TIMEOUT_MS,
    ...tls,
  });
  const index = await ping('index', config.indexUrl, '/health/live', tls, problems);
  let described: { embedderId?: string; dim?: number; records?: number } = {};
  if (index.isReachable) described = await describeIndex(indexService, config.indexId, problems);
  indexService.close();

  let isKeyPinned: boolean | undefined;
  let embedder: { id: string; dim: number } | undefined;
  if (vault.isReachable) {
    try {
      const client = await ctx.session.client();
      isKeyPinned = true;
      embedder = { id: client.embedder.id, dim: client.embedder.dim };
    } catch (err: unknown) {
      if (isRuneClientError(err, 'KEY_PIN_MISMATCH')) isKeyPinned = false;
      problems.push(describeFailure(err));
    }
  }
  if (embedder !== undefined && described.embedderId !== undefined) {
    if (described.embedderId !== embedder.id || described.dim !== embedder.dim) {
      problems.push({
        code: 'EMBEDDER_MISMATCH',
        message: `the index was built with ${described.embedderId} (d=${String(described.dim)}); this server embeds with ${embedder.id} (d=${embedder.dim})`,
        hint: "set the embedder in the member config to the index's (rune configure), or use the rune version that created the index",
      });
    }
  }
  return {
    ...base,
    isConfigured: true,
    indexId: config.indexId,
    vault,
    index: { ...index, ...described },
    ...(isKeyPinned === undefined ? {} : { isKeyPinned }),
    ...(embedder === undefined ? {} : { embedder }),
    ...(ctx.session.roleCap.known === undefined ? {} : { roleCap: ctx.session.roleCap.known }),
    problems,
  };
}

async function ping(
  service: 'vault' | 'index',
  url: string,
  path: string,
  tls: { caCert?: string },
  problems: Failure[],
): Promise<ServiceCheck> {
  const client = new JsonHttpClient({ service, baseUrl: url, timeoutMs: STATUS_TIMEOUT_MS, ...tls });
  const started = performance.now();
  try {
    await client.get(path);
    return { url, isReachable: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err: unknown) {
    problems.push(describeFailure(err));
    return { url, isReachable: false };
  } finally {
    client.close();
  }
}

async function describeIndex(
  client: JsonHttpClient,
  indexId: string,
  problems: Failure[],
): Promise<{ embedderId?: string; dim?: number; records?: number }> {
  const path = `/v1/indexes/${encodeURIComponent(indexId)}`;
  try {
    const description = (await client.get(path)) as { embedderId?: unknown; dim?: unknown };
    const stats = (await client.get(`${path}/stats`)) as { recordCount?: unknown };
    return {
      ...(typeof description.embedderId === 'string' ? { embedderId: description.embedderId } : {}),
      ...(typeof description.dim === 'number' ? { dim: description.dim } : {}),
      ...(typeof stats.recordCount === 'number' ? { records: stats.recordCount } : {}),
    };
  } catch (err: unknown) {
    problems.push(describeFailure(err));
    return {};
  }
}
