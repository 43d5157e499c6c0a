/**
 * Data a control half derives from its files at every start — the sampler's decoded samples with
 * their octaves — kept on disk by the hash of everything it is made from, so an unchanged file is
 * not worked out again (control thread; the sampler's kit cost a start ≈ 40 ms of a core).
 *
 * The key is a SHA-256 of the parts the caller names (the file's bytes, the sample rate, the text of
 * the functions that compute it) and of the engine build (`CHRONUS_SOURCES`, which bin/chronus.mjs
 * sets for the prebuilt dist/): SDK code the derivation calls is part of that build. Without a build
 * stamp (the sources under tsx, being edited) nothing is read or written.
 *
 * Entries are sealed files in node_modules/.cache/chronus/derived/ (or $CHRONUS_CACHE_DIR/derived),
 * named by the key (cache-files.ts): a damaged, truncated or foreign file reads as no entry, and a
 * failure to read or write only means the data is worked out again.
 */
import path from 'node:path';
import { cacheDir, readSealed, sha256, writeSealed } from './cache-files.ts';

/** Plenty for a few kits of a few versions; the least recently written go beyond it. */
const MAX_ENTRIES = 256;

const entryFile = (key: string): string => path.join(cacheDir('derived'), `${key}.bin`);

/** The key of data made from `parts` under this engine build, or null when nothing may be cached (no build stamp). */
export async function derivedKey(parts: readonly (string | Uint8Array)[]): Promise<string | null> {
  const build = process.env.CHRONUS_SOURCES;
  if (!build) return null;
  // Each part's length first, so no two lists of parts hash the same bytes.
  const framed = parts.flatMap((part) => [`${typeof part === 'string' ? 's' : 'b'}${part.length}\0`, part]);
  return sha256(`${build}\0${parts.length}\0`, ...framed).toString('hex');
}

/** The data kept under `key`, or null (none, or a file that is not whole and ours). */
export async function readDerived(key: string | null): Promise<Uint8Array | null> {
  if (key === null) return null;
  return readSealed(entryFile(key), Buffer.from(key, 'hex')) ?? null;
}

/** Keeps `data` under `key` (nothing when `key` is null); never throws. */
export async function writeDerived(key: string | null, data: Uint8Array): Promise<void> {
  if (key === null) return;
  writeSealed(entryFile(key), Buffer.from(key, 'hex'), data, MAX_ENTRIES);
}
