import { join } from 'node:path';
import { AUDIT_FILE_NAME, verifyAuditLog } from '@rune/vault';
import { flag, parse, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';

export const VAULT_AUDIT_HELP = `rune vault audit verify — check the Vault's hash-chained audit log

Usage: rune vault audit verify (--data-dir DIR | --file FILE) [--json]

Exit code 0 when every line is intact and in order; 1 naming the first bad line otherwise.

Example:
  rune vault audit verify --data-dir /var/lib/rune/vault`;

export async function vaultAuditVerify(argv: readonly string[]): Promise<number> {
  const parsed = parse('vault audit verify', argv, {
    'data-dir': { type: 'string' },
    file: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${VAULT_AUDIT_HELP}\n`);
    return 0;
  }
  const dataDir = stringOpt(parsed, 'data-dir');
  const file =
    stringOpt(parsed, 'file') ?? (dataDir === undefined ? undefined : join(dataDir, AUDIT_FILE_NAME));
  if (file === undefined) throw usageError('vault audit verify: give --data-dir or --file');
  const result = await verifyAuditLog(file);
  if (flag(parsed, 'json')) {
    process.stdout.write(`${JSON.stringify({ file, ...result })}\n`);
  } else if (result.ok) {
    process.stdout.write(
      `${file}: ${result.entries} entries, chain intact (head ${result.head.hash.slice(0, 16)}…)\n`,
    );
  } else {
    process.stdout.write(
      `${file}: BROKEN at line ${result.line}: ${result.reason} (${result.entries} entries before it verified)\n`,
    );
  }
  return result.ok ? 0 : 1;
}
