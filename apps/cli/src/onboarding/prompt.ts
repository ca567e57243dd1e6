import { createInterface } from 'node:readline';

export interface Prompter {
  /** Asks on stderr; an empty answer gives `fallback`; undefined at end of input. */
  ask(question: string, fallback?: string): Promise<string | undefined>;
  close(): void;
}

/**
 * Questions on a terminal. Lines are read through one buffered iterator for the whole session, so
 * answers typed (or pasted) ahead are not lost between questions.
 */
export function openPrompter(): Prompter {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(question, fallback) {
      process.stderr.write(`${question}${fallback === undefined ? '' : ` [${fallback}]`}: `);
      const next = await lines.next();
      if (next.done === true) return undefined;
      const answer = next.value.trim();
      return answer === '' ? fallback : answer;
    },
    close: () => {
      rl.close();
    },
  };
}
