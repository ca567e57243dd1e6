import type { UiStream } from './tty.js';

export interface Progress {
  /** Sets how many of `total` units are done; redraws at most every `minRedrawMs`. */
  update(done: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

export interface ProgressOptions {
  readonly label: string;
  /** Units in all; 0 or less draws a counter without a bar. */
  readonly total: number;
  readonly stream: UiStream;
  /** Monotonic ms. */
  readonly now?: () => number;
  /** No bar until the work has run this long, so quick work prints nothing (default 1000 ms). */
  readonly delayMs?: number;
  readonly minRedrawMs?: number;
}

const NO_PROGRESS: Progress = { update: () => undefined, finish: () => undefined };

/**
 * A one-line progress bar on stderr, only when it is a terminal: pipes and log files get nothing,
 * so machine-read output stays clean. Appears after `delayMs` so sub-second work stays silent.
 */
export function startProgress(options: ProgressOptions): Progress {
  const { stream, label, total } = options;
  if (stream.isTTY !== true) return NO_PROGRESS;
  const now = options.now ?? (() => performance.now());
  const startedMs = now();
  const delayMs = options.delayMs ?? 1000;
  const minRedrawMs = options.minRedrawMs ?? 100;
  let lastDrawMs = -Infinity;
  let isDrawn = false;
  let done = 0;

  const draw = () => {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 30));
    let line: string;
    if (total > 0) {
      const ratio = Math.min(1, done / total);
      const filled = Math.round(ratio * width);
      line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${(ratio * 100).toFixed(0)}%`;
    } else {
      line = `${label} ${done}`;
    }
    stream.write(`\r${line}\u001b[K`);
    isDrawn = true;
    lastDrawMs = now();
  };

  return {
    update(value: number) {
      done = value;
      const t = now();
      if (t - startedMs < delayMs || t - lastDrawMs < minRedrawMs) return;
      draw();
    },
    finish() {
      if (!isDrawn) return;
      draw();
      stream.write('\n');
    },
  };
}
