import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '@rune/runtime';
import { CliError } from '../cli-error.js';

/**
 * Where an import stands: `line` lines of the input are acknowledged (durable at the index), and
 * `prefixSha256` is the hash of exactly those bytes, so a resumed run proves it skips the same
 * lines it stored before and refuses an edited file instead of skipping the wrong ones.
 */
export interface ImportState {
  readonly version: 1;
  readonly line: number;
  readonly byteOffset: number;
  readonly prefixSha256: string;
}

export function stateFileFor(input: string): string {
  return `${input}.rune-import-state.json`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function readImportState(path: string): Promise<ImportState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const state = JSON.parse(text) as Partial<ImportState>;
    if (
      state.version === 1 &&
      Number.isSafeInteger(state.line) &&
      Number.isSafeInteger(state.byteOffset) &&
      typeof state.prefixSha256 === 'string'
    ) {
      return state as ImportState;
    }
  } catch {
    // Fall through to the error below.
  }
  throw new CliError('IMPORT_STATE_CORRUPT', `the import position file ${path} is unreadable`, {
    hint: 'delete it and run again with --restart (lines already imported would be imported twice)',
  });
}

/** Atomic, so a crash leaves the previous position or the new one, never a torn file. */
export async function writeImportState(path: string, state: ImportState): Promise<void> {
  await writeFileAtomic(path, Buffer.from(`${JSON.stringify(state)}\n`, 'utf8'));
}

export async function clearImportState(path: string): Promise<void> {
  await rm(path, { force: true });
}
