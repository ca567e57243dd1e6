import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBase64url, importVerificationKey, type VerificationKey } from '@rune/protocol';
import { AUDIT_FILE_NAME, PUBLISHED_KEY_FILE_NAME, verifyAuditLog } from '@rune/vault';
import { flag, parse, stringOpt } from '../args.js';
import { CliError, usageError } from '../cli-error.js';

export const VAULT_AUDIT_HELP = `rune vault audit verify — check the Vault's hash-chained audit log

Usage: rune vault audit verify (--data-dir DIR [--vault-key-id ID] | --file FILE) [--json]

  --data-dir DIR       the Vault's data dir: checks DIR/audit.log and its signed head anchor
                       DIR/audit.head under the key in DIR/published-key.json
  --vault-key-id ID    the Vault signing key id you pinned; refuse if published-key.json names
                       another (someone able to edit the log can replace that file too)
  --file FILE          check the hash chain of FILE only (no anchor checked: lines cut from
                       the end go unnoticed)

Exit code 0 when every line is intact and in order and (with --data-dir) the log is as long as
the signed anchor says; 1 naming the first bad line, or both counts for a truncated log.

Example:
  rune vault audit verify --data-dir /var/lib/rune/vault --vault-key-id 3f9c…`;

const KEY_ID = /^[0-9a-f]{32}$/;

/** The Vault's verify key from published-key.json, checked against its keyId and the pin. */
async function publishedVerifyKey(
  dataDir: string,
  pinnedKeyId: string | undefined,
): Promise<VerificationKey> {
  const path = join(dataDir, PUBLISHED_KEY_FILE_NAME);
  let record: unknown;
  try {
    record = JSON.parse(await readFile(path, 'utf8'));
  } catch (err: unknown) {
    throw new CliError('PUBLISHED_KEY_INVALID', `could not read ${path}: ${String(err)}`, {
      hint: 'the Vault writes it on every start; give the Vault data dir',
      cause: err,
    });
  }
  const fields = typeof record === 'object' && record !== null ? (record as Record<string, unknown>) : {};
  const { vaultVerifyKey, keyId } = fields;
  let key: VerificationKey;
  try {
    if (typeof vaultVerifyKey !== 'string') throw new Error('vaultVerifyKey is missing');
    key = importVerificationKey(decodeBase64url(vaultVerifyKey, 'vaultVerifyKey'));
  } catch (err: unknown) {
    throw new CliError(
      'PUBLISHED_KEY_INVALID',
      `${path}: no usable vaultVerifyKey (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
  if (keyId !== key.keyId) {
    throw new CliError('PUBLISHED_KEY_INVALID', `${path}: keyId does not match vaultVerifyKey`);
  }
  if (pinnedKeyId !== undefined && pinnedKeyId.toLowerCase() !== key.keyId) {
    throw new CliError(
      'KEY_PIN_MISMATCH',
      `${path} names Vault key ${key.keyId}, not the pinned ${pinnedKeyId}; the audit anchor cannot be trusted`,
      {
        hint: 'someone with disk access may have replaced the key file; check the pinned id with your Vault admin',
      },
    );
  }
  return key;
}

export async function vaultAuditVerify(argv: readonly string[]): Promise<number> {
  const parsed = parse('vault audit verify', argv, {
    'data-dir': { type: 'string' },
    file: { type: 'string' },
    'vault-key-id': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${VAULT_AUDIT_HELP}\n`);
    return 0;
  }
  const dataDir = stringOpt(parsed, 'data-dir');
  const fileOpt = stringOpt(parsed, 'file');
  const pinnedKeyId = stringOpt(parsed, 'vault-key-id');
  if ((dataDir === undefined) === (fileOpt === undefined)) {
    throw usageError('vault audit verify: give one of --data-dir or --file');
  }
  if (pinnedKeyId !== undefined && (dataDir === undefined || !KEY_ID.test(pinnedKeyId.toLowerCase()))) {
    throw usageError('vault audit verify: --vault-key-id takes 32 hex digits and needs --data-dir');
  }
  const file = fileOpt ?? join(dataDir ?? '', AUDIT_FILE_NAME);
  const verifyKey = dataDir === undefined ? undefined : await publishedVerifyKey(dataDir, pinnedKeyId);
  const result = await verifyAuditLog(file, verifyKey === undefined ? {} : { anchor: { verifyKey } });
  if (flag(parsed, 'json')) {
    process.stdout.write(
      `${JSON.stringify({ file, isAnchorChecked: verifyKey !== undefined, ...result })}\n`,
    );
  } else if (result.ok) {
    const anchorNote =
      result.anchor === undefined
        ? 'no anchor checked (lines cut from the end would go unnoticed)'
        : `matches the anchor signed by key ${result.anchor.keyId} at ${result.anchor.ts}` +
          (pinnedKeyId === undefined
            ? ' (key taken from published-key.json; pin it with --vault-key-id)'
            : '');
    process.stdout.write(
      `${file}: ${result.entries} entries, chain intact (head ${result.head.hash.slice(0, 16)}…), ${anchorNote}\n`,
    );
  } else if (result.isAnchorFailure === true) {
    process.stdout.write(`${file}: BROKEN: ${result.reason}\n`);
  } else {
    process.stdout.write(
      `${file}: BROKEN at line ${result.line}: ${result.reason} (${result.entries} entries before it verified)\n`,
    );
  }
  return result.ok ? 0 : 1;
}
