import { appendFile, chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RecordStatus } from '@rune/client';
import { MemoryError, MemoryErrorCode } from './errors.js';

export const HISTORY_FILE_NAME = 'history.jsonl';
/** SECURITY: the log holds the member's own memories in plaintext: owner read/write only. */
export const HISTORY_FILE_MODE = 0o600;
const HISTORY_DIR_MODE = 0o700;
/** Only the newest part of a larger log is read. */
const MAX_READ_BYTES = 8 * 1024 * 1024;

/**
 * `$RUNE_HISTORY`, else `history.jsonl` in Rune's state directory (the client's defaultStateDir:
 * RUNE_STATE_DIR, `$XDG_STATE_HOME/rune`, `~/.local/state/rune`, `%LOCALAPPDATA%\\rune`).
 */
export function defaultHistoryPath(
  env: Readonly<Record<string, string | undefined>>,
  stateDir: string,
): string {
  const explicit = env.RUNE_HISTORY;
  if (explicit !== undefined && explicit !== '') return explicit;
  return join(stateDir, HISTORY_FILE_NAME);
}

export interface CaptureEntry {
  readonly v: 1;
  readonly event: 'capture';
  /** ms since the Unix epoch. */
  readonly at: number;
  /** Token digest of the member (MemberSession.owner). */
  readonly owner: string;
  readonly indexId: string;
  readonly recordId: string;
  /** Redacted, as stored. */
  readonly insight: string;
  readonly title?: string;
  readonly domain?: string;
  readonly status?: RecordStatus;
  readonly tags?: readonly string[];
  readonly supersedes?: string;
  readonly novelty: string;
}

export interface ForgetEntry {
  readonly v: 1;
  readonly event: 'forget';
  readonly at: number;
  readonly owner: string;
  readonly indexId: string;
  readonly recordId: string;
}

export type HistoryEntry = CaptureEntry | ForgetEntry;

/** The member's own captures, append-only JSON lines; a torn or foreign line is skipped when read. */
export class HistoryLog {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async append(entry: HistoryEntry): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: HISTORY_DIR_MODE });
      await appendFile(this.path, `${JSON.stringify(entry)}\n`, { mode: HISTORY_FILE_MODE, flag: 'a' });
      // appendFile's mode applies only on creation, filtered by the umask: set it exactly.
      await chmod(this.path, HISTORY_FILE_MODE);
    } catch (err: unknown) {
      throw unavailable(this.path, err);
    }
  }

  async read(): Promise<HistoryEntry[]> {
    let text: string;
    try {
      const size = (await stat(this.path)).size;
      const handle = await open(this.path, 'r');
      try {
        const length = Math.min(size, MAX_READ_BYTES);
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, size - length);
        text = buffer.toString('utf8');
      } finally {
        await handle.close();
      }
    } catch (err: unknown) {
      if ((err as { code?: unknown }).code === 'ENOENT') return [];
      throw unavailable(this.path, err);
    }
    const entries: HistoryEntry[] = [];
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (entry !== undefined) entries.push(entry);
    }
    return entries;
  }
}

function parseLine(line: string): HistoryEntry | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Partial<HistoryEntry> | null;
    if (
      value === null ||
      value.v !== 1 ||
      (value.event !== 'capture' && value.event !== 'forget') ||
      typeof value.recordId !== 'string' ||
      typeof value.at !== 'number' ||
      typeof value.owner !== 'string'
    ) {
      return undefined;
    }
    return value as HistoryEntry;
  } catch {
    return undefined;
  }
}

function unavailable(path: string, err: unknown): MemoryError {
  const code = (err as { code?: unknown } | null)?.code;
  return new MemoryError(
    MemoryErrorCode.HISTORY_UNAVAILABLE,
    `the local capture log ${path} cannot be used (${typeof code === 'string' ? code : String(err)})`,
    `check that ${dirname(path)} is writable by you, or set XDG_STATE_HOME / RUNE_HISTORY elsewhere; the memory itself was not affected`,
    { cause: err },
  );
}

export interface HistoryQuery {
  readonly owner: string;
  readonly indexId: string;
  readonly limit: number;
  readonly domain?: string;
  readonly status?: RecordStatus;
  readonly sinceMs?: number;
  readonly tags?: readonly string[];
}

export interface HistoryItem extends CaptureEntry {
  readonly isForgotten: boolean;
  /** A later capture of this member that supersedes this one. */
  readonly supersededBy?: string;
}

/** This member's captures in this index, newest first, filtered. */
export function selectHistory(entries: readonly HistoryEntry[], query: HistoryQuery): HistoryItem[] {
  const mine = entries.filter((e) => e.owner === query.owner && e.indexId === query.indexId);
  const forgotten = new Set(mine.filter((e) => e.event === 'forget').map((e) => e.recordId));
  const successors = supersessionLinks(mine);
  const tags = (query.tags ?? []).map((t) => t.toLowerCase());
  return mine
    .filter((e): e is CaptureEntry => e.event === 'capture')
    .filter(
      (e) =>
        (query.domain === undefined || e.domain?.toLowerCase() === query.domain.toLowerCase()) &&
        (query.status === undefined || e.status === query.status) &&
        (query.sinceMs === undefined || e.at >= query.sinceMs) &&
        tags.every((t) => (e.tags ?? []).some((have) => have.toLowerCase() === t)),
    )
    .sort((a, b) => b.at - a.at)
    .slice(0, query.limit)
    .map((e) => {
      const successor = successors.get(e.recordId);
      return {
        ...e,
        isForgotten: forgotten.has(e.recordId),
        ...(successor === undefined ? {} : { supersededBy: successor }),
      };
    });
}

/** old record id → the id of the capture that supersedes it, from this log. */
export function supersessionLinks(entries: readonly HistoryEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) {
    if (e.event === 'capture' && e.supersedes !== undefined) out.set(e.supersedes, e.recordId);
  }
  return out;
}
