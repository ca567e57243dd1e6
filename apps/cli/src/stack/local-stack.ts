import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  JsonHttpClient,
  type MemberConfig,
  isRuneClientError,
  readMemberConfig,
  writeMemberConfig,
} from '@rune/client';
import { DEFAULT_BM25_DIM, createBm25Embedder } from '@rune/embed';
import { type RunningIndex, ensureIndexIdentity, startIndex } from '@rune/index';
import { decodeBase64url, importVerificationKey } from '@rune/protocol';
import { ensureSelfSignedTls, listenPolicy, type TlsMaterial } from '@rune/tls';
import { type Kek, type RunningVault, kekFromSources, startVault } from '@rune/vault';
import { CliError } from '../cli-error.js';
import { writePrivateFile } from '../private-file.js';

export const DEFAULT_INDEX_ID = 'team';
/** A new index's dimension: the default offline (BM25) embedder's. */
export const DEFAULT_DIM = DEFAULT_BM25_DIM;
export const ADMIN_CONFIG_FILE = 'admin-config.json';
export const LOCAL_KEK_FILE = 'vault-kek.passphrase';

export interface LocalStackOptions {
  readonly dataDir: string;
  readonly host?: string;
  readonly vaultPort?: number;
  readonly indexPort?: number;
  /** Plain HTTP on loopback instead of the generated private CA (tests, benchmarks). */
  readonly plainHttp?: boolean;
  /** KEK passphrase from this environment variable; otherwise a generated file in the data dir. */
  readonly kekEnv?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly indexId?: string;
  /** Dimension of a new index's BM25 embedder; an existing index keeps its own embedder. */
  readonly dim?: number;
  readonly threads?: number;
}

export interface LocalStack {
  readonly vault: RunningVault;
  readonly index: RunningIndex;
  /** The local admin's member config (also kept, mode 0600, as DATA/admin-config.json). */
  readonly adminConfig: MemberConfig;
  readonly adminConfigPath: string;
  close(): Promise<void>;
}

/**
 * `rune up`: a Vault and an index on loopback with embedded storage. First run: keys, TLS
 * material, the index, and a local admin whose config is written to DATA/admin-config.json.
 * Later runs reopen all of it. Order matters: the index identity exists before the Vault starts
 * (the Vault must trust it), and the Vault's key before the index starts (the index must trust it).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const host = options.host ?? '127.0.0.1';
  const indexId = options.indexId ?? DEFAULT_INDEX_ID;
  const embedder = createBm25Embedder({ dim: options.dim ?? DEFAULT_DIM });
  const vaultDir = join(options.dataDir, 'vault');
  const indexDir = join(options.dataDir, 'index');
  const adminConfigPath = join(options.dataDir, ADMIN_CONFIG_FILE);
  // Refuse a plain-HTTP stack off loopback before any key or file is made.
  if (options.plainHttp === true) listenPolicy({ host, allowPlainHttp: true });
  const tls: TlsMaterial | undefined =
    options.plainHttp === true
      ? undefined
      : await ensureSelfSignedTls(join(options.dataDir, 'tls'), { hosts: [host] });
  const serving = tls === undefined ? { allowPlainHttp: true } : { tls };

  const identity = await ensureIndexIdentity(indexDir);
  const kek = await localKek(options.dataDir, options.kekEnv, env);
  const vault = await startVault({
    dataDir: vaultDir,
    host,
    port: options.vaultPort ?? 50080,
    kek,
    indexVerifyKeys: [decodeBase64url(identity.publicKey)],
    bootstrapAdmin: { name: 'admin', email: 'admin@localhost' },
    ...serving,
  });
  let index: RunningIndex;
  try {
    index = await startIndex({
      dataDir: indexDir,
      host,
      port: options.indexPort ?? 50090,
      vaultVerifyKeys: [importVerificationKey(decodeBase64url(vault.publishedKey.vaultVerifyKey))],
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...serving,
    });
  } catch (err: unknown) {
    await vault.close();
    throw err;
  }
  vault.linkIndex({ url: index.url, ...(tls === undefined ? {} : { ca: tls.ca }) });
  const close = async () => {
    await vault.close();
    await index.close();
  };
  try {
    let adminConfig = await ensureAdminConfig({
      path: adminConfigPath,
      vault,
      index,
      indexId,
      embedder: { id: embedder.id, dim: embedder.dim },
      ...(tls === undefined ? {} : { caCert: tls.ca }),
    });
    const built = await createIndexEverywhere(adminConfig, index, tls?.ca);
    // An index made before (say with the old lexical embedder) decides: members must embed like it.
    if (adminConfig.embedder?.id !== built.id || adminConfig.embedder.dim !== built.dim) {
      adminConfig = { ...adminConfig, embedder: built };
      await writeMemberConfig(adminConfigPath, adminConfig);
    }
    return { vault, index, adminConfig, adminConfigPath, close };
  } catch (err: unknown) {
    await close();
    throw err;
  }
}

/** The first run's bootstrap token becomes the admin config at once; later runs read it back. */
async function ensureAdminConfig(input: {
  path: string;
  vault: RunningVault;
  index: RunningIndex;
  indexId: string;
  embedder: NonNullable<MemberConfig['embedder']>;
  caCert?: string;
}): Promise<MemberConfig> {
  const { vault, index } = input;
  let token: string;
  let memberId: string | undefined;
  let embedder = input.embedder;
  if (vault.bootstrap !== undefined) {
    token = vault.bootstrap.token;
    memberId = vault.bootstrap.member.id;
  } else {
    let previous: MemberConfig;
    try {
      previous = await readMemberConfig(input.path);
    } catch (err: unknown) {
      throw new CliError('ADMIN_CONFIG_MISSING', `the Vault has members but ${input.path} is unreadable`, {
        hint: 'restore that file from backup, or start over with an empty --data-dir',
        cause: err,
      });
    }
    token = previous.token;
    memberId = previous.memberId;
    // A later start keeps the embedder (and its settings) the index was created with.
    embedder = previous.embedder ?? embedder;
  }
  const config: MemberConfig = {
    version: 1,
    vaultUrl: vault.url,
    indexUrl: index.url,
    indexId: input.indexId,
    token,
    publicKeyHash: vault.publishedKey.publicKeyHash,
    vaultKeyId: vault.publishedKey.keyId,
    indexVerifyKey: index.publicKey,
    ...(input.caCert === undefined ? {} : { caCert: input.caCert }),
    ...(memberId === undefined ? {} : { memberId }),
    name: 'admin',
    embedder,
  };
  await writeMemberConfig(input.path, config);
  return config;
}

/**
 * Creates the index at the index service and registers it with the Vault; both are idempotent.
 * Returns the embedder the index holds: the config's for a new index, its own for an existing one.
 */
async function createIndexEverywhere(
  config: MemberConfig,
  index: RunningIndex,
  ca: string | undefined,
): Promise<{ id: string; dim: number }> {
  const tls = ca === undefined ? {} : { caCert: ca };
  const indexService = new JsonHttpClient({
    service: 'index',
    baseUrl: index.url,
    token: index.operatorToken,
    ...tls,
  });
  const vault = new JsonHttpClient({
    service: 'vault',
    baseUrl: config.vaultUrl,
    token: config.token,
    ...tls,
  });
  try {
    const answer = await indexService
      .post('/v1/indexes', {
        indexId: config.indexId,
        paramSetId: 1,
        dim: config.embedder?.dim ?? DEFAULT_DIM,
        embedderId: config.embedder?.id ?? 'unknown',
      })
      .catch((err: unknown) => {
        // A later start finds the index it created before.
        if (isRuneClientError(err, 'INDEX_EXISTS')) {
          return indexService.get(`/v1/indexes/${encodeURIComponent(config.indexId)}`);
        }
        throw refused('INDEX_CREATE_FAILED', `the index refused to create "${config.indexId}"`, err);
      });
    const held = describedEmbedder(answer);
    await vault.post('/v1/indexes', { indexId: config.indexId, dim: held.dim }).catch((err: unknown) => {
      throw refused('INDEX_REGISTER_FAILED', `the Vault refused to register "${config.indexId}"`, err);
    });
    return held;
  } finally {
    indexService.close();
    vault.close();
  }
}

/** The embedder of an index description (this process's own index service answered it). */
function describedEmbedder(answer: unknown): { id: string; dim: number } {
  const { embedderId, dim } = (answer ?? {}) as { embedderId?: unknown; dim?: unknown };
  if (typeof embedderId !== 'string' || typeof dim !== 'number') {
    throw new CliError('INDEX_CREATE_FAILED', 'the index answered without its embedder id and dimension');
  }
  return { id: embedderId, dim };
}

function refused(code: string, what: string, err: unknown): CliError {
  const detail = isRuneClientError(err) ? `${err.code}: ${err.message}` : String(err);
  return new CliError(code, `${what} (${detail})`, {
    ...(isRuneClientError(err) && err.hint !== undefined ? { hint: err.hint } : {}),
    cause: err,
  });
}

/**
 * SECURITY: a local stack without --kek-env keeps its passphrase next to the sealed key set, so
 * at-rest sealing protects nothing there; `rune up` is a single-machine development stack. A real
 * Vault takes its KEK from a secret store (`rune vault serve --kek-env/--kek-credential`).
 */
async function localKek(dataDir: string, kekEnv: string | undefined, env: NodeJS.ProcessEnv): Promise<Kek> {
  if (kekEnv !== undefined) return kekFromSources({ envVar: kekEnv, env });
  const path = join(dataDir, LOCAL_KEK_FILE);
  try {
    await readFile(path);
  } catch {
    await writePrivateFile(path, `${randomBytes(32).toString('base64url')}\n`);
  }
  return kekFromSources({ passphraseFile: path, env });
}
