import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createSigner, encodeBase64url, type Signer } from '@rune/protocol';
import { ensureDir, writeFileAtomic } from '../storage/durable-fs.js';
import { IndexError } from '../errors.js';

export const SIGNING_SEED_FILE = 'index-signing.seed';
export const SIGNING_PUBLIC_FILE = 'index-signing.pub';
export const OPERATOR_TOKEN_FILE = 'operator.token';
const SEED_BYTES = 32;

/** The index's long-lived identity: the key that signs receipts and results, and the operator token. */
export interface IndexIdentity {
  readonly signer: Signer;
  /** Raw Ed25519 public key, unpadded base64url: what the Vault and members trust. */
  readonly publicKey: string;
  /** SECURITY: authorises index creation only; never logged. */
  readonly operatorToken: string;
}

/**
 * Loads the identity from the data directory, creating it on first start. The seed and token are
 * written atomically with mode 0600; an existing file is never replaced, so receipts signed before
 * a restart still verify after it.
 */
export async function ensureIndexIdentity(dataDir: string): Promise<IndexIdentity> {
  await ensureDir(dataDir);
  const seed = await readOrCreate(join(dataDir, SIGNING_SEED_FILE), () => randomBytes(SEED_BYTES));
  if (seed.byteLength !== SEED_BYTES) {
    throw new IndexError(
      'STORAGE_CORRUPT',
      `${join(dataDir, SIGNING_SEED_FILE)} is not a ${SEED_BYTES}-byte key; restore it from backup`,
    );
  }
  const signer = createSigner(seed);
  seed.fill(0);
  const publicKey = encodeBase64url(signer.publicKey);
  await writeFileAtomic(join(dataDir, SIGNING_PUBLIC_FILE), Buffer.from(`${publicKey}\n`));
  const token = await readOrCreate(join(dataDir, OPERATOR_TOKEN_FILE), () =>
    Buffer.from(`rix_${randomBytes(32).toString('base64url')}`),
  );
  return { signer, publicKey, operatorToken: token.toString('utf8').trim() };
}

async function readOrCreate(path: string, make: () => Uint8Array): Promise<Buffer> {
  try {
    const info = await stat(path);
    // SECURITY: a key file others can read lets them forge results the Vault would accept.
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new IndexError('INVALID_INPUT', `${path} is readable by others; run "chmod 600 ${path}"`);
    }
    return await readFile(path);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const data = make();
  await writeFileAtomic(path, data);
  return Buffer.from(data);
}
