import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, usageError } from '../cli-error.js';

export const BENCH_HELP = `rune bench — run one of Rune's benchmarks (from a source checkout)

Usage: rune bench engine|e2e|quality [BENCH OPTIONS]

  engine    the encrypted vector engine alone (docs/engine.md; --quick for a 30-second run)
  e2e       capture and recall through the real Vault and index (decision 0005)
  quality   retrieval quality of the default embedder through the encrypted path (decision 0008)

Every benchmark takes --json FILE for its figures; other options are the benchmark's own
(npm run bench:<name> -- --help). Figures print as a table; a missed target never fails the run.

Example:
  rune bench quality --json quality.json`;

const BENCHES = new Set(['engine', 'e2e', 'quality']);

/** The checkout's root: bench/ sits beside apps/ there, and is not part of an installed package. */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export async function bench(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${BENCH_HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!BENCHES.has(name))
    throw usageError(`bench: unknown benchmark "${name}"`, 'use engine, e2e or quality');
  const script = join(REPO_ROOT, 'bench', name, 'main.ts');
  try {
    await access(script);
  } catch {
    throw new CliError('BENCH_UNAVAILABLE', `bench: ${script} is not here`, {
      hint: 'benchmarks run from a source checkout of Rune (git clone, npm ci, then rune bench …)',
    });
  }
  // The same tsx loader the rune binary uses; the benchmark owns stdout, stderr and the exit code.
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...rest], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}
