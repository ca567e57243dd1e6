import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@rune/runtime';

/** Writes a secret file atomically with mode 0600 (its directory 0700 when created). */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, Buffer.from(text, 'utf8'));
}
