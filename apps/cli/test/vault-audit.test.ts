import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, encodeBase64url, type Signer } from '@rune/protocol';
import { AUDIT_FILE_NAME, AuditLog, PUBLISHED_KEY_FILE_NAME } from '@rune/vault';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRune } from './run-rune.js';

const VAULT = createSigner(new Uint8Array(32).fill(11));
const ATTACKER = createSigner(new Uint8Array(32).fill(12));

function rune(args: readonly string[]) {
  return runRune(args, { env: { PATH: process.env.PATH, HOME: tmpdir() } });
}

/** A Vault data dir as `vault serve` leaves it: an anchored audit log and the published verify key. */
async function vaultDir(root: string, name: string, signer: Signer, entries: number): Promise<string> {
  const dir = join(root, name);
  const log = await AuditLog.open(join(dir, AUDIT_FILE_NAME), { anchorSigner: signer });
  for (let i = 0; i < entries; i++) {
    await log.append({ actor: `mem_${i}`, action: 'recall', outcome: 'allowed', count: i });
  }
  await log.close();
  // The fields of publishKey()'s record that the audit check reads.
  const published = { vaultVerifyKey: encodeBase64url(signer.publicKey), keyId: signer.keyId };
  await writeFile(join(dir, PUBLISHED_KEY_FILE_NAME), `${JSON.stringify(published, null, 2)}\n`);
  return dir;
}

async function cutLastLines(dir: string, count: number): Promise<void> {
  const path = join(dir, AUDIT_FILE_NAME);
  const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
  await writeFile(path, `${lines.slice(0, lines.length - count).join('\n')}\n`);
}

describe('rune vault audit verify', () => {
  let root: string;
  let intact: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rune-audit-'));
    intact = await vaultDir(root, 'intact', VAULT, 5);
  });

  it('exits 0 for an intact log that matches its signed anchor', async () => {
    const res = await rune(['vault', 'audit', 'verify', '--data-dir', intact, '--vault-key-id', VAULT.keyId]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('5 entries, chain intact');
    expect(res.stdout).toContain(`matches the anchor signed by key ${VAULT.keyId}`);
  });

  it('exits 1 naming both counts when the last line is cut off', async () => {
    const dir = join(root, 'truncated');
    await cp(intact, dir, { recursive: true });
    await cutLastLines(dir, 1);
    const res = await rune(['vault', 'audit', 'verify', '--data-dir', dir]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('truncated: the anchor says 5 entries, the log has 4');
    const json = await rune(['vault', 'audit', 'verify', '--data-dir', dir, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, entries: 4, isAnchorFailure: true });
    // The chain alone cannot tell: --file checks no anchor and says so.
    const chainOnly = await rune(['vault', 'audit', 'verify', '--file', join(dir, AUDIT_FILE_NAME)]);
    expect(chainOnly.code).toBe(0);
    expect(chainOnly.stdout).toContain('4 entries, chain intact');
    expect(chainOnly.stdout).toContain('no anchor checked');
  });

  it('refuses a published key other than the pinned one (replaced together with the anchor)', async () => {
    const forged = await vaultDir(root, 'forged', ATTACKER, 2);
    const res = await rune(['vault', 'audit', 'verify', '--data-dir', forged, '--vault-key-id', VAULT.keyId]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('KEY_PIN_MISMATCH');
    expect(res.stderr).toContain(`not the pinned ${VAULT.keyId}`);
  });

  it('exits 1 when the anchor is signed by a key other than the published one', async () => {
    const dir = join(root, 'swapped-key');
    await cp(intact, dir, { recursive: true });
    const published = { vaultVerifyKey: encodeBase64url(ATTACKER.publicKey), keyId: ATTACKER.keyId };
    await writeFile(join(dir, PUBLISHED_KEY_FILE_NAME), JSON.stringify(published));
    const res = await rune(['vault', 'audit', 'verify', '--data-dir', dir]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`signed by key ${VAULT.keyId}, not ${ATTACKER.keyId}`);
  });

  it('answers conflicting or incomplete options with a usage error', async () => {
    const both = await rune(['vault', 'audit', 'verify', '--data-dir', intact, '--file', 'x']);
    expect(both.code).toBe(2);
    const pinWithoutDir = await rune([
      'vault',
      'audit',
      'verify',
      '--file',
      'x',
      '--vault-key-id',
      VAULT.keyId,
    ]);
    expect(pinWithoutDir.code).toBe(2);
  });
});
