import { readFile } from 'node:fs/promises';
import { type RecordPayload, type RuneClient, recordPayloadSchema } from '@rune/client';
import { writeFileAtomic } from '@rune/runtime';
import { flag, intOpt, listOpt, parse, requiredOpt, stringOpt } from '../args.js';
import { CliError, ExitCode, usageError } from '../cli-error.js';
import { CONFIG_HELP, connectMember } from '../member.js';
import {
  clearImportState,
  readImportState,
  sha256Hex,
  stateFileFor,
  writeImportState,
} from '../onboarding/import-state.js';
import { startProgress } from '../ui/progress.js';

export const IMPORT_HELP = `rune import — capture memories in bulk from a JSON-lines file

Usage: rune import FILE [--restart] [--json]

Each line is one JSON object: { "insight": "...", "context"?, "title"?, "tags"?, "domain"?,
"status"?, "author"?, "createdAt"? } (the lines rune export writes). Blank lines are skipped; other
fields are ignored. Each memory is embedded, encrypted and sealed here, like rune capture.

Resuming: after every memory the index acknowledges, the position is saved atomically to
FILE.rune-import-state.json (the line count and a SHA-256 of the lines done). Run the same command
again after a failure or Ctrl-C and it continues after the last acknowledged line; it refuses if
those lines changed. The position file is removed when the import completes. At most one memory
(the one in flight at a crash) can be stored twice.

  --restart   ignore a saved position and start from the first line
  --json      print a summary as JSON
${CONFIG_HELP}

Examples:
  rune import decisions.jsonl
  rune import decisions.jsonl --restart`;

export const EXPORT_HELP = `rune export — write memories that recall finds to a JSON-lines file

Usage: rune export --out FILE (--query TEXT ... | --queries FILE) [--k N] [--json]

Export can return only what recall authorises: for each query, your role's top-k memories (10 for
members), deduplicated. The Vault releases a record's key only for records a search it authorised
returned, so there is no "dump everything" call; a full export would need a new admin-only Vault
endpoint that releases every record key, which Rune does not have by design.

  --out FILE       the JSON-lines file to write (mode 0600: it holds plaintext memories)
  --query TEXT     a query (repeatable)
  --queries FILE   one query per line
  --k N            memories per query (default 10)
  --json           print a summary as JSON
${CONFIG_HELP}

Examples:
  rune export --out payments.jsonl --query "payment retries" --query "ledger database"
  rune export --out all-topics.jsonl --queries topics.txt --k 10`;

interface ImportSummary {
  imported: number;
  skippedBlank: number;
  resumedAfterLine: number;
}

export async function importMemories(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('import', argv, {
    restart: { type: 'boolean' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${IMPORT_HELP}\n`);
    return ExitCode.OK;
  }
  const [file, extra] = parsed.positionals;
  if (file === undefined || extra !== undefined) throw usageError('import: name exactly one FILE');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err: unknown) {
    throw new CliError('IMPORT_FILE_UNREADABLE', `cannot read ${file}`, {
      hint: 'check the path',
      cause: err,
    });
  }
  const statePath = stateFileFor(file);
  const state = flag(parsed, 'restart') ? undefined : await readImportState(statePath);
  if (state !== undefined) {
    const isSamePrefix =
      state.byteOffset <= bytes.byteLength &&
      sha256Hex(bytes.subarray(0, state.byteOffset)) === state.prefixSha256;
    if (!isSamePrefix) {
      throw new CliError(
        'IMPORT_STATE_MISMATCH',
        `${file} changed since the saved position (line ${state.line})`,
        {
          hint: `restore the file, or run with --restart to import from the first line (delete ${statePath} to forget it)`,
        },
      );
    }
  }
  const lines = splitLines(bytes);
  const summary: ImportSummary = { imported: 0, skippedBlank: 0, resumedAfterLine: state?.line ?? 0 };
  const { client } = await connectMember(stringOpt(parsed, 'config'), env);
  const progress = startProgress({ label: 'importing', total: lines.length, stream: process.stderr });
  try {
    for (const { lineNo, start, end } of lines) {
      if (lineNo <= summary.resumedAfterLine) continue;
      const text = bytes.subarray(start, end).toString('utf8').trim();
      if (text === '') summary.skippedBlank++;
      else {
        await captureLine(client, text, `${file}:${lineNo}`);
        summary.imported++;
      }
      // The position moves only after the index acknowledged the memory (capture returned).
      const byteOffset = lineEndWithNewline(bytes, end);
      await writeImportState(statePath, {
        version: 1,
        line: lineNo,
        byteOffset,
        prefixSha256: sha256Hex(bytes.subarray(0, byteOffset)),
      });
      progress.update(lineNo);
    }
  } finally {
    progress.finish();
    client.close();
  }
  await clearImportState(statePath);
  if (flag(parsed, 'json')) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const resumed = summary.resumedAfterLine > 0 ? ` (resumed after line ${summary.resumedAfterLine})` : '';
    process.stdout.write(`imported ${summary.imported} memories from ${file}${resumed}\n`);
  }
  return ExitCode.OK;
}

function splitLines(bytes: Buffer): { lineNo: number; start: number; end: number }[] {
  const lines: { lineNo: number; start: number; end: number }[] = [];
  let start = 0;
  while (start < bytes.byteLength) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.byteLength : nl;
    lines.push({ lineNo: lines.length + 1, start, end });
    start = end + 1;
  }
  return lines;
}

function lineEndWithNewline(bytes: Buffer, end: number): number {
  return end < bytes.byteLength ? end + 1 : end;
}

async function captureLine(client: RuneClient, text: string, where: string): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new CliError('IMPORT_LINE_INVALID', `${where} is not JSON`, {
      hint: 'fix that line and run the same command again: it resumes there',
      cause: err,
    });
  }
  const line = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const { insight, context, title, tags, domain, status, author, createdAt } = line;
  const candidate = Object.fromEntries(
    Object.entries({ insight, context, title, tags, domain, status, author, createdAt }).filter(
      ([, v]) => v !== undefined,
    ),
  );
  const parsed = recordPayloadSchema.safeParse({ v: 1, createdAt: Date.now(), ...candidate });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      'IMPORT_LINE_INVALID',
      `${where}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is not a memory'}`.trim(),
      { hint: 'fix that line and run the same command again: it resumes there' },
    );
  }
  const record: RecordPayload = parsed.data;
  const vector = await client.embedder.embedDocument(record.insight);
  await client.captureVector(vector, record);
}

export async function exportMemories(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('export', argv, {
    out: { type: 'string' },
    query: { type: 'string', multiple: true },
    queries: { type: 'string' },
    k: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${EXPORT_HELP}\n`);
    return ExitCode.OK;
  }
  const out = requiredOpt(parsed, 'export', 'out');
  const k = intOpt(parsed, 'export', 'k', 10, 1, 100);
  const queries = [...listOpt(parsed, 'query')];
  const queriesFile = stringOpt(parsed, 'queries');
  if (queriesFile !== undefined) {
    const text = await readFile(queriesFile, 'utf8');
    queries.push(
      ...text
        .split(/\r?\n/)
        .map((q) => q.trim())
        .filter((q) => q !== ''),
    );
  }
  if (queries.length === 0) throw usageError('export: give --query TEXT or --queries FILE');
  const { client } = await connectMember(stringOpt(parsed, 'config'), env);
  const seen = new Map<string, string>();
  const progress = startProgress({ label: 'exporting', total: queries.length, stream: process.stderr });
  try {
    for (const [i, query] of queries.entries()) {
      const { hits } = await client.recall(query, { k });
      for (const hit of hits) {
        if (!seen.has(hit.recordId)) {
          const record: Partial<RecordPayload> = { ...hit.record };
          delete record.v;
          seen.set(hit.recordId, JSON.stringify({ recordId: hit.recordId, ...record }));
        }
      }
      progress.update(i + 1);
    }
  } finally {
    progress.finish();
    client.close();
  }
  const body = [...seen.values()].map((line) => `${line}\n`).join('');
  // SECURITY: plaintext memories: owner-only, like the config.
  await writeFileAtomic(out, Buffer.from(body, 'utf8'));
  if (flag(parsed, 'json')) {
    process.stdout.write(`${JSON.stringify({ exported: seen.size, queries: queries.length, out })}\n`);
  } else process.stdout.write(`exported ${seen.size} memories from ${queries.length} queries to ${out}\n`);
  return ExitCode.OK;
}
