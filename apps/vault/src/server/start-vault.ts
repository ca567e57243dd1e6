import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '@rune/crypto';
import { createSigner } from '@rune/protocol';
import { acquireDataDirLock } from '@rune/runtime';
import { type ListeningServer, type TlsMaterial, isLoopbackHost, startServer } from '@rune/tls';
import { AuditLog, AuditOutcome } from '../audit-log.js';
import { VaultError, VaultErrorCode } from '../errors.js';
import { writeBytesAtomicSync } from '../atomic-file.js';
import { createVaultApp } from '../http/app.js';
import { createVaultMetrics } from '../http/metrics.js';
import { type Kek, destroyKeySet, keySetPath, openOrCreateKeySet } from '../keys/key-set.js';
import { type PublishedKey, publishKey } from '../keys/published-key.js';
import { type IssuedMemberToken, MemberRegistry } from '../member-registry.js';
import { type SearchEvent, createSearchCore } from '../search/index.js';
import { CanaryKeeper, type CanaryKeeperLogger } from './canary-keeper.js';
import type { IndexLink } from './index-link.js';

export const AUDIT_FILE_NAME = 'audit.log';
export const PUBLISHED_KEY_FILE_NAME = 'published-key.json';

export interface VaultServerOptions {
  readonly dataDir: string;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly kek: Kek;
  /** Parameter set of a new key set (default 1); an existing key set must match. */
  readonly paramSetId?: number;
  /** HTTPS material; without it plain HTTP is served only on loopback with allowPlainHttp. */
  readonly tls?: TlsMaterial;
  readonly allowPlainHttp?: boolean;
  /** Raw Ed25519 keys of the indexes whose receipts and results this Vault trusts. */
  readonly indexVerifyKeys: readonly Uint8Array[];
  /** The index canaries are planted in; without it no canary is planted (and none checked). */
  readonly indexLink?: IndexLink;
  /** Creates this admin when the Vault has no member yet; its token is returned once. */
  readonly bootstrapAdmin?: { readonly name: string; readonly email: string };
  readonly logger?: CanaryKeeperLogger;
  readonly version?: string;
}

export interface RunningVault {
  readonly url: string;
  readonly port: number;
  readonly publishedKey: PublishedKey;
  /** Present only on the start that created the first admin. SECURITY: shown once, never stored. */
  readonly bootstrap?: IssuedMemberToken;
  /** Waits for background canary planting (tests and orderly shutdown). */
  canariesIdle(): Promise<void>;
  /** Starts planting canaries in this index (when it was not known at start, e.g. a port 0 index). */
  linkIndex(link: IndexLink): void;
  close(): Promise<void>;
}

const stderrLogger: CanaryKeeperLogger = {
  warn(fields, message) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', service: 'vault', ...fields, msg: message })}\n`);
  },
};

/** Composition root of `rune vault serve`: keys, members, audit, search core, canaries, HTTP. */
export async function startVault(options: VaultServerOptions): Promise<RunningVault> {
  const logger = options.logger ?? stderrLogger;
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const lock = await acquireDataDirLock(options.dataDir);
  const engine = createEngine();
  const metrics = createVaultMetrics();
  const opened = await openOrCreateKeySet({
    dataDir: options.dataDir,
    kek: options.kek,
    paramSetId: options.paramSetId ?? 1,
    engine,
  }).catch(async (err: unknown) => {
    metrics.keyAccess.inc({ key_type: 'secret_key', status: 'failure' });
    await lock.release();
    throw err;
  });
  metrics.keyAccess.inc({ key_type: 'secret_key', status: 'success' });
  const { keySet } = opened;
  const closers: (() => Promise<void>)[] = [
    () => lock.release(),
    () => {
      destroyKeySet(keySet);
      return Promise.resolve();
    },
  ];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const publishedKey = publishKey(keySet);
    // Operators hand this file to members and index operators; it holds public material only.
    writeBytesAtomicSync(
      join(options.dataDir, PUBLISHED_KEY_FILE_NAME),
      Buffer.from(`${JSON.stringify(publishedKey, null, 2)}\n`),
      { overwrite: true, mode: 0o644 },
    );
    const registry = MemberRegistry.open({ dataDir: options.dataDir });
    // One signer for the audit anchor and the search core's permits and tickets.
    const signer = createSigner(keySet.signingSeed);
    const audit = await AuditLog.open(join(options.dataDir, AUDIT_FILE_NAME), { anchorSigner: signer });
    closers.push(() => audit.close());
    if (opened.isNew) {
      await audit.append({ actor: 'vault', action: 'keys.generate', outcome: AuditOutcome.ALLOWED });
    }

    let keeper: CanaryKeeper | undefined;
    const onEvent = (event: SearchEvent) => {
      metrics.onSearchEvent(event);
      if (event.type === 'permit.issued') keeper?.poke();
    };
    const search = createSearchCore({
      keys: {
        paramSetId: keySet.paramSetId,
        secretKey: keySet.secretKey,
        publicKey: keySet.publicKey,
        teamSecret: keySet.teamSecret,
        signer,
        indexVerifyKeys: options.indexVerifyKeys,
      },
      engine,
      registry,
      audit,
      dataDir: options.dataDir,
      onEvent,
    });
    closers.push(() => {
      search.close();
      return Promise.resolve();
    });

    let bootstrap: IssuedMemberToken | undefined;
    if (options.bootstrapAdmin !== undefined && registry.listMembers().length === 0) {
      bootstrap = registry.addMember({ ...options.bootstrapAdmin, role: 'admin' });
      await audit.append({
        actor: 'vault',
        action: 'member.bootstrap',
        outcome: AuditOutcome.ALLOWED,
        target: bootstrap.member.id,
      });
    }

    const keyFile = keySetPath(options.dataDir);
    const handler = createVaultApp({
      registry,
      audit,
      search,
      metrics,
      publishedKey,
      dataDir: options.dataDir,
      keysAccessible: () =>
        access(keyFile).then(
          () => true,
          () => false,
        ),
      version: options.version ?? '0.1.0',
    });
    const server: ListeningServer = await startServer(handler, {
      host: options.host,
      port: options.port,
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      allowPlainHttp: options.allowPlainHttp ?? false,
    });
    closers.push(() => server.close());

    const linkIndex = (link: IndexLink) => {
      if (keeper !== undefined) throw new Error('the Vault already plants canaries in an index');
      assertIndexLink(link);
      const started = new CanaryKeeper(search, link, logger);
      keeper = started;
      started.start();
      closers.push(() => started.stop());
    };
    if (options.indexLink !== undefined) linkIndex(options.indexLink);
    return {
      linkIndex,
      url: server.url,
      port: server.port,
      publishedKey,
      ...(bootstrap === undefined ? {} : { bootstrap }),
      canariesIdle: () => keeper?.idle() ?? Promise.resolve(),
      close: closeAll,
    };
  } catch (err: unknown) {
    await closeAll();
    throw err;
  }
}

/** Canary ciphertexts and permits cross this link: HTTPS, or plain HTTP to loopback only. */
function assertIndexLink(link: IndexLink): void {
  let url: URL;
  try {
    url = new URL(link.url);
  } catch {
    throw new VaultError(VaultErrorCode.INVALID_REQUEST, `the index URL "${link.url}" is not a URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(host))) {
    throw new VaultError(
      VaultErrorCode.INVALID_REQUEST,
      `the index URL ${link.url} must use https:// (http:// only to a loopback address)`,
    );
  }
}
