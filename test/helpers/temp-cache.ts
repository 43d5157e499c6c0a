/** A temp folder whose `cache/` is the engine's cache folder (CHRONUS_CACHE_DIR) for one test; both restored/removed after. */
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempCache(t: TestContext, name: string): { dir: string; cache: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `chronus-${name}-`));
  const cache = path.join(dir, 'cache');
  const saved = process.env.CHRONUS_CACHE_DIR;
  process.env.CHRONUS_CACHE_DIR = cache;
  t.after(() => {
    if (saved === undefined) delete process.env.CHRONUS_CACHE_DIR;
    else process.env.CHRONUS_CACHE_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, cache };
}
