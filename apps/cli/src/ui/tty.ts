/** A stream as the UI helpers see it: enough of a WriteStream to tell a terminal from a pipe. */
export interface UiStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

/** Colour only on a terminal and never when NO_COLOR is set to anything (https://no-color.org). */
export function isColourEnabled(stream: UiStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export interface Palette {
  readonly ok: (text: string) => string;
  readonly bad: (text: string) => string;
  readonly warn: (text: string) => string;
  readonly dim: (text: string) => string;
}

const sgr = (open: number) => (text: string) => `\u001b[${open}m${text}\u001b[0m`;
const plain = (text: string) => text;

export function palette(isColour: boolean): Palette {
  if (!isColour) return { ok: plain, bad: plain, warn: plain, dim: plain };
  return { ok: sgr(32), bad: sgr(31), warn: sgr(33), dim: sgr(2) };
}
