import { availableParallelism } from 'node:os';
import { ScoringPool, createWasmKernels, systemRandom, type Engine } from '@rune/crypto';
import { type VerificationKey } from '@rune/protocol';
import { acquireDataDirLock } from '@rune/runtime';
import { type ListeningServer, type TlsMaterial, startServer } from '@rune/tls';
import { openIndexService } from '../core/index-service.js';
import { TermStatsService } from '../core/term-stats-service.js';
import { createIndexApp, type HttpLogger } from '../http/app.js';
import { EmbeddedStore } from '../storage/embedded-store.js';
import { ensureIndexIdentity } from './identity.js';

export interface IndexServerOptions {
  readonly dataDir: string;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** HTTPS material; without it plain HTTP is served only on loopback with allowPlainHttp. */
  readonly tls?: TlsMaterial;
  readonly allowPlainHttp?: boolean;
  /** The Vault keys whose permits and tickets this index honours. */
  readonly vaultVerifyKeys: readonly VerificationKey[];
  /** Scoring threads (default: every core). */
  readonly threads?: number;
  readonly logger?: HttpLogger & { warn(fields: Record<string, unknown>, message: string): void };
  readonly version?: string;
}

export interface RunningIndex {
  readonly url: string;
  readonly port: number;
  /** Raw Ed25519 key (base64url) that signs receipts and results. */
  readonly publicKey: string;
  /** SECURITY: authorises index creation; shown to the local operator only. */
  readonly operatorToken: string;
  close(): Promise<void>;
}

/** Composition root of `rune index serve`: identity, store, scoring pool, service, HTTP. */
export async function startIndex(options: IndexServerOptions): Promise<RunningIndex> {
  const identity = await ensureIndexIdentity(options.dataDir);
  const lock = await acquireDataDirLock(options.dataDir);
  const kernels = createWasmKernels();
  const engine: Engine = { kernels, random: systemRandom };
  const closers: (() => Promise<void>)[] = [() => lock.release()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  const pool = ScoringPool.create(kernels, { threads: options.threads ?? availableParallelism() });
  closers.push(() => pool.close());
  const store = await EmbeddedStore.open({
    dataDir: options.dataDir,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  }).catch(async (err: unknown) => {
    await closeAll();
    throw err;
  });
  closers.push(() => store.close());
  try {
    const service = await openIndexService({
      store,
      engine,
      signer: identity.signer,
      vaultVerifyKeys: options.vaultVerifyKeys,
      clock: Date.now,
      pool,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    closers.push(() => service.close());
    const termStats = new TermStatsService({
      store,
      dataDir: options.dataDir,
      vaultVerifyKeys: options.vaultVerifyKeys,
      clock: Date.now,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    closers.push(() => termStats.close());
    const handler = createIndexApp({
      service,
      termStats,
      store,
      dataDir: options.dataDir,
      operatorToken: identity.operatorToken,
      ...(options.version === undefined ? {} : { version: options.version }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    const server: ListeningServer = await startServer(handler, {
      host: options.host,
      port: options.port,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      allowPlainHttp: options.allowPlainHttp ?? false,
    });
    closers.push(() => server.close());
    return {
      url: server.url,
      port: server.port,
      publicKey: identity.publicKey,
      operatorToken: identity.operatorToken,
      close: closeAll,
    };
  } catch (err: unknown) {
    await closeAll();
    throw err;
  }
}
