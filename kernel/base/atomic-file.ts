/**
 * Crash-safe file replacement (control thread): the new content goes to a temp file in the same
 * folder, is fsynced, renamed over the target (atomic on POSIX), and the folder is fsynced so the
 * rename itself survives a power cut. A reader — or a process killed at any instant — sees either the
 * old file or the new one, never a torn or empty one. Temp files left by a killed writer are named
 * `.<name>.<pid>.<n>.tmp` and removed by `removeStaleTemps`.
 */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

let sequence = 0;

export const TEMP_SUFFIX = '.tmp';

/** fsync a directory (makes renames and new names in it durable). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface AtomicWriteOptions {
  /** Runs after the new content is durable in the temp file and before the rename (e.g. keep a backup of the old file). */
  beforeRename?: () => Promise<void>;
}

/** Replace `file` with `data` atomically and durably. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${++sequence}${TEMP_SUFFIX}`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await options.beforeRename?.();
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await fsyncDir(dir);
}

/** Remove temp files a killed writer left in `dir` (call once at start, before any write). Returns how many. */
export async function removeStaleTemps(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (name.startsWith('.') && name.endsWith(TEMP_SUFFIX)) {
      await unlink(path.join(dir, name)).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}
