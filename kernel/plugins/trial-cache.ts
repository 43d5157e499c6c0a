/**
 * Verdicts of trials that do not change between starts (control thread). A plugin
 * version whose code, spec and starting values are byte for byte those of a version that passed its
 * evaluation or trial before, under the same engine build, passes again: the start and the render
 * take the recorded pass instead of playing the trial again (≈ 0.1 s of a core per plugin). Only
 * passes are recorded, and only for what repeats: a fresh load with no state handed over and nothing
 * shared by a control half (a hot reload hands state over and is always tried).
 *
 * The engine build is `CHRONUS_SOURCES` (bin/chronus.mjs sets it to the stamp of the prebuilt dist/);
 * without it (the sources under tsx, being edited) nothing is recorded or taken. Entries are small
 * files in node_modules/.cache/chronus/trials/ (or $CHRONUS_CACHE_DIR/trials), written by rename;
 * any failure to read or write only means the trial runs. The folder can be deleted at any time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, writeCacheFile } from '../../plugin-sdk/cache-files.ts';

/** Plenty for every plugin a user has, in a few versions and configurations each. */
const MAX_ENTRIES = 512;

/**
 * The entry's file for a request (any structured-clone-free JSON value), or null when nothing may be
 * cached: no engine build stamp.
 */
function entryFile(kind: string, request: unknown): string | null {
  const build = process.env.CHRONUS_SOURCES;
  if (!build) return null;
  const key = createHash('sha256').update(`${kind}\0${build}\0`).update(JSON.stringify(request)).digest('hex');
  return path.join(cacheDir('trials'), `${key.slice(0, 40)}.json`);
}

/** The last text hashed: a version's evaluation and its trial ask for the same one in a row. */
let lastHashed: { code: string; hash: string } | null = null;

/** What stands for a bundle's text in a request (hashing a request with the text in it cost ≈ 10 ms a plugin). */
export function codeHash(code: string): string {
  if (lastHashed?.code !== code) lastHashed = { code, hash: createHash('sha256').update(code).digest('hex') };
  return lastHashed.hash;
}

/** The recorded pass for this request, or undefined. */
export function passedBefore<T>(kind: string, request: unknown): T | undefined {
  const file = entryFile(kind, request);
  if (!file) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { passed: T }).passed;
  } catch {
    return undefined;
  }
}

/** Records a pass. */
export function recordPass(kind: string, request: unknown, result: unknown): void {
  const file = entryFile(kind, request);
  if (!file) return;
  writeCacheFile(file, JSON.stringify({ passed: result ?? null }), MAX_ENTRIES);
}
