import { type Sample, summarise } from './stats.js';

/** Operations in the last this-many ms make the live figures. */
export const LIVE_WINDOW_MS = 5000;

export interface LiveSnapshot {
  readonly elapsedMs: number;
  readonly totalMs: number;
  readonly users: number;
  readonly operations: number;
  /** Recent samples, oldest first (at least the last LIVE_WINDOW_MS). */
  readonly recent: readonly Sample[];
}

export interface LiveViewOptions {
  readonly write: (text: string) => void;
  /** One line redrawn in place; otherwise plain lines. */
  readonly isTty: boolean;
  /** ANSI colour (TTY only, and never with NO_COLOR). */
  readonly color: boolean;
  readonly columns?: number;
}

/** Colour only on a terminal, and never with NO_COLOR (any non-empty value) or TERM=dumb. */
export function shouldColor(isTty: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTty && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
}

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(0) : '-';
}

/** The one line: time, users, rate, p50/p95/p99, errors and 429s over the last window. */
export function formatLiveLine(snap: LiveSnapshot, color: boolean): string {
  const from = snap.elapsedMs - LIVE_WINDOW_MS;
  const window = snap.recent.filter((s) => s.startMs >= from);
  const stats = summarise(window);
  const seconds = Math.min(LIVE_WINDOW_MS, Math.max(1, snap.elapsedMs)) / 1000;
  const paint = (code: string, text: string) => (color ? `${code}${text}${RESET}` : text);
  const errors = `errors ${stats.errors} (${(stats.errorRate * 100).toFixed(1)} %)`;
  const limited = `429 ${stats.rateLimited}`;
  return [
    `[${clock(snap.elapsedMs)}/${clock(snap.totalMs)}]`,
    `VUs ${snap.users}`,
    `${(stats.count / seconds).toFixed(1)} op/s`,
    `p50 ${ms(stats.p50Ms)} p95 ${ms(stats.p95Ms)} p99 ${ms(stats.p99Ms)} ms`,
    stats.errors > 0 ? paint(RED, errors) : paint(GREEN, errors),
    stats.rateLimited > 0 ? paint(YELLOW, limited) : limited,
    `ops ${snap.operations}`,
  ].join(' | ');
}

/** Redraws one status line on a TTY every second; prints a plain line every `plainEveryMs` otherwise. */
export class LiveView {
  readonly #options: LiveViewOptions;
  #timer: NodeJS.Timeout | undefined;
  #lastPlainMs = 0;

  constructor(options: LiveViewOptions) {
    this.#options = options;
  }

  start(snapshot: () => LiveSnapshot, plainEveryMs: number): void {
    const tick = () => {
      const snap = snapshot();
      if (this.#options.isTty) {
        const line = formatLiveLine(snap, this.#options.color);
        this.#options.write(`\r\x1b[2K${this.#fit(line)}`);
      } else if (snap.elapsedMs - this.#lastPlainMs >= plainEveryMs) {
        this.#lastPlainMs = snap.elapsedMs;
        this.#options.write(`${formatLiveLine(snap, false)}\n`);
      }
    };
    this.#timer = setInterval(tick, this.#options.isTty ? 1000 : Math.min(1000, plainEveryMs));
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#options.isTty) this.#options.write('\r\x1b[2K');
  }

  /** Cuts the line to the terminal width (ANSI codes do not take columns). */
  #fit(line: string): string {
    const columns = this.#options.columns;
    if (columns === undefined || this.#options.color) return line;
    return line.length > columns - 1 ? line.slice(0, columns - 1) : line;
  }
}
