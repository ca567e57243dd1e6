import type { Check } from '../onboarding/checks.js';
import { type Palette } from './tty.js';

const MARK = { ok: '✓', warn: '!', fail: '✗', skip: '-' } as const;

/** Checks as lines for a person: a mark, the message, and under each problem its fix. */
export function renderChecks(checks: readonly Check[], colours: Palette): string {
  const lines: string[] = [];
  for (const check of checks) {
    const paint =
      check.status === 'ok'
        ? colours.ok
        : check.status === 'fail'
          ? colours.bad
          : check.status === 'warn'
            ? colours.warn
            : colours.dim;
    const code = check.code === undefined ? '' : ` [${check.code}]`;
    lines.push(`${paint(MARK[check.status])} ${check.id.padEnd(16)} ${check.message}${code}`);
    if (check.fix !== undefined) lines.push(`  ${colours.dim('fix:')} ${check.fix}`);
  }
  return `${lines.join('\n')}\n`;
}
