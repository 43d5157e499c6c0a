/**
 * The engine's disk caches (control thread): node_modules/.cache/chronus/<kind>/, or
 * $CHRONUS_CACHE_DIR (plugin bundles) and $CHRONUS_CACHE_DIR/<kind> (the others). The kernel keeps
 * plugin bundles, trial passes and V8 code caches there; the SDK keeps plugins' derived data.
 *
 * An entry is one file, written under a temporary name and renamed (a reader never sees half of
 * one); the least recently written go beyond a count. A sealed entry holds its key and a SHA-256 of
 * its data before the data, so a damaged, truncated or foreign file reads as no entry. A failure to
 * read or write only means the work is done again: any of these folders can be deleted at any time.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type CacheKind = 'plugins' | 'trials' | 'code' | 'derived';

/** This file sits one level below the package root, as the prebuilt bundles in dist/ do. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function cacheDir(kind: CacheKind): string {
  const base = process.env.CHRONUS_CACHE_DIR;
  if (base) return kind === 'plugins' ? base : path.join(base, kind);
  return path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'chronus', kind);
}

/**
 * Once `dir` holds more than `max` entries (`extension`), removes the least recently written down to
 * three quarters of `max`. Finding their ages stats every entry (≈ 5–10 ms for 512), and a write
 * that prunes may stand in a reload's path: with the slack, one write in `max / 4` does it.
 */
export function pruneOldest(dir: string, max: number, extension: string): void {
  const names = readdirSync(dir).filter((n) => n.endsWith(extension));
  if (names.length <= max) return;
  const byAge = names.map((n) => ({ file: path.join(dir, n), at: statSync(path.join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  byAge.sort((a, b) => a.at - b.at);
  for (const { file } of byAge.slice(0, names.length - Math.floor((max * 3) / 4))) rmSync(file, { force: true });
}

/** Writes the entry `file` by rename and keeps at most `max` entries of its kind (its extension) beside it (pruneOldest); never throws. */
export function writeCacheFile(file: string, data: string | Uint8Array, max: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, file);
    pruneOldest(path.dirname(file), max, path.extname(file));
  } catch {
    // A read-only install or a full disk: the work is done again next time.
    try {
      rmSync(tmp, { force: true });
    } catch {
      // No folder to hold it (its place taken by a file): no temporary file either.
    }
  }
}

// node:crypto is loaded on first use: the audio thread's bundle holds the SDK too and never hashes
// (loading it there cost ≈ 6 ms of the thread's start).
const requireBuiltin = createRequire(import.meta.url);
let crypto: typeof import('node:crypto') | undefined;

/** The SHA-256 of the pieces one after another. */
export function sha256(...pieces: (string | Uint8Array)[]): Buffer {
  crypto ??= requireBuiltin('node:crypto') as typeof import('node:crypto');
  const hash = crypto.createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  return hash.digest();
}

const HASH_BYTES = 32;

/** The data of the sealed entry `file` if it is whole and holds `key` (32 bytes), else undefined. */
export function readSealed(file: string, key: Uint8Array): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.length < 2 * HASH_BYTES || !bytes.subarray(0, HASH_BYTES).equals(key)) return undefined;
  const data = bytes.subarray(2 * HASH_BYTES);
  return bytes.subarray(HASH_BYTES, 2 * HASH_BYTES).equals(sha256(data)) ? data : undefined;
}

/** Writes `data` as the sealed entry `file` under `key` (see writeCacheFile); never throws. */
export function writeSealed(file: string, key: Uint8Array, data: Uint8Array, max: number): void {
  writeCacheFile(file, Buffer.concat([key, sha256(data), data]), max);
}
