import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskUsage {
  /** Sum of file sizes. */
  readonly bytes: number;
  /** Blocks the filesystem allocated (st_blocks × 512). */
  readonly allocatedBytes: number;
  readonly files: number;
}

/** Bytes of every regular file under `dir`, recursively (symlinks are not followed). */
export async function diskUsage(dir: string): Promise<DiskUsage> {
  let bytes = 0;
  let allocatedBytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const st = await lstat(join(entry.parentPath, entry.name));
    bytes += st.size;
    allocatedBytes += st.blocks * 512;
    files++;
  }
  return { bytes, allocatedBytes, files };
}
