import { mkdir, readdir } from 'node:fs/promises';
import { CliError } from '../cli-error.js';

/** The files a run writes into its --out folder. */
export const REPORT_FILES = ['report.html', 'requests.csv', 'summary.json'] as const;

/** Creates DIR; refuses one that already holds a report, so a run never overwrites another. */
export async function prepareOutDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const present = await readdir(dir);
    const clash = REPORT_FILES.filter((f) => present.includes(f));
    if (clash.length > 0) {
      throw new CliError(
        'LOADTEST_OUT_EXISTS',
        `${dir} already holds a load-test report (${clash.join(', ')})`,
        {
          hint: 'choose another --out folder, or move the old report away',
        },
      );
    }
  } catch (err: unknown) {
    if (err instanceof CliError) throw err;
    throw new CliError('LOADTEST_OUT_UNWRITABLE', `cannot create the report folder ${dir}`, {
      hint: 'choose an --out folder you can write to',
      cause: err,
    });
  }
}
