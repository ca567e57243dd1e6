import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { PHASES, type RequestRecord } from './request-record.js';

export const CSV_COLUMNS = [
  'timestamp',
  'elapsed_ms',
  'vu',
  'stage',
  'op',
  'ok',
  'outcome',
  'status',
  'code',
  'latency_ms',
  ...PHASES.map((p) => `${p}_ms`),
  'hits',
] as const;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled). A leading
 * =, +, - or @ is prefixed with ' so a spreadsheet never runs a cell as a formula.
 */
export function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(fields: readonly (string | number | boolean | undefined)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

const round = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 1000) / 1000);

export function recordLine(r: RequestRecord): string {
  return csvLine([
    new Date(r.timestampMs).toISOString(),
    round(r.startMs),
    r.vu,
    r.stage,
    r.op,
    r.outcome === 'ok',
    r.outcome,
    r.status,
    r.code,
    round(r.latencyMs),
    ...PHASES.map((p) => round(r.phases?.[p])),
    r.hits,
  ]);
}

/** requests.csv, written as the run goes so a crash keeps what was measured. */
export class CsvWriter {
  readonly #out: WriteStream;
  #rows = 0;
  #error: Error | undefined;

  private constructor(out: WriteStream) {
    this.#out = out;
    // A full disk must not crash the run: the error is kept and thrown by close().
    out.on('error', (err) => (this.#error ??= err));
  }

  static async open(path: string): Promise<CsvWriter> {
    const out = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    await once(out, 'open');
    out.write(csvLine(CSV_COLUMNS));
    return new CsvWriter(out);
  }

  get rows(): number {
    return this.#rows;
  }

  write(record: RequestRecord): void {
    if (this.#error !== undefined) return;
    this.#rows++;
    this.#out.write(recordLine(record));
  }

  /** Flushes and closes; a second call does nothing. */
  async close(): Promise<void> {
    if (this.#out.closed || this.#out.writableEnded) {
      if (this.#error !== undefined) throw this.#error;
      return;
    }
    if (this.#error === undefined) {
      const done = new Promise<void>((resolve) => {
        this.#out.once('finish', resolve);
        this.#out.once('error', () => {
          resolve();
        });
      });
      this.#out.end();
      await done;
    }
    if (this.#error !== undefined) throw this.#error;
  }
}
