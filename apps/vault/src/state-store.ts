import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DATA_DIR_MODE, errnoCode, OWNER_ONLY_FILE_MODE, writeBytesAtomicSync } from './atomic-file.js';
import { VaultError, VaultErrorCode } from './errors.js';

/** Owner read/write only: the state file holds token hashes and role policy. */
export const STATE_FILE_MODE = OWNER_ONLY_FILE_MODE;

/**
 * Crash-safe replace of a text file (see writeBytesAtomicSync). Synchronous on purpose: state
 * changes are rare admin operations, and a synchronous write cannot interleave with another
 * mutation on Node's single thread.
 */
export function writeFileAtomicSync(path: string, data: string, mode: number = STATE_FILE_MODE): void {
  writeBytesAtomicSync(path, Buffer.from(data, 'utf8'), { overwrite: true, mode });
}

/**
 * One JSON document on disk, validated by `parse` on load. A missing file is "no state yet";
 * an unreadable or invalid one is STATE_CORRUPT — never silently replaced by an empty state,
 * which would drop every revocation and let an attacker who can truncate the file reset the team.
 */
export class JsonFileStore<T> {
  readonly path: string;
  readonly #parse: (raw: unknown) => T;
  readonly #isCompact: boolean;

  /** `isCompact`: one line, no indentation (large files rewritten often, such as ledger snapshots). */
  constructor(path: string, parse: (raw: unknown) => T, options: { readonly isCompact?: boolean } = {}) {
    this.path = path;
    this.#parse = parse;
    this.#isCompact = options.isCompact ?? false;
    mkdirSync(dirname(path), { recursive: true, mode: DATA_DIR_MODE });
  }

  load(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err: unknown) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${this.path}: ${String(err)}`, {
        cause: err,
      });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err: unknown) {
      throw this.#corrupt(`not valid JSON (${err instanceof Error ? err.message : String(err)})`, err);
    }
    try {
      return this.#parse(raw);
    } catch (err: unknown) {
      throw this.#corrupt(err instanceof Error ? err.message : String(err), err);
    }
  }

  save(state: T): void {
    writeFileAtomicSync(this.path, `${JSON.stringify(state, null, this.#isCompact ? undefined : 2)}\n`);
  }

  #corrupt(detail: string, cause: unknown): VaultError {
    return new VaultError(
      VaultErrorCode.STATE_CORRUPT,
      `state file ${this.path} is corrupt: ${detail}. Refusing to start; restore it from a backup ` +
        'or move it aside deliberately (every member will then need a new token).',
      { reason: detail, cause },
    );
  }
}
